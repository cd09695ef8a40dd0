"""Measuring tracking: the tracker alone (given near-perfect detections), its time per frame,
and end-to-end frames per second beside the detector alone."""

import time

import numpy as np
import torch

from ssdlite.inference.predictor import Detections, Detector
from ssdlite.tracking.metrics import FrameObjects, tracking_metrics
from ssdlite.tracking.tracker import Tracker, track_frame


def tracker_alone_metrics(gt_frames: list[FrameObjects], frame_rate: float, drop: float = 0.1, jitter: float = 0.03) -> dict:
    """`tracking_metrics` of the tracker fed the ground truth as detections, with `drop` of them
    missing and each box edge moved by up to `jitter` of its size: what the tracker does with a
    detector that finds nearly everything. Seeded; classes and scores (0.9) come with the boxes."""
    rng = np.random.default_rng(0)
    tracker = Tracker(frame_rate)
    pred_frames = []
    for index, frame in enumerate(gt_frames):
        keep = rng.random(len(frame.ids)) >= drop
        boxes = frame.boxes[keep]
        sides = np.tile(boxes[:, 2:] - boxes[:, :2], 2)
        boxes = boxes + rng.uniform(-jitter, jitter, boxes.shape) * sides
        names = list(frame.class_names[keep])
        detections = Detections(boxes.astype(np.float32), np.full(len(boxes), 0.9), np.zeros(len(boxes), int), names, "", (0, 0))
        tracks = tracker.update(detections, index)
        pred_frames.append(FrameObjects(tracks.track_ids, tracks.boxes, np.array(tracks.class_names, dtype=object)))
    return tracking_metrics(gt_frames, pred_frames)


def tracker_ms_per_frame(num_objects: int = 20, num_frames: int = 300, frame_rate: float = 25.0) -> float:
    """Median milliseconds of `Tracker.update` per frame for `num_objects` detected objects, each
    moving steadily with a little jitter (detection not included)."""
    rng = np.random.default_rng(0)
    start = np.column_stack([rng.uniform(0, 560, num_objects), rng.uniform(0, 300, num_objects)])
    velocity = rng.uniform(-3, 3, (num_objects, 2))
    tracker = Tracker(frame_rate)
    times = []
    for frame in range(num_frames):
        corner = start + velocity * frame + rng.normal(0, 0.5, (num_objects, 2))
        boxes = np.hstack([corner, corner + [60, 40]]).astype(np.float32)
        detections = Detections(
            boxes, rng.uniform(0.3, 1, num_objects), np.ones(num_objects, int), ["car"] * num_objects, "", (360, 640)
        )
        began = time.perf_counter()
        tracker.update(detections, frame)
        times.append(time.perf_counter() - began)
    return 1000 * float(np.median(times[10:]))


def frames_per_second(
    detector: Detector, frames: list[np.ndarray], threads: int, every: int, frame_rate: float, **predict_args
) -> dict:
    """End-to-end frames per second over BGR frames held in memory (decoding excluded), with
    `threads` torch threads: the detector on every frame, and detection + tracking at `every`."""
    torch.set_num_threads(threads)
    list(detector.predict(frames[0], bgr=True, **predict_args))  # warm-up
    began = time.perf_counter()
    for frame in frames:
        list(detector.predict(frame, bgr=True, **predict_args))
    detector_only = len(frames) / (time.perf_counter() - began)
    tracker = Tracker(frame_rate)
    began = time.perf_counter()
    for index, frame in enumerate(frames):
        track_frame(detector, tracker, frame, index, every, bgr=True, **predict_args)
    return {"detector_only": detector_only, "tracking": len(frames) / (time.perf_counter() - began)}
