import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from coco_files import break_png_chunk, write_truncated_jpeg

from ssdlite.errors import InputError
from ssdlite.inference.annotate import infer_video
from ssdlite.inference.inputs import Source, load_inputs, resolve_source, video_outputs
from ssdlite.inference.predictor import Detections
from ssdlite.video import open_stream


def test_damaged_files_of_a_folder_are_skipped_with_the_reason_and_a_damaged_file_named_alone_fails(tmp_path, caplog):
    healthy = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), healthy)
    cv2.imwrite(str(tmp_path / "b.png"), healthy)
    break_png_chunk(tmp_path / "b.png")
    write_truncated_jpeg(tmp_path / "c.jpg")
    with caplog.at_level(logging.WARNING):
        loaded = list(load_inputs(tmp_path, bgr=False))
    assert [name for name, _ in loaded] == [str(tmp_path / "a.png")] and np.array_equal(loaded[0][1], healthy[:, :, ::-1])
    assert f"skipping unreadable image {tmp_path / 'b.png'}: broken PNG file" in caplog.text
    assert f"skipping unreadable image {tmp_path / 'c.jpg'}: damaged JPEG: image file is truncated" in caplog.text
    with pytest.raises(ValueError, match=f"cannot read image {tmp_path / 'c.jpg'}: damaged JPEG"):
        list(load_inputs(tmp_path / "c.jpg", bgr=False))


def touch(*paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def test_a_source_resolves_to_images_videos_or_a_stream(tmp_path):
    touch(tmp_path / "cam" / "0002.MP4", tmp_path / "cam" / "0001.mp4", tmp_path / "cam" / "notes.txt", tmp_path / "a.jpg")
    videos = (tmp_path / "cam" / "0001.mp4", tmp_path / "cam" / "0002.MP4")
    assert resolve_source(tmp_path / "cam") == Source(videos=videos)
    assert resolve_source(f"{tmp_path}/cam/*") == Source(videos=videos)
    assert resolve_source(str(videos[0])) == Source(videos=videos[:1], single=True)
    assert resolve_source(tmp_path / "a.jpg") == Source(images=(tmp_path / "a.jpg",), single=True)
    assert resolve_source("0") == Source(stream=0) and resolve_source("2") == Source(stream=2)
    assert resolve_source("rtsp://user:pw@cam.local/live") == Source(stream="rtsp://user:pw@cam.local/live")
    assert resolve_source("http://cam.local/video.mjpg") == Source(stream="http://cam.local/video.mjpg")


def test_a_source_matching_nothing_or_two_kinds_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"clips/\*.mp4: no such file or folder, and no images or videos match it as a glob"):
        resolve_source(tmp_path / "clips/*.mp4")
    with pytest.raises(InputError, match="a webcam index such as 0, or an rtsp:// or http:// URL"):
        resolve_source("camera")
    touch(tmp_path / "mixed" / "a.jpg", tmp_path / "mixed" / "b.mp4", tmp_path / "notes.txt")
    with pytest.raises(InputError, match=r"mixed holds 1 images and 1 videos; name one kind, e.g. .*mixed/\*.mp4"):
        resolve_source(tmp_path / "mixed")
    with pytest.raises(InputError, match="notes.txt is neither an image nor a video"):
        resolve_source(tmp_path / "notes.txt")


class NoDetections:
    """A stand-in for `Detector`: finds nothing."""

    def predict(self, frame, bgr, **predict_args):
        return [Detections(np.zeros((0, 4), np.float32), np.zeros(0), np.zeros(0, int), [], "frame", frame.shape[:2])]


def write_video(path: Path, num_frames: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 48))
    for index in range(num_frames):
        writer.write(np.full((48, 64, 3), 30 * index, np.uint8))
    writer.release()
    return path


def test_a_folder_of_videos_is_annotated_video_by_video_each_into_its_folder(tmp_path, caplog):
    write_video(tmp_path / "cam" / "0001.mp4", 3)
    write_video(tmp_path / "cam" / "0002.mp4", 4)
    (tmp_path / "cam" / "0003.mp4").write_text("not a video")
    with caplog.at_level(logging.WARNING):
        summaries = [
            infer_video(NoDetections(), video, folder)
            for video, folder in video_outputs(resolve_source(tmp_path / "cam"), tmp_path / "out")
        ]
    assert [(Path(s["output"]), s["frames_read"]) for s in summaries] == [
        (tmp_path / "out" / "0001" / "0001.mp4", 3), (tmp_path / "out" / "0002" / "0002.mp4", 4),
    ]  # fmt: skip
    assert f"skipping cannot read video {tmp_path / 'cam' / '0003.mp4'}: not a video file OpenCV can decode" in caplog.text
    (video, folder), *_ = video_outputs(resolve_source(tmp_path / "cam" / "0001.mp4"), tmp_path / "one")
    assert folder == tmp_path / "one"  # one video: its outputs where they always went


def test_two_videos_of_one_name_are_refused(tmp_path):
    write_video(tmp_path / "monday" / "FILE0001.MOV", 1)
    write_video(tmp_path / "tuesday" / "FILE0001.MOV", 1)
    with pytest.raises(ValueError, match="share the name 'FILE0001'"):
        next(video_outputs(resolve_source(f"{tmp_path}/*/*.MOV"), tmp_path / "out"))


def test_a_stream_is_read_as_a_video_named_for_its_outputs(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", 4)
    stream = open_stream(str(clip))  # FFmpeg opens a URL as it opens this path
    assert stream.path == Path("clip") and len(list(stream.frames)) == 4 and stream.fps == 5
    with pytest.raises(ValueError, match="cannot open webcam 97: no such device"):
        open_stream(97)
