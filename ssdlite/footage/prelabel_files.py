"""Pre-labelling footage on disk: videos or a folder of frames in; the frames and a COCO file out,
which annotation tools import (CVAT: "COCO 1.0"), each box with its score and track id.

Frames of videos are written as JPEGs (every `every`-th; the tracker sees them all). A folder of
frames (`tools/frames.py`) is one sequence in name order; its images stay where they are, and the
COCO file names them relative to the folder.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ssdlite.assets import write_atomically
from ssdlite.data.converters import write_json
from ssdlite.errors import InputError
from ssdlite.evaluation import coco_results
from ssdlite.footage.frames import JPEG_QUALITY
from ssdlite.footage.prelabel import MIN_SCORE, MIN_TRACK_FRAMES, NO_TRACK, FrameLabels, Prelabels, prelabel
from ssdlite.inference.inputs import check_unique_names, load_inputs, resolve_source
from ssdlite.inference.predictor import Detector
from ssdlite.video import ASSUMED_FPS, Video, read_video

ANNOTATIONS = "annotations.json"


def prelabel_footage(
    detector: Detector,
    source: str | Path,
    out_dir: Path,
    *,
    every: int = 1,
    frame_rate: float = ASSUMED_FPS,
    min_score: float = MIN_SCORE,
    min_track_frames: int = MIN_TRACK_FRAMES,
) -> dict:
    """Pre-label `source` and write `out_dir/annotations.json` (and `out_dir/images/` for videos).

    Args:
        source: a video, a folder or glob of videos, or a folder or glob of frames (one sequence, by name).
        every: videos: write every Nth frame and its boxes.
        frame_rate: frames of a folder: their rate, frames per second (videos give theirs).
        min_score, min_track_frames: which boxes are kept (`prelabel`).

    Returns:
        {"source", "annotations" (the COCO file), "images" (the folder its file names are relative to),
        "images_labelled", "tracks", and `Prelabels.counts` of the images labelled}.

    Raises:
        InputError: nothing to read at `source`; VideoError: a video that cannot be read.
    """
    if every < 1:
        raise InputError(f"every = {every}: give a whole number of at least 1")
    prelabel_args = {"min_score": min_score, "min_track_frames": min_track_frames}
    videos, frame_files = find_footage(source)
    if videos:
        image_dir = out_dir / "images"
        images, labels, counts = _prelabel_videos(detector, videos, image_dir, every, prelabel_args)
    else:
        image_dir = Path(os.path.commonpath([path.parent for path in frame_files]))
        images, labels, counts = _prelabel_frames(detector, source, image_dir, frame_rate, prelabel_args)
    coco = coco_prelabels(images, labels, detector.class_names)
    annotations = out_dir / ANNOTATIONS
    write_json(coco, annotations)
    tracks = {int(t) for frame in labels for t in frame.track_ids if t != NO_TRACK}
    paths = {"source": str(source), "annotations": str(annotations), "images": str(image_dir)}
    return paths | {"images_labelled": len(images), "tracks": len(tracks)} | counts


def find_footage(source: str | Path) -> tuple[list[Path], list[Path]]:
    """(videos, frames) at `source`, one of them empty (`resolve_source`: a video, image, folder or glob)."""
    resolved = resolve_source(source)
    if resolved.stream is not None:
        raise InputError(f"{source}: pre-labelling takes video files or images, not a webcam or stream")
    return list(resolved.videos), list(resolved.images)


def coco_prelabels(images: list[dict], frames: list[FrameLabels], class_names: tuple[str, ...]) -> dict:
    """A COCO detection file of pre-labels: category k is the detector's label k; each annotation has
    the detector's "score", and CVAT's "attributes" (`track_id`, and `keyframe` so that CVAT does not
    interpolate between the boxes of a track).

    Args:
        images: COCO image records, one per entry of `frames`.
        frames: the pre-labels of each image (boxes xyxy pixels of the image).
    """
    label_to_category_id = {label: label for label in range(1, len(class_names) + 1)}
    annotations = []
    for image, frame in zip(images, frames):
        entries = coco_results(frame.boxes, frame.scores, frame.labels, image["id"], label_to_category_id)
        for entry, track_id in zip(entries, frame.track_ids.tolist()):
            attributes = {"occluded": False, "keyframe": True} | ({"track_id": track_id} if track_id != NO_TRACK else {})
            width, height = entry["bbox"][2:]
            extra = {"area": round(width * height, 3), "iscrowd": 0, "segmentation": [], "attributes": attributes}
            annotations.append({"id": len(annotations) + 1} | entry | extra)
    categories = [{"id": label, "name": name, "supercategory": ""} for label, name in enumerate(class_names, start=1)]
    return {"images": images, "annotations": annotations, "categories": categories}


def _prelabel_videos(
    detector: Detector, videos: list[Path], image_dir: Path, every: int, prelabel_args: dict
) -> tuple[list[dict], list[FrameLabels], dict]:
    """Each video its own sequence (track ids made unique across them); its every Nth frame written."""
    check_unique_names(tuple(videos))  # a video's name names its frames' files
    images, labels, counts = [], [], {}
    for path in videos:
        video = read_video(path)
        written = []  # the image records of the frames written, with their frame index in the sequence
        frames = _writing_every(video, every, image_dir, written, len(images))
        result = prelabel(detector, frames, frame_rate=video.fps, **prelabel_args).subset([index for index, _ in written])
        offset = 1 + max((int(t) for frame in labels for t in frame.track_ids), default=-1)  # ids count from 0
        for frame in result.frames:
            frame.track_ids = np.where(frame.track_ids == NO_TRACK, NO_TRACK, frame.track_ids + offset)
        images += [record for _, record in written]
        labels += result.frames
        counts = _summed(counts, result)
    return images, labels, counts


def _writing_every(video: Video, every: int, image_dir: Path, written: list, first_id: int) -> Iterator[np.ndarray]:
    """The video's frames (BGR), writing every Nth as `<video name>_<frame number>.jpg` (never
    half-written) and its (index in the sequence, COCO image record) to `written` as they pass."""
    for index, frame in enumerate(video.frames):
        if index % every == 0:
            name = f"{video.path.stem}_{video.tally.last:06d}.jpg"
            encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1]
            write_atomically(image_dir / name, lambda temporary, data=encoded: temporary.write_bytes(data.tobytes()))
            height, width = frame.shape[:2]
            written.append((index, {"id": first_id + len(written) + 1, "file_name": name, "width": width, "height": height}))
        yield frame


def _prelabel_frames(
    detector: Detector, source: str | Path, image_dir: Path, frame_rate: float, prelabel_args: dict
) -> tuple[list[dict], list[FrameLabels], dict]:
    """The frames of a folder or glob as one sequence; unreadable ones are logged and passed over."""
    images = []

    def frames() -> Iterator[np.ndarray]:
        for path, image in load_inputs(str(source), bgr=False):
            height, width = image.shape[:2]
            name = Path(path).relative_to(image_dir).as_posix()
            images.append({"id": len(images) + 1, "file_name": name, "width": width, "height": height})
            yield image

    result = prelabel(detector, frames(), frame_rate=frame_rate, bgr=False, **prelabel_args)
    return images, result.frames, _summed({}, result)


def _summed(counts: dict, result: Prelabels) -> dict:
    return {key: counts.get(key, 0) + value for key, value in result.counts().items()}
