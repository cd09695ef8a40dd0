"""Scoring a detector + tracker on a clip with MOT ground truth: tracking metrics and line counts."""

from pathlib import Path

import numpy as np

from ssdlite.inference.predictor import Detector
from ssdlite.tracking.counting import LineCounter
from ssdlite.tracking.metrics import FrameObjects, tracking_metrics
from ssdlite.tracking.mot import CATEGORY_NAMES, read_ground_truth
from ssdlite.tracking.tracker import Tracker, track
from ssdlite.video import read_video


def evaluate_tracking(
    detector: Detector,
    clip: str | Path,
    gt_path: str | Path,
    every: int = 1,
    count_line: tuple[float, float, float, float] | None = None,
    class_aware: bool = True,
    tracker_args: dict | None = None,
    **predict_args,
) -> dict:
    """Track `clip` and score the tracks against `gt_path` (MOT format, `ssdlite.tracking.mot`).

    Args:
        every: detect on every Nth frame; the tracker predicts the frames in between.
        count_line: (x1, y1, x2, y2) pixels: also count crossings of the tracks and of the
            ground truth with the same `LineCounter`.
        class_aware: a track matches ground truth only with the right class.
        tracker_args, predict_args: for `Tracker` and `Detector.predict`.

    Returns:
        {"frames", "metrics": `tracking_metrics`, and with a line "counts": {"tracked", "ground_truth"}}.

    Raises:
        ValueError: the clip or the ground truth cannot be read, or the line is outside the frame.
    """
    video = read_video(clip)
    tracker = Tracker(video.fps, **(tracker_args or {}))
    pred_frames = [
        FrameObjects(tracks.track_ids, tracks.boxes, np.array(tracks.class_names, dtype=object))
        for tracks in track(detector, video.frames, tracker, every, bgr=True, **predict_args)
    ]
    gt_frames = read_ground_truth(gt_path, CATEGORY_NAMES, len(pred_frames))
    result = {"frames": len(pred_frames), "metrics": tracking_metrics(gt_frames, pred_frames, class_aware)}
    if count_line:
        result["counts"] = {
            name: line_counts(frames, count_line, video.image_size)
            for name, frames in (("tracked", pred_frames), ("ground_truth", gt_frames))
        }
    return result


def line_counts(
    frames: list[FrameObjects], line: tuple[float, float, float, float], image_size: tuple[int, int]
) -> dict[str, dict[str, int]]:
    """`LineCounter.counts` of a sequence of frames."""
    counter = LineCounter(line, image_size)
    for frame in frames:
        counter.update(frame.boxes, frame.ids, list(frame.class_names))
    return counter.counts()
