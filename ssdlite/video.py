"""Video files: reading with one-line errors and a frame rate even when the file gives none, and
writing what people can play (H.264 in MP4 through PyAV, OpenCV's mp4v where there is no H.264 encoder).

OpenCV's pip wheels carry no H.264 encoder, and their mp4v (MPEG-4 Part 2) plays in
desktop players but not in browsers or notebooks.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np

from ssdlite.errors import SsdliteError

try:
    import av
except ImportError:  # the optional `video` extra
    av = None

log = logging.getLogger(__name__)

ASSUMED_FPS = 25.0  # for videos whose frame rate is unknown
# Frames in a row that fail to decode before reading gives up: FFmpeg often decodes again after
# a damaged stretch, and a file cut short fails at once; one second at 25 fps.
MAX_FAILED_READS = 25
EXAMPLES = 5  # frame numbers quoted


class VideoError(SsdliteError, ValueError):
    """A video, webcam or stream that cannot be read; the message names it."""


@dataclass
class FrameTally:
    """How reading a video's frames went, filled in as they are iterated. Frames are numbered from 0
    by read attempts: a frame that fails to decode keeps its number."""

    expected: int | None  # the frame count the header gives; None when it gives none
    read: int = 0
    unreadable: list[int] = field(default_factory=list)  # failed to decode, passed over, and frames followed
    stopped_at: int | None = None  # the first frame not read when reading ended before `expected`
    last: int = -1  # the number of the latest frame read

    def summary(self) -> dict:
        """The counts for a summary file: frames_read, frames_expected, stopped_at_frame, unreadable_frames."""
        return {
            "frames_read": self.read,
            "frames_expected": self.expected,
            "stopped_at_frame": self.stopped_at,
            "unreadable_frames": self.unreadable,
        }

    def problem(self, path: Path) -> str | None:
        """One line saying what was not read, or None when every frame was."""
        parts = []
        if self.stopped_at is not None:
            parts.append(f"reading stopped at frame {self.stopped_at}: the file is cut short or damaged from there")
        if self.unreadable:
            more = ", ..." if len(self.unreadable) > EXAMPLES else ""
            numbers = ", ".join(map(str, self.unreadable[:EXAMPLES]))
            count = f"{len(self.unreadable)} frame{'s' if len(self.unreadable) > 1 else ''}"
            parts.append(f"passed over {count} that failed to decode ({numbers}{more})")
        if not parts:
            return None
        expected = f"{self.expected} frames (its header's count)" if self.expected else "frames"
        return f"{path}: read {self.read} of {expected}; " + "; ".join(parts) + "; re-copy the original file for all of it"


@dataclass
class Video:
    """An opened video: its frames (BGR uint8 HxWx3, read as they are iterated) and what it says about itself."""

    path: Path  # the file; for a stream, a name for its outputs (see `open_stream`)
    frames: Iterator[np.ndarray]  # logs one line at the end when frames were missing (see `tally`)
    fps: float
    fps_known: bool  # False: the file gives no frame rate and `fps` is ASSUMED_FPS
    image_size: tuple[int, int]  # (height, width)
    num_frames: int | None  # as the container says; None when it does not
    tally: FrameTally  # frames read so far, and those that were not


def read_video(path: str | Path) -> Video:
    """Open a video file and read its first frame.

    Raises:
        VideoError: the file is missing, is not a video OpenCV can decode, or has no frames.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"cannot read video {path}: no such file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise VideoError(f"cannot read video {path}: not a video file OpenCV can decode")
    return _opened(capture, path, f"cannot read video {path}: it has no frames")


def open_stream(stream: int | str) -> Video:
    """Open a webcam (its index, 0 the first) or a stream URL (rtsp://, http://: OpenCV's FFmpeg reads
    them) and read its first frame. Its frames go on until the stream ends or fails for MAX_FAILED_READS
    reads in a row; `path` names it for output files: "webcam0", or the URL's last part.

    Raises:
        VideoError: it cannot be opened or gives no frame.
    """
    what = f"webcam {stream}" if isinstance(stream, int) else f"stream {stream}"
    capture = cv2.VideoCapture(stream)
    if not capture.isOpened():
        raise VideoError(f"cannot open {what}: no such device, or a URL OpenCV's FFmpeg cannot open")
    name = f"webcam{stream}" if isinstance(stream, int) else Path(urlparse(stream).path).stem or "stream"
    return _opened(capture, Path(name), f"cannot read {what}: it gave no frame")


def _opened(capture: cv2.VideoCapture, path: Path, no_frames: str) -> Video:
    ok, first = capture.read()
    if not ok:
        capture.release()
        raise VideoError(no_frames)
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps_known = bool(np.isfinite(fps) and fps > 0)
    if not fps_known:
        log.warning("%s does not give its frame rate: assuming %g fps", path, ASSUMED_FPS)
    num_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    if num_frames is not None and num_frames < 0:  # live streams may say -1
        num_frames = None
    tally = FrameTally(num_frames)
    frames = _frames(capture, first, tally, path)
    return Video(path, frames, fps if fps_known else ASSUMED_FPS, fps_known, first.shape[:2], num_frames, tally)


def _frames(capture: cv2.VideoCapture, first: np.ndarray, tally: FrameTally, path: Path) -> Iterator[np.ndarray]:
    """The frames, counted in `tally`; past a frame that fails to decode while more are expected."""
    number, failed = 0, []  # failed: the frames since the latest one read
    frame = first
    try:
        while True:
            if frame is not None:
                tally.unreadable += failed
                tally.read, tally.last, failed = tally.read + 1, number, []
                yield frame
            else:
                failed.append(number)
                if len(failed) == MAX_FAILED_READS or (tally.expected is not None and number + 1 >= tally.expected):
                    break
            ok, frame = capture.read()
            frame, number = frame if ok else None, number + 1
    finally:  # also when the reader stops early (a stream's Ctrl-C, --max)
        capture.release()
    if tally.expected is not None and failed[0] < tally.expected:
        tally.stopped_at = failed[0]
    problem = tally.problem(path)
    if problem:
        log.warning(problem)


H264 = "h264"  # FFmpeg picks its H.264 encoder (libx264 in PyAV's wheels)


class H264Writer:
    """Writes frames as H.264 (yuv420p, what browsers decode) in MP4, with cv2.VideoWriter's `write` / `release`.

    Args:
        path: the .mp4 file.
        fps: frames per second, kept exactly (29.97 as 30000/1001).
        size: (width, height) in pixels. 4:2:0 needs both even; an odd side is written in
            4:4:4 at its own size, which desktop players play but browsers may not.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]):
        self.container = av.open(str(path), "w", options={"movflags": "+faststart"})  # playable while downloading
        self.stream = self.container.add_stream(H264, rate=Fraction(fps).limit_denominator(1001))
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "yuv420p" if size[0] % 2 == size[1] % 2 == 0 else "yuv444p"
        if self.stream.pix_fmt == "yuv444p":
            log.warning("%s: %dx%d has an odd side, so H.264 is in 4:4:4, which browsers may not play", path, *size)

    def write(self, frame_bgr: np.ndarray) -> None:
        """Append a frame: HxWx3 uint8, BGR (OpenCV's order)."""
        self.container.mux(self.stream.encode(av.VideoFrame.from_ndarray(frame_bgr, format="bgr24")))

    def release(self) -> None:
        self.container.mux(self.stream.encode())  # the frames the encoder still holds
        self.container.close()


def open_video_writer(path: str | Path, fps: float, size: tuple[int, int]) -> H264Writer | cv2.VideoWriter:
    """A writer of an MP4 that browsers and notebooks play (H.264), or mp4v with a warning saying why not.

    Args:
        path: the .mp4 file.
        fps: frames per second.
        size: (width, height) in pixels, as cv2.VideoWriter takes it.

    Returns:
        An object with `write(frame)` (HxWx3 uint8 BGR) and `release()`.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)  # else PyAV fails at the first frame, cv2 writes nothing
    reason = _no_h264_reason()
    if reason is None:
        return H264Writer(path, fps, size)
    log.warning("%s: writing mp4v (MPEG-4 Part 2), which browsers and notebooks may not play: %s", path, reason)
    return cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)


def _no_h264_reason() -> str | None:
    if av is None:
        return "PyAV is not installed (pip install av)"
    try:
        av.codec.Codec(H264, "w")
    except av.codec.codec.UnknownCodecError:
        return "this FFmpeg build has no H.264 encoder"
    return None
