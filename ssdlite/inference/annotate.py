"""Annotating images, folders and videos with a `Detector`, and writing JSON lines."""

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ssdlite.data.image_file import UnreadableImageError, read_image
from ssdlite.inference.draw import colour_of, draw_boxes
from ssdlite.inference.predictor import Detections, Detector
from ssdlite.video import Video, open_video_writer

log = logging.getLogger(__name__)


def annotate(image_bgr: np.ndarray, detections: Detections) -> np.ndarray:
    """Draw detections (boxes, class names, scores) on a BGR image, in place."""
    captions = [f"{name} {score:.2f}" for name, score in zip(detections.class_names, detections.scores)]
    return draw_boxes(image_bgr, detections.boxes, captions, [colour_of(int(label)) for label in detections.labels])


def infer_images(detector: Detector, paths: Sequence[Path], out_dir: Path, **predict_args) -> int:
    """Annotated copies of the images at `paths` (e.g. `resolve_source(...).images`) in `out_dir`, plus
    `detections.jsonl` (one record per image). Unreadable or damaged files are reported and skipped.

    Returns:
        The number of images written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(out_dir / "detections.jsonl", "w") as records, tqdm(paths, unit="img") as progress:
        for path in progress:
            try:
                image = read_image(path)
            except UnreadableImageError as error:
                log.warning("skipping unreadable image %s", error)
                continue
            (detections,) = detector.predict(image, **predict_args)
            detections.source = str(path)
            cv2.imwrite(str(out_dir / f"{path.stem}.jpg"), annotate(image[:, :, ::-1].copy(), detections))
            records.write(json.dumps(detections.to_dict()) + "\n")
            written += 1
    return written


def infer_video(detector: Detector, video: Video, out_dir: Path, every: int = 1, **predict_args) -> dict:
    """An annotated copy of a video or stream (same frame rate, size and frames), `detections.jsonl` with
    one record per processed frame, and `summary.json` (the returned summary). Ctrl-C ends it there,
    with every output complete: how a webcam or stream is stopped.

    Args:
        video: from `ssdlite.video.read_video` or `open_stream`.
        every: detect on every Nth frame; frames in between show the latest detections.

    Returns:
        {"source", "output" (the annotated video), "fps", "every", and `FrameTally.summary`'s
        "frames_read", "frames_expected", "stopped_at_frame", "unreadable_frames"}: a file cut short
        or damaged is read as far as it decodes, and said so in one line (see `ssdlite.video`).
    """
    height, width = video.image_size
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path = out_dir / f"{video.path.stem}.mp4"
    writer = open_video_writer(out_path, video.fps, (width, height))
    detections = None
    with open(out_dir / "detections.jsonl", "w") as records, tqdm(total=video.num_frames, unit="frame") as progress:
        try:
            for index, frame in enumerate(video.frames):
                if index % every == 0:
                    (detections,) = detector.predict(frame, bgr=True, **predict_args)
                    record = detections.to_dict() | {"source": str(video.path), "frame": video.tally.last}
                    records.write(json.dumps(record) + "\n")
                writer.write(annotate(frame, detections))
                progress.update()
        except KeyboardInterrupt:
            log.warning("stopped by Ctrl-C after %d frames of %s", video.tally.read, video.path)
    writer.release()
    summary = {"source": str(video.path), "output": str(out_path), "fps": video.fps, "every": every} | video.tally.summary()
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
