"""Frames of dash-cam videos for labelling: sampled, near-duplicates skipped, split into train and val by video.

A stopped car gives minutes of the same picture. A frame is kept only when it differs
from the last kept frame of its video: the mean absolute difference of small grey
thumbnails (OpenCV), which averages sensor noise and compression away but not a road
user crossing. Comparing with the last kept frame, not the previous one, keeps slow
change from slipping through a frame at a time.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ssdlite.data.converters import write_json
from ssdlite.errors import InputError
from ssdlite.inference.inputs import Source, check_unique_names, open_videos
from ssdlite.video import Video

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = (64, 36)  # (width, height): 16:9 like dash-cam video, 10x10 pixels of 640x360 per cell
# Grey levels (0-255) of mean thumbnail difference under which a frame repeats the last one kept.
# Noise and H.264 artefacts of a still picture stay well under it; one car crossing a tenth of the view goes over.
MIN_DIFFERENCE = 2.0
JPEG_QUALITY = 95  # frames to label: near lossless, a fifth of PNG's size
SPLITS = ("train", "val")


@dataclass(frozen=True)
class Sampling:
    """Which frames of a video are kept. At most one of `every` and `fps`; neither takes every frame."""

    every: int | None = None  # every Nth frame
    fps: float | None = None  # about this many frames per second of video
    max_per_video: int | None = None  # stop a video after this many kept frames
    min_difference: float = MIN_DIFFERENCE  # 0 keeps near-identical frames too

    def __post_init__(self):
        if self.every is not None and self.fps is not None:
            raise InputError("give --every or --fps, not both")
        if (self.every is not None and self.every < 1) or (self.max_per_video is not None and self.max_per_video < 1):
            raise InputError(f"--every and --max count frames: 1 or more, got {self.every} and {self.max_per_video}")
        if self.fps is not None and not self.fps > 0:
            raise InputError(f"--fps must be above 0, e.g. 1, got {self.fps}")

    def step(self, video_fps: float) -> int:
        """Frames from one candidate to the next in a video of `video_fps`."""
        if self.fps is not None:
            return max(1, round(video_fps / self.fps))
        return self.every or 1


@dataclass
class VideoFrames:
    """What sampling one video gave."""

    video: str
    split: str
    kept: list[str] = field(default_factory=list)  # file names, relative to the split's folder
    skipped_similar: int = 0  # candidates too like the last kept frame
    frames_read: int = 0
    problem: str | None = None  # frames that could not be read (a truncated file), in one line


def thumbnail(frame_bgr: np.ndarray) -> np.ndarray:
    """A (36, 64) uint8 grey thumbnail: block means (INTER_AREA), so noise averages out."""
    return cv2.cvtColor(cv2.resize(frame_bgr, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails, in grey levels."""
    return cv2.norm(a, b, cv2.NORM_L1) / a.size


def sample_frames(video: Video, sampling: Sampling, stats: VideoFrames) -> Iterator[tuple[int, np.ndarray]]:
    """(frame number, BGR frame) of each frame kept, counting what was read and skipped in `stats`.
    Frame numbers are the reader's (`FrameTally`): a frame that fails to decode keeps its number."""
    step = sampling.step(video.fps)
    last, num_kept = None, 0
    for frame in video.frames:
        number = video.tally.last
        if number % step:
            continue
        small = thumbnail(frame)
        if last is not None and difference(small, last) < sampling.min_difference:
            stats.skipped_similar += 1
            continue
        last, num_kept = small, num_kept + 1
        yield number, frame
        if num_kept == sampling.max_per_video:
            video.frames.close()  # releases the file now
            break
    stats.frames_read = video.tally.read
    stats.problem = video.tally.problem(video.path)


def split_by_video(videos: tuple[Path, ...], val_fraction: float) -> dict[Path, str]:
    """Each video's split, "train" or "val", never both: the last videos by name are val. Dash-cams
    name files by time, so the two splits meet at one minute's boundary only."""
    if not 0 <= val_fraction < 1:
        raise InputError(f"the val fraction {val_fraction} must lie in [0, 1), e.g. 0.2")
    num_val = round(len(videos) * val_fraction)
    if val_fraction > 0 and len(videos) > 1:
        num_val = min(max(num_val, 1), len(videos) - 1)
    elif val_fraction > 0:
        log.warning("one video cannot be split by video: all its frames go to train, and val is empty")
        num_val = 0
    return {path: "val" if index >= len(videos) - num_val else "train" for index, path in enumerate(videos)}


def extract_frames(source: Source, out_dir: Path, sampling: Sampling, *, val_fraction: float = 0.2) -> list[VideoFrames]:
    """Write the kept frames of `source`'s videos as JPEGs in `out_dir`/train and `out_dir`/val, named
    <video>_<frame>.jpg, and `out_dir`/train.json and val.json: COCO files with `images` (plus each
    image's "video" and "frame") and no annotations, for an annotation tool.

    A video that cannot be opened is skipped, one cut short is read as far as it decodes: each is
    said in one line and in its `VideoFrames.problem`.

    Raises:
        InputError: `source` names no video files; `out_dir` holds frames already; two videos share a name.
    """
    if not source.videos:
        raise InputError("frames are taken from video files: give a video, or a folder or glob of videos")
    existing = [out_dir / f"{split}.json" for split in SPLITS if (out_dir / f"{split}.json").exists()]
    if existing:
        raise InputError(f"{existing[0]} exists: {out_dir} holds frames already; give a new --out or delete it")
    check_unique_names(source.videos)
    splits = split_by_video(source.videos, val_fraction)
    images = {split: [] for split in SPLITS}
    results = []
    for video in open_videos(source):
        stats = VideoFrames(str(video.path), splits[video.path])
        folder = out_dir / stats.split
        folder.mkdir(parents=True, exist_ok=True)
        height, width = video.image_size
        for number, frame in sample_frames(video, sampling, stats):
            name = f"{video.path.stem}_{number:06d}.jpg"
            cv2.imwrite(str(folder / name), frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            stats.kept.append(name)
            image = {"file_name": name, "height": height, "width": width, "video": str(video.path), "frame": number}
            images[stats.split].append(image)
        results.append(stats)
    for split in SPLITS:
        records = [{"id": index} | image for index, image in enumerate(images[split], start=1)]
        write_json({"images": records, "annotations": [], "categories": []}, out_dir / f"{split}.json")
    return results
