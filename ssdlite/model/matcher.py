"""Assigning ground-truth boxes to anchors (SSD paper section 2.2)."""

import torch
from torch import Tensor
from torchvision.ops import box_area, box_iou

# Values of a match vector besides ground-truth indices >= 0 (as torchvision's
# `Matcher.BELOW_LOW_THRESHOLD`). IGNORE also marks ignored anchors in the class
# targets the losses take, where labels are 0 (background) and 1..K.
BACKGROUND = -1  # a negative: trains as class 0
IGNORE = -2  # neither positive nor negative (mostly inside a crowd region)


def box_ioa(boxes: Tensor, regions: Tensor) -> Tensor:
    """Intersection over the area of each box.

    Args:
        boxes: Tensor[N, 4] xyxy.
        regions: Tensor[M, 4] xyxy.

    Returns:
        Tensor[N, M]: the fraction of box n that lies inside region m.
    """
    top_left = torch.max(boxes[:, None, :2], regions[None, :, :2])  # (N, M, 2)
    bottom_right = torch.min(boxes[:, None, 2:], regions[None, :, 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(dim=-1)
    return intersection / box_area(boxes)[:, None]


def match_anchors(
    anchors: Tensor,
    gt_boxes: Tensor,
    gt_iscrowd: Tensor,
    iou_threshold: float,
    crowd_ioa_threshold: float,
) -> Tensor:
    """Match each anchor to a ground-truth box, the background, or nothing.

    An anchor is positive for the box it overlaps most when that IoU is
    >= `iou_threshold`, and every box is also forced onto its best anchor, so
    no box goes unmatched. Crowd boxes never make positives; a negative anchor
    whose area lies more than `crowd_ioa_threshold` inside a crowd box is
    ignored, since it may well contain an unlabelled object.

    Args:
        anchors: Tensor[A, 4] xyxy pixels.
        gt_boxes: Tensor[N, 4] xyxy pixels.
        gt_iscrowd: Tensor[N] bool.

    Returns:
        Tensor[A] int64: index into `gt_boxes` for positives, else
        `BACKGROUND` or `IGNORE`.
    """
    matched = torch.full((anchors.shape[0],), BACKGROUND, dtype=torch.int64, device=anchors.device)
    object_ids = torch.nonzero(~gt_iscrowd).flatten()  # (N_obj,)
    if object_ids.numel() > 0:
        iou = box_iou(gt_boxes[object_ids], anchors)  # (N_obj, A)
        best_iou, best_object = iou.max(dim=0)  # (A,)
        matched = torch.where(best_iou >= iou_threshold, object_ids[best_object], matched)
        best_anchor = iou.argmax(dim=1)  # (N_obj,)
        matched[best_anchor] = object_ids
    crowd_ids = torch.nonzero(gt_iscrowd).flatten()
    if crowd_ids.numel() > 0:
        inside_crowd = box_ioa(anchors, gt_boxes[crowd_ids]).max(dim=1).values > crowd_ioa_threshold
        matched[(matched == BACKGROUND) & inside_crowd] = IGNORE
    return matched
