"""Tracking metrics of predicted tracks against ground truth: CLEAR MOT (MOTA, ID switches), Identity
(IDF1) and HOTA, computed by the `trackers` package (TrackEval's definitions and matching).

This module only lays the frames out as the library takes them: per frame the
ground-truth and predicted ids, numbered from 0, and their IoU (torchvision).
"""

from dataclasses import dataclass

import numpy as np
import torch
from torchvision.ops import box_iou
from trackers.eval import compute_clear_metrics, compute_hota_metrics, compute_identity_metrics

IOU_THRESHOLD = 0.5  # a predicted box matches a ground-truth box at IoU >= 0.5 (CLEAR MOT, IDF1)
COUNTS = {"IDSW", "CLR_TP", "CLR_FN", "CLR_FP", "MT", "ML", "Frag"}
REPORTED = (
    "MOTA",
    "IDF1",
    "HOTA",
    "IDSW",
    "MOTP",
    "DetA",
    "AssA",
    "CLR_Re",
    "CLR_Pr",
    "CLR_TP",
    "CLR_FN",
    "CLR_FP",
    "MT",
    "ML",
    "Frag",
)


@dataclass
class FrameObjects:
    """The objects of one frame: ground truth, or a tracker's output."""

    ids: np.ndarray  # (K,) int track ids
    boxes: np.ndarray  # (K, 4) xyxy pixels
    class_names: np.ndarray  # (K,) str, the class of each object


def tracking_metrics(gt_frames: list[FrameObjects], pred_frames: list[FrameObjects], class_aware: bool = True) -> dict:
    """MOTA, IDF1, HOTA, ID switches and their parts for one sequence.

    Args:
        gt_frames, pred_frames: one entry per frame, the same frames in the same order.
        class_aware: a prediction can only match a ground-truth object of its class
            (a wrong class is a miss and a false positive).

    Returns:
        {metric name: value} for the names in REPORTED: ratios in [0, 1] (MOTA can be
        negative), counts as ints.
    """
    if len(gt_frames) != len(pred_frames):
        raise ValueError(f"{len(gt_frames)} ground-truth frames but {len(pred_frames)} predicted frames")
    gt_ids = _numbered([frame.ids for frame in gt_frames])
    pred_ids = _numbered([frame.ids for frame in pred_frames])
    similarity = [_similarity(gt, pred, class_aware) for gt, pred in zip(gt_frames, pred_frames)]
    metrics = compute_clear_metrics(gt_ids, pred_ids, similarity, IOU_THRESHOLD)
    metrics |= compute_identity_metrics(gt_ids, pred_ids, similarity, IOU_THRESHOLD)
    metrics |= compute_hota_metrics(gt_ids, pred_ids, similarity)
    return {name: int(metrics[name]) if name in COUNTS else float(metrics[name]) for name in REPORTED}


def _numbered(ids_per_frame: list[np.ndarray]) -> list[np.ndarray]:
    """The same ids renumbered 0, 1, ... across the sequence, as the library indexes its tables by id."""
    flat = np.concatenate([np.asarray(ids, int).reshape(-1) for ids in ids_per_frame] + [np.zeros(0, int)])
    _, numbered = np.unique(flat, return_inverse=True)
    return np.split(numbered, np.cumsum([len(ids) for ids in ids_per_frame])[:-1])


def _similarity(gt: FrameObjects, pred: FrameObjects, class_aware: bool) -> np.ndarray:
    """(num_gt, num_pred) IoU, zero between different classes when `class_aware`."""
    iou = box_iou(
        torch.as_tensor(gt.boxes, dtype=torch.float64).reshape(-1, 4),
        torch.as_tensor(pred.boxes, dtype=torch.float64).reshape(-1, 4),
    )
    iou = iou.numpy()
    if class_aware:
        iou = iou * (
            np.asarray(gt.class_names, dtype=object).reshape(-1, 1) == np.asarray(pred.class_names, dtype=object).reshape(1, -1)
        )
    return iou
