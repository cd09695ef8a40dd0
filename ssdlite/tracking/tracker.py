"""Track ids for a detector's frames: ByteTrack from the `trackers` package, adapted to our `Detections`.

The association and motion maths are the library's; this module converts
`Detections` to `supervision.Detections` and back, keeps one detection per road
user (class-agnostic NMS: ByteTrack matches boxes, not classes), gives each track
the class its detections voted for (summed scores, so a bus seen once as a truck
stays a bus), and on frames without detection (`--every N`) reports the tracks at
the boxes the library's Kalman filters predict for that frame's time.
"""

import copy
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from ssdlite.inference.predictor import Detections, Detector

UNCONFIRMED = -1  # the library's tracker_id for a detection not (yet) in a confirmed track


@dataclass
class Tracks(Detections):
    """The tracked objects of one video frame. Boxes are xyxy pixels of the frame."""

    frame: int  # 0-based frame index in the video
    track_ids: np.ndarray  # (K,) int, the same for one object in every frame it is tracked
    predicted: np.ndarray  # (K,) bool: the box is the tracker's prediction, not a detection of this frame

    def to_dict(self) -> dict:
        return (
            {"frame": self.frame}
            | super().to_dict()
            | {"track_ids": self.track_ids.tolist(), "predicted": self.predicted.tolist()}
        )


class Tracker:
    """ByteTrack (Zhang et al., 2022) over `Detections`, frame by frame.

    Feed it detections with low scores too: ByteTrack matches detections scoring
    at least `high_score_threshold` first, then uses the others to keep existing
    tracks alive through partial occlusion.

    Args:
        frame_rate: of the video, frames per second.
        lost_track_buffer: a track missing this many frames (at 30 fps; scaled to
            `frame_rate`) is ended; one found again before keeps its id.
        track_activation_threshold: the score a detection needs to start a track.
        high_score_threshold: detections scoring at least this are matched first.
        minimum_iou: the least IoU between a track's predicted box and a detection to match them.
        minimum_consecutive_frames: a new track gets its id after this many matched frames.
        duplicate_iou: of detections overlapping more than this, whatever their classes, only the
            best scoring goes to the tracker.
    """

    def __init__(
        self,
        frame_rate: float,
        *,
        lost_track_buffer: int = 30,
        track_activation_threshold: float = 0.5,
        high_score_threshold: float = 0.5,
        minimum_iou: float = 0.3,
        minimum_consecutive_frames: int = 2,
        duplicate_iou: float = 0.7,
    ):
        self.frame_rate = frame_rate
        self.byte_track = ByteTrackTracker(
            lost_track_buffer=lost_track_buffer,
            frame_rate=frame_rate,
            track_activation_threshold=track_activation_threshold,
            high_conf_det_threshold=high_score_threshold,
            minimum_iou_threshold=minimum_iou,
            minimum_consecutive_frames=minimum_consecutive_frames,
        )
        self.duplicate_iou = duplicate_iou
        self.votes: dict[int, Counter] = {}  # track id -> {(label, class name): summed score}
        self.latest: dict[int, tuple[int, str, float]] = {}  # track id -> (voted label, class name, last score)
        self.shown: set[int] = set()  # the tracks matched on the latest detected frame

    def update(self, detections: Detections, frame: int) -> Tracks:
        """Match a frame's detections to the tracks. Returns the detections that belong to a confirmed track."""
        detected = sv.Detections(
            xyxy=detections.boxes.reshape(-1, 4).astype(np.float32),
            confidence=detections.scores.astype(np.float32),
            class_id=detections.labels.astype(int),
            data={"class_name": np.array(detections.class_names, dtype=object).reshape(-1)},
        )
        tracked = self.byte_track.update(
            detected.with_nms(self.duplicate_iou, class_agnostic=True),
            timestamp=frame / self.frame_rate,  # the time since the last detected frame drives the prediction
        )
        tracked = tracked[tracked.tracker_id != UNCONFIRMED]
        class_names = list(tracked.data["class_name"]) if len(tracked) else []
        for track_id, label, name, score in zip(tracked.tracker_id, tracked.class_id, class_names, tracked.confidence):
            votes = self.votes.setdefault(int(track_id), Counter())
            votes[int(label), str(name)] += float(score)
            self.latest[int(track_id)] = (*votes.most_common(1)[0][0], float(score))
        self.shown = {int(track_id) for track_id in tracked.tracker_id}
        return _tracks(detections, frame, tracked.xyxy, tracked.tracker_id, np.zeros(len(tracked), bool), self.latest)

    def predict(self, detections: Detections, frame: int) -> Tracks:
        """A frame without detection (`detections` empty, for its source and size): the tracks matched on the
        latest detected frame, at the boxes the tracker predicts for this frame, with their latest class and score.
        The tracker itself is left as it was: the next detected frame is matched from the last one.
        """
        lookahead = copy.deepcopy(self.byte_track)
        lookahead.update(sv.Detections.empty(), timestamp=frame / self.frame_rate)
        predicted = lookahead.tracked_objects
        predicted = predicted[np.isin(predicted.tracker_id, list(self.shown))] if len(predicted) else predicted
        return _tracks(detections, frame, predicted.xyxy, predicted.tracker_id, np.ones(len(predicted), bool), self.latest)


def track(detector: Detector, frames: Iterable[np.ndarray], tracker: Tracker, every: int = 1, **predict_args) -> Iterator[Tracks]:
    """Detect on every `every`-th frame and track; the tracker predicts the frames in between.

    Args:
        frames: HxWx3 uint8 images, RGB (or BGR with `bgr=True` in `predict_args`), in video order.
        predict_args: for `Detector.predict` (score_threshold, classes, bgr, ...). Pass a low
            score threshold (0.1): the tracker uses low-scoring detections to keep tracks.

    Yields:
        One `Tracks` per frame.
    """
    for index, frame in enumerate(frames):
        yield track_frame(detector, tracker, frame, index, every, **predict_args)


def track_frame(detector: Detector, tracker: Tracker, frame: np.ndarray, index: int, every: int = 1, **predict_args) -> Tracks:
    """One step of `track`: frame `index` of the video (0-based), detected when `index` is a multiple of `every`."""
    if index % every:
        return tracker.predict(_no_detections(frame), index)
    (detections,) = detector.predict(frame, **predict_args)
    return tracker.update(detections, index)


def _no_detections(frame: np.ndarray) -> Detections:
    empty = np.zeros(0)
    return Detections(empty.reshape(0, 4).astype(np.float32), empty, empty.astype(int), [], "", frame.shape[:2])


def _tracks(detections: Detections, frame: int, boxes, track_ids, predicted, latest: dict) -> Tracks:
    track_ids = np.asarray(track_ids, dtype=int)
    labels, class_names, scores = zip(*(latest[int(track_id)] for track_id in track_ids)) if len(track_ids) else ((), (), ())
    return Tracks(
        boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        scores=np.asarray(scores, np.float32),
        labels=np.asarray(labels, int),
        class_names=list(class_names),
        source=detections.source,
        image_size=detections.image_size,
        frame=frame,
        track_ids=track_ids,
        predicted=np.asarray(predicted, bool),
    )
