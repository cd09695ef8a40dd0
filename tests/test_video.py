import logging

import cv2
import numpy as np
import pytest

import ssdlite.video
from ssdlite.video import ASSUMED_FPS, read_video, video_writer


def write_frames(path, num_frames: int, fourcc: str = "mp4v", fps: float = 10) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (64, 48))
    for index in range(num_frames):
        writer.write(np.full((48, 64, 3), 20 * index, np.uint8))
    writer.release()


def test_frames_rate_and_size(tmp_path):
    write_frames(tmp_path / "clip.mp4", 5)
    video = read_video(tmp_path / "clip.mp4")
    assert (video.fps, video.fps_known, video.image_size, video.num_frames) == (10, True, (48, 64), 5)
    assert len(list(video.frames)) == 5


def test_written_video_reads_back(tmp_path):
    writer = video_writer(tmp_path / "out.mp4", 12, (48, 64))
    for _ in range(3):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    assert len(list(read_video(tmp_path / "out.mp4").frames)) == 3


def test_a_missing_file_or_not_a_video_is_named(tmp_path):
    with pytest.raises(ValueError, match=f"cannot read video {tmp_path / 'none.mp4'}: no such file"):
        read_video(tmp_path / "none.mp4")
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(ValueError, match=f"cannot read video {tmp_path / 'notes.mp4'}: not a video file"):
        read_video(tmp_path / "notes.mp4")


def test_a_clip_with_no_frames_is_named(tmp_path):
    write_frames(tmp_path / "empty.avi", 0, fourcc="MJPG")
    with pytest.raises(ValueError, match=f"cannot read video {tmp_path / 'empty.avi'}: it has no frames"):
        read_video(tmp_path / "empty.avi")


def test_an_unknown_frame_rate_is_assumed_and_said(tmp_path, monkeypatch, caplog):
    write_frames(tmp_path / "clip.mp4", 2)
    real = cv2.VideoCapture

    class NoFrameRate:
        def __init__(self, path):
            self.capture = real(path)

        def get(self, prop):
            return 0.0 if prop == cv2.CAP_PROP_FPS else self.capture.get(prop)

        def __getattr__(self, name):
            return getattr(self.capture, name)

    monkeypatch.setattr(ssdlite.video.cv2, "VideoCapture", NoFrameRate)
    with caplog.at_level(logging.WARNING):
        video = read_video(tmp_path / "clip.mp4")
    assert video.fps == ASSUMED_FPS == 25 and not video.fps_known
    assert f"{tmp_path / 'clip.mp4'} does not give its frame rate: assuming 25 fps" in caplog.text
