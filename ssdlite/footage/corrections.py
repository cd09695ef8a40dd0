"""The work of correcting pre-labels: the boxes a person adds, removes, moves or relabels to turn
them into the final labels, against the boxes they would draw from nothing.

Pre-labels and final boxes are paired one to one by the assignment of largest total IoU (scipy's
`linear_sum_assignment` over torchvision's `box_iou`); a pair overlapping less than
SAME_OBJECT_IOU is no pair: that box is removed and the object's drawn anew.
"""

from dataclasses import dataclass, fields

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torchvision.ops import box_iou

GOOD_IOU = 0.5  # a pre-label overlapping its object less than this must be moved (COCO's loosest match)
SAME_OBJECT_IOU = 0.1  # below this a pre-label is no box of the object: moving it is drawing a new one


@dataclass
class Corrections:
    """Counts of the changes a person makes; add two with `+` to total frames."""

    added: int = 0  # objects without a pre-label
    removed: int = 0  # pre-labels of no object
    moved: int = 0  # pre-labels of an object overlapping it less than GOOD_IOU
    relabelled: int = 0  # pre-labels of an object with another class
    fixed: int = 0  # pre-labels moved, relabelled or both: the boxes a person edits, each once
    final_boxes: int = 0  # the boxes of the final labels: those drawn from nothing without pre-labels

    def __add__(self, other: "Corrections") -> "Corrections":
        return Corrections(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def total(self) -> int:
        """The boxes a person draws, deletes or edits (a box both moved and relabelled is one box to fix)."""
        return self.added + self.removed + self.fixed

    @property
    def fraction(self) -> float:
        """The corrections per box drawn from nothing (0 when there is nothing to draw and nothing to remove)."""
        return self.total / self.final_boxes if self.final_boxes else float(self.total > 0)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"total": self.total, "fraction": self.fraction}


def count_corrections(pred_boxes, pred_labels, gt_boxes, gt_labels) -> Corrections:
    """The corrections that turn one image's pre-labels into its final labels.

    Args:
        pred_boxes: [P, 4] xyxy pixels, the pre-labels (array or tensor); pred_labels: [P] class ids.
        gt_boxes: [G, 4] xyxy pixels, the final labels; gt_labels: [G] class ids, the pre-labels' kind.
    """
    pred_boxes = torch.as_tensor(np.asarray(pred_boxes, np.float32)).reshape(-1, 4)
    gt_boxes = torch.as_tensor(np.asarray(gt_boxes, np.float32)).reshape(-1, 4)
    overlaps = box_iou(pred_boxes, gt_boxes).numpy()  # (P, G)
    rows, cols = linear_sum_assignment(overlaps, maximize=True)
    paired = overlaps[rows, cols] >= SAME_OBJECT_IOU
    rows, cols = rows[paired], cols[paired]
    moved = overlaps[rows, cols] < GOOD_IOU
    relabelled = np.asarray(pred_labels)[rows] != np.asarray(gt_labels)[cols]
    return Corrections(
        added=len(gt_boxes) - len(cols),
        removed=len(pred_boxes) - len(rows),
        moved=int(moved.sum()),
        relabelled=int(relabelled.sum()),
        fixed=int((moved | relabelled).sum()),
        final_boxes=len(gt_boxes),
    )
