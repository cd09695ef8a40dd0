"""Pre-labels: a detector's boxes on a sequence of frames, kept where a person would likely keep them.

A box is kept when it is confident (its score at least `min_score`) and track-consistent: the
tracker (`ssdlite.tracking.Tracker`, ByteTrack) follows its object through at least
`min_track_frames` frames, where a false detection flickers. A kept box takes the class its
track was detected as most (summed scores), so one object keeps one class from frame to frame.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torchvision.ops import box_iou

from ssdlite.inference.predictor import Detections, Detector
from ssdlite.tracking.tracker import UNCONFIRMED, Tracker, Tracks

NO_TRACK = UNCONFIRMED  # the track id of a kept box the tracker did not follow (min_track_frames 1)
# Detections above this reach the tracker: ByteTrack keeps its tracks alive through partial
# occlusion with the low-scoring ones (tools/track.py's default too); none of them is kept unless confident.
TRACKER_SCORE = 0.1
# A kept box is more likely right than wrong: deleting a wrong box costs a person about as much as drawing a missing one.
MIN_SCORE = 0.5
MIN_TRACK_FRAMES = 3  # a road user stays in view for many frames; a false detection flickers
MATCH_IOU = 0.3  # the least IoU between a track's predicted box and a detection that continue one object


@dataclass
class FrameLabels:
    """The pre-labels of one frame. Boxes are xyxy pixels of the frame."""

    boxes: np.ndarray  # (K, 4) float32
    scores: np.ndarray  # (K,) the detector's
    labels: np.ndarray  # (K,) int, 1..C-1
    track_ids: np.ndarray  # (K,) int; NO_TRACK for a box the tracker did not follow

    def subset(self, keep: np.ndarray) -> "FrameLabels":
        return FrameLabels(self.boxes[keep], self.scores[keep], self.labels[keep], self.track_ids[keep])


@dataclass
class Prelabels:
    """The pre-labels of a sequence, and per frame how many confident detections were dropped and why."""

    frames: list[FrameLabels]  # one per input frame, in order
    confident: list[int]  # per frame: detections scoring at least min_score
    dropped_short_track: list[int]  # per frame: of those, in a track seen on fewer than min_track_frames frames

    def subset(self, indices: list[int]) -> "Prelabels":
        """The frames at `indices` (e.g. those written as images)."""
        return Prelabels(*([values[i] for i in indices] for values in (self.frames, self.confident, self.dropped_short_track)))

    def counts(self) -> dict[str, int]:
        """{"frames", "confident", "kept", "dropped_short_track", "dropped_untracked"}: the last, confident
        detections in no track (lone ones, or duplicates of a better one)."""
        kept, confident, short = (
            sum(len(frame.boxes) for frame in self.frames),
            sum(self.confident),
            sum(self.dropped_short_track),
        )
        return {
            "frames": len(self.frames),
            "confident": confident,
            "kept": kept,
            "dropped_short_track": short,
            "dropped_untracked": confident - short - kept,
        }


def prelabel(
    detector: Detector,
    frames: Iterable[np.ndarray],
    *,
    frame_rate: float,
    min_score: float = MIN_SCORE,
    min_track_frames: int = MIN_TRACK_FRAMES,
    bgr: bool = True,
) -> Prelabels:
    """Detect and track objects in `frames` and keep the confident, track-consistent boxes.

    Args:
        frames: HxWx3 uint8 images in video order, BGR (cv2's) unless `bgr=False`.
        frame_rate: of the frames, frames per second (the tracker's motion model runs on time).
        min_score: the least score of a kept box.
        min_track_frames: the least number of frames a kept box's track is detected on. 1 keeps
            confident boxes the tracker did not follow too: for images that are no sequence.

    Returns:
        The kept boxes of every frame and the counts of those dropped.
    """
    if not 0 <= min_score <= 1:
        raise ValueError(f"min_score = {min_score}: a score threshold lies in [0, 1], e.g. 0.5")
    if min_track_frames < 1:
        raise ValueError(f"min_track_frames = {min_track_frames}: give at least 1 (1 keeps boxes in no track)")
    tracker = Tracker(frame_rate, track_activation_threshold=min_score, high_score_threshold=min_score, minimum_iou=MATCH_IOU)
    tracked, untracked = [], []
    for index, frame in enumerate(frames):
        (detections,) = detector.predict(frame, score_threshold=min(TRACKER_SCORE, min_score), bgr=bgr)
        tracks = tracker.update(detections, index)
        tracked.append(_frame_labels(tracks, tracks.track_ids))
        confident = detections.scores >= min_score
        untracked.append(
            _frame_labels(detections, np.full(len(detections.boxes), NO_TRACK)).subset(confident & ~_among(detections, tracks))
        )
    _add_first_detections(tracked, untracked)
    return _keep(tracked, untracked, tracker, min_score, min_track_frames)


def _frame_labels(detections: Detections, track_ids: np.ndarray) -> FrameLabels:
    return FrameLabels(detections.boxes.reshape(-1, 4), detections.scores, detections.labels, np.asarray(track_ids, int))


def _among(detections: Detections, tracks: Tracks) -> np.ndarray:
    """(K,) bool: the detection's box is one of the tracked boxes (the tracker returns detections' boxes as they are)."""
    return (detections.boxes.reshape(-1, 1, 4) == tracks.boxes.reshape(1, -1, 4)).all(-1).any(1)


def _add_first_detections(tracked: list[FrameLabels], untracked: list[FrameLabels]) -> None:
    """Give each track its first detection, which ByteTrack reports before it confirms the track (on
    the next frame): the untracked box of the frame before the track's first that overlaps it most."""
    first_frames = {}
    for index, frame in enumerate(tracked):
        for track_id in frame.track_ids.tolist():
            first_frames.setdefault(track_id, index)
    for track_id, index in first_frames.items():
        candidates = untracked[index - 1] if index > 0 else None
        if candidates is None or not (candidates.track_ids == NO_TRACK).any():
            continue
        box = tracked[index].boxes[tracked[index].track_ids == track_id]
        overlaps = box_iou(torch.from_numpy(box), torch.from_numpy(candidates.boxes))[0].numpy()
        overlaps[candidates.track_ids != NO_TRACK] = 0  # each first detection goes to one track
        best = int(overlaps.argmax())
        if overlaps[best] >= MATCH_IOU:
            candidates.track_ids[best] = track_id


def _keep(
    tracked: list[FrameLabels], untracked: list[FrameLabels], tracker: Tracker, min_score: float, min_track_frames: int
) -> Prelabels:
    """The confident boxes of long enough tracks, each with its track's class; and the drop counts."""
    frames = [_joined(track, lone) for track, lone in zip(tracked, untracked)]
    track_ids, frames_seen = np.unique(np.concatenate([frame.track_ids for frame in frames] or [[]]), return_counts=True)
    long_enough = {int(t) for t, n in zip(track_ids, frames_seen) if n >= min_track_frames and t != NO_TRACK}
    track_labels = {track_id: votes.most_common(1)[0][0][0] for track_id, votes in tracker.votes.items()}
    result = Prelabels([], [], [])
    for frame in frames:
        confident = frame.scores >= min_score
        in_track = frame.track_ids != NO_TRACK
        keep = confident & (np.isin(frame.track_ids, list(long_enough)) | (~in_track & (min_track_frames <= 1)))
        result.confident.append(int(confident.sum()))
        result.dropped_short_track.append(int((confident & in_track & ~keep).sum()))
        frame = frame.subset(keep)
        frame.labels = np.array([track_labels.get(int(t), label) for t, label in zip(frame.track_ids, frame.labels)], int)
        result.frames.append(frame)
    return result


def _joined(first: FrameLabels, second: FrameLabels) -> FrameLabels:
    return FrameLabels(
        np.concatenate([first.boxes, second.boxes]).astype(np.float32).reshape(-1, 4),
        np.concatenate([first.scores, second.scores]),
        np.concatenate([first.labels, second.labels]).astype(int),
        np.concatenate([first.track_ids, second.track_ids]).astype(int),
    )
