import json
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
    summary = infer_video(NoDetections(), read_video(source), tmp_path / "out")
    codec, decoded, rate = decode(summary["output"])
    assert codec == "h264" and len(decoded) == 9 and decoded[0].shape == (96, 160, 3) and rate == 7
    assert summary | {"output": None} == {
        "source": str(source),
        "output": None,
        "fps": 7,
        "every": 1,
        "frames_read": 9,
        "frames_expected": 9,
        "stopped_at_frame": None,
        "unreadable_frames": [],
    }
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary


def write_h264(path, num_frames: int) -> None:
    """An MP4 as our writer makes it (index at the front), frames of random noise so each is many bytes."""
    writer = open_video_writer(path, 10, (64, 48))
    rng = np.random.default_rng(0)
    for _ in range(num_frames):
        writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    writer.release()


def test_a_video_cut_short_is_read_as_far_as_it_goes_and_said_so(tmp_path, caplog):
    write_h264(tmp_path / "full.mp4", 48)
    data = (tmp_path / "full.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: int(len(data) * 0.6)])
    with caplog.at_level(logging.WARNING):
        opened = read_video(tmp_path / "cut.mp4")
        num_read = len(list(opened.frames))
    tally = opened.tally
    assert opened.num_frames == tally.expected == 48 and 20 <= num_read == tally.read < 40
    assert tally.stopped_at is not None and tally.read <= tally.stopped_at <= tally.read + len(tally.unreadable)
    assert tally.last == tally.stopped_at - 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "ssdlite.video"]
    assert warnings == [
        f"{tmp_path / 'cut.mp4'}: read {num_read} of 48 frames (its header's count); reading stopped at frame "
        f"{tally.stopped_at}: the file is cut short or damaged from there"
        + (f"; passed over {len(tally.unreadable)} frame" if tally.unreadable else "")
        + ("s" if len(tally.unreadable) > 1 else "")
        + (f" that failed to decode ({', '.join(map(str, tally.unreadable))})" if tally.unreadable else "")
        + "; re-copy the original file for all of it"
    ]


class FailingFrames:
    """cv2.VideoCapture whose reads of the given frames (numbered from 0) fail."""

    open_capture = cv2.VideoCapture  # the real one, before a test patches it

    def __init__(self, path, failing: set[int]):
        self.capture, self.failing, self.number = self.open_capture(path), failing, 0

    def read(self):
        ok, frame = self.capture.read()
        self.number += 1
        return (False, None) if self.number - 1 in self.failing else (ok, frame)

    def __getattr__(self, name):
        return getattr(self.capture, name)


def test_frames_that_fail_to_decode_mid_clip_are_passed_over_and_said(tmp_path, monkeypatch, caplog):
    write_frames(tmp_path / "clip.mp4", 10)
    monkeypatch.setattr(video.cv2, "VideoCapture", lambda path: FailingFrames(path, {3, 4, 7}))
    with caplog.at_level(logging.WARNING):
        opened = read_video(tmp_path / "clip.mp4")
        greys = [round(frame.mean() / 20) for frame in opened.frames]  # frame i is grey 20 i (mp4v: about)
    assert greys == [0, 1, 2, 5, 6, 8, 9]
    assert opened.tally.summary() == {
        "frames_read": 7,
        "frames_expected": 10,
        "stopped_at_frame": None,
        "unreadable_frames": [3, 4, 7],
    }
    said = (
        f"{tmp_path / 'clip.mp4'}: read 7 of 10 frames (its header's count); passed over 3 frames that failed to decode (3, 4, 7)"
    )
    assert said in caplog.text


def test_a_clip_that_stops_decoding_gives_up_after_a_bounded_number_of_tries(tmp_path, monkeypatch):
    write_frames(tmp_path / "clip.mp4", 12)
    monkeypatch.setattr(video.cv2, "VideoCapture", lambda path: FailingFrames(path, {5, 6, 7, 9, 10, 11}))
    monkeypatch.setattr(video, "MAX_FAILED_READS", 3)
    opened = read_video(tmp_path / "clip.mp4")
    assert len(list(opened.frames)) == 5  # frame 8 is not tried: three failures in a row end the reading
    assert opened.tally.summary() == {"frames_read": 5, "frames_expected": 12, "stopped_at_frame": 5, "unreadable_frames": []}


def test_a_healthy_clip_reads_every_frame_without_a_warning(tmp_path, caplog):
    write_frames(tmp_path / "clip.mp4", 12)
    with caplog.at_level(logging.WARNING):
        opened = read_video(tmp_path / "clip.mp4")
        assert len(list(opened.frames)) == 12
    assert opened.tally.summary() == {"frames_read": 12, "frames_expected": 12, "stopped_at_frame": None, "unreadable_frames": []}
    assert not caplog.records


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
