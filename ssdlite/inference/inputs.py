"""What a source names, resolved in one place: image files, video files (a folder or glob of them:
dash-cams write one file per minute), a webcam index or a stream URL; and what a `Detector` takes."""

import glob
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ssdlite.data.image_file import UnreadableImageError, read_image
from ssdlite.errors import InputError
from ssdlite.video import Video, VideoError, open_stream, read_video

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".ts", ".mts"}
# What OpenCV's FFmpeg backend opens as a live stream (or a remote file).
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://")


@dataclass(frozen=True)
class Source:
    """What a source string names: image files, video files, or one live stream; exactly one kind."""

    images: tuple[Path, ...] = ()  # sorted by name
    videos: tuple[Path, ...] = ()  # sorted by name: a dash-cam's minutes in order
    stream: int | str | None = None  # a webcam index (0 is the first) or a stream URL
    single: bool = False  # the source named one file


def resolve_source(source: str | Path) -> Source:
    """The images, videos or stream that `source` names: a file, a folder, a glob such as 'clips/*.mp4',
    a webcam index ('0') or an rtsp:// / http:// URL. A folder or glob takes its images or its videos.

    Raises:
        InputError: nothing matches `source`; or it names a file that is neither image nor video,
            or a folder or glob holding both kinds (the message says how to pick one).
    """
    text = str(source)
    if text.isdigit() and not Path(text).exists():
        return Source(stream=int(text))
    if text.lower().startswith(STREAM_SCHEMES):
        return Source(stream=text)
    path = Path(source)
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
            raise InputError(f"{path} is neither an image nor a video (by its suffix: {_suffixes()})")
        is_video = path.suffix.lower() in VIDEO_SUFFIXES
        return Source(videos=(path,), single=True) if is_video else Source(images=(path,), single=True)
    files = sorted(path.iterdir()) if path.is_dir() else sorted(Path(p) for p in glob.glob(text))
    images = tuple(p for p in files if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    videos = tuple(p for p in files if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if images and videos:
        example = path / "*.mp4" if path.is_dir() else "'clips/*.mp4'"
        raise InputError(f"{source} holds {len(images)} images and {len(videos)} videos; name one kind, e.g. {example}")
    if not images and not videos:
        what = (
            "a folder with no images or videos"
            if path.is_dir()
            else "no such file or folder, and no images or videos match it as a glob"
        )
        raise InputError(
            f"{source}: {what} ({_suffixes()}); give an image, a video, a folder or glob of them, "
            "a webcam index such as 0, or an rtsp:// or http:// URL"
        )
    return Source(images=images, videos=videos)


def open_videos(source: Source) -> Iterator[Video]:
    """The videos of a resolved source (or its stream), opened one after another as they are iterated.
    A video of a folder or glob that cannot be opened is logged and skipped.

    Raises:
        VideoError: the source's one video or stream cannot be opened.
    """
    if source.stream is not None:
        yield open_stream(source.stream)
    for path in source.videos:
        try:
            video = read_video(path)
        except VideoError as error:
            if source.single:
                raise
            log.warning("skipping %s", error)
            continue
        yield video


def video_outputs(source: Source, out_dir: Path) -> Iterator[tuple[Video, Path]]:
    """Each video of `source` (`open_videos`) with the folder its outputs go to: `out_dir`, or with
    several videos `out_dir`/<video name>.

    Raises:
        InputError: two of the videos share a name (from different folders), which would share a folder.
    """
    check_unique_names(source.videos)
    for video in open_videos(source):
        yield video, out_dir / video.path.stem if len(source.videos) > 1 else out_dir


def check_unique_names(videos: tuple[Path, ...]) -> None:
    """Raises InputError when two videos (of different folders) share a name, which names their outputs."""
    stems = [path.stem for path in videos]
    shared = sorted({stem for stem in stems if stems.count(stem) > 1})
    if shared:
        examples = [str(path) for path in videos if path.stem == shared[0]]
        raise InputError(f"videos {' and '.join(examples)} share the name {shared[0]!r}, which names their outputs; rename one")


def _suffixes() -> str:
    return " ".join(sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))


def load_inputs(inputs, bgr: bool) -> Iterator[tuple[str, np.ndarray]]:
    """(source name, RGB uint8 HxWx3 image) of each input: paths, folders, globs, arrays (RGB, or BGR
    with `bgr`) and PIL images, one or a list, tuple or iterator of them (read as it is consumed, e.g. video
    frames). Unreadable or damaged files of a folder or glob are logged and skipped."""
    items = inputs if isinstance(inputs, (list, tuple, Iterator)) else [inputs]
    for index, item in enumerate(items):
        if isinstance(item, np.ndarray):
            if item.ndim != 3 or item.shape[2] != 3 or item.dtype != np.uint8:
                raise ValueError(f"array[{index}] must be HxWx3 uint8, got shape {item.shape} {item.dtype}")
            item = np.ascontiguousarray(item)
            yield f"array[{index}]", cv2.cvtColor(item, cv2.COLOR_BGR2RGB) if bgr else item  # not numpy's slower reversed copy
        elif isinstance(item, Image.Image):
            yield f"image[{index}]", np.asarray(item.convert("RGB"))
        elif isinstance(item, (str, Path)):
            yield from _read_images(item)
        else:
            raise TypeError(f"cannot detect on {type(item).__name__}; give a path, folder, glob, numpy image or PIL image")


def resolve_images(source: str | Path) -> Source:
    """`resolve_source` of a source that must name images.

    Raises:
        InputError: as `resolve_source`, and when it names videos or a stream.
    """
    resolved = resolve_source(source)
    if not resolved.images:
        raise InputError(f"{source} names videos or a stream, not images; read video frames with ssdlite.video.read_video")
    return resolved


def _read_images(source: str | Path) -> Iterator[tuple[str, np.ndarray]]:
    resolved = resolve_images(source)
    for path in resolved.images:
        try:
            image = read_image(path)
        except UnreadableImageError as error:
            if resolved.single:
                raise InputError(f"cannot read image {error}") from error
            log.warning("skipping unreadable image %s", error)
            continue
        yield str(path), image


def batches(items: Iterator, size: int) -> Iterator[list]:
    """Lists of `size` items (the last may be shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
