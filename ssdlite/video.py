"""Reading and writing video files with OpenCV: one-line errors for what is not a readable video,
and a frame rate even when the file does not say it."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

ASSUMED_FPS = 25.0  # for videos whose frame rate is unknown


@dataclass
class Video:
    """An opened video: its frames (BGR uint8 HxWx3, read as they are iterated) and what it says about itself."""

    path: Path
    frames: Iterator[np.ndarray]
    fps: float
    fps_known: bool  # False: the file gives no frame rate and `fps` is ASSUMED_FPS
    image_size: tuple[int, int]  # (height, width)
    num_frames: int | None  # as the container says; None when it does not


def read_video(path: str | Path) -> Video:
    """Open a video file and read its first frame.

    Raises:
        ValueError: the file is missing, is not a video OpenCV can decode, or has no frames.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"cannot read video {path}: no such file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot read video {path}: not a video file OpenCV can decode")
    ok, first = capture.read()
    if not ok:
        capture.release()
        raise ValueError(f"cannot read video {path}: it has no frames")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps_known = bool(np.isfinite(fps) and fps > 0)
    if not fps_known:
        log.warning("%s does not give its frame rate: assuming %g fps", path, ASSUMED_FPS)
    num_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return Video(path, _frames(capture, first), fps if fps_known else ASSUMED_FPS, fps_known, first.shape[:2], num_frames or None)


def video_writer(path: str | Path, fps: float, image_size: tuple[int, int]) -> cv2.VideoWriter:
    """An MP4 writer (mp4v) for BGR frames of `image_size` (height, width)."""
    height, width = image_size
    return cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))


def _frames(capture: cv2.VideoCapture, first: np.ndarray) -> Iterator[np.ndarray]:
    yield first
    while True:
        ok, frame = capture.read()
        if not ok:
            capture.release()
            return
        yield frame
