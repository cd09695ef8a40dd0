import logging
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from ssdlite import video
from ssdlite.inference.annotate import infer_video
from ssdlite.inference.predictor import Detections
from ssdlite.video import ASSUMED_FPS, open_video_writer, read_video


def frames(count: int, width: int, height: int) -> list[np.ndarray]:
    """Frames of distinct flat greys, so each decoded frame can be told apart."""
    return [np.full((height, width, 3), 20 * index, np.uint8) for index in range(count)]


def decode(path) -> tuple[str, list[np.ndarray], Fraction]:
    """(codec name, frames as BGR arrays, frame rate) of a video file, through PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        images = [frame.to_ndarray(format="bgr24") for frame in container.decode(stream)]
        return stream.codec_context.name, images, stream.average_rate


@pytest.mark.parametrize("fps, rate", [(5, Fraction(5)), (30000 / 1001, Fraction(30000, 1001))])
def test_h264_mp4_keeps_frames_size_and_rate(tmp_path, fps, rate):
    writer = open_video_writer(tmp_path / "out.mp4", fps, (160, 90))
    for frame in frames(10, 160, 90):
        writer.write(frame)
    writer.release()
    codec, decoded, decoded_rate = decode(tmp_path / "out.mp4")
    assert codec == "h264" and len(decoded) == 10 and decoded_rate == rate
    assert all(image.shape == (90, 160, 3) and abs(image.mean() - 20 * i) < 4 for i, image in enumerate(decoded))


@pytest.mark.parametrize("pyav", [True, False])
def test_the_writer_makes_the_folders_of_its_file(tmp_path, monkeypatch, pyav):
    if not pyav:
        monkeypatch.setattr(video, "av", None)  # cv2's mp4v writer
    path = tmp_path / "runs" / "clip" / "out.mp4"
    writer = open_video_writer(path, 5, (160, 90))
    for frame in frames(3, 160, 90):
        writer.write(frame)
    writer.release()
    assert len(decode(path)[1]) == 3


def test_an_odd_side_keeps_its_size_in_h264_4_4_4_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        writer = open_video_writer(tmp_path / "out.mp4", 5, (161, 91))
    for frame in frames(3, 161, 91):
        writer.write(frame)
    writer.release()
    assert "161x91 has an odd side, so H.264 is in 4:4:4, which browsers may not play" in caplog.text
    codec, decoded, _ = decode(tmp_path / "out.mp4")
    assert codec == "h264" and len(decoded) == 3 and decoded[0].shape == (91, 161, 3)


def test_without_pyav_writes_mp4v_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(video, "av", None)
    with caplog.at_level(logging.WARNING):
        writer = open_video_writer(tmp_path / "out.mp4", 5, (160, 90))
    assert "writing mp4v (MPEG-4 Part 2), which browsers and notebooks may not play: PyAV is not installed" in caplog.text
    for frame in frames(10, 160, 90):
        writer.write(frame)
    writer.release()
    codec, decoded, rate = decode(tmp_path / "out.mp4")
    assert codec == "mpeg4" and len(decoded) == 10 and decoded[0].shape == (90, 160, 3) and rate == 5


def test_without_an_h264_encoder_writes_mp4v_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(video, "H264", "no-such-encoder")
    with caplog.at_level(logging.WARNING):
        open_video_writer(tmp_path / "out.mp4", 5, (160, 90)).release()
    assert "may not play: this FFmpeg build has no H.264 encoder" in caplog.text


class NoDetections:
    """A stand-in for `Detector`: finds nothing, so the annotated video is the input."""

    def predict(self, frame, bgr, **predict_args):
        return [Detections(np.zeros((0, 4), np.float32), np.zeros(0), np.zeros(0, int), [], "frame", frame.shape[:2])]


def test_infer_video_writes_h264_with_the_input_frames_size_and_rate(tmp_path):
    source = tmp_path / "dashcam.mp4"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"mp4v"), 7, (160, 96))
    for frame in frames(9, 160, 96):
        writer.write(frame)
    writer.release()
    out = infer_video(NoDetections(), source, tmp_path / "out")
    codec, decoded, rate = decode(out)
    assert codec == "h264" and len(decoded) == 9 and decoded[0].shape == (96, 160, 3) and rate == 7


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
    writer = open_video_writer(tmp_path / "out.mp4", 12, (64, 48))
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

    monkeypatch.setattr(video.cv2, "VideoCapture", NoFrameRate)
    with caplog.at_level(logging.WARNING):
        opened = read_video(tmp_path / "clip.mp4")
    assert opened.fps == ASSUMED_FPS == 25 and not opened.fps_known
    assert f"{tmp_path / 'clip.mp4'} does not give its frame rate: assuming 25 fps" in caplog.text
