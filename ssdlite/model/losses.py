"""Classification and box losses over matched anchors.

Both losses take the same batched targets, made by `SSDLite.match`:
`cls_targets` Tensor[B, A] int64 with 0 = background, 1..K = class, and
`IGNORE` (the matcher's) for anchors that count neither way; `box_targets`
Tensor[B, A, 4] encoded offsets, read only where `cls_targets > 0`.
"""

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.ops import sigmoid_focal_loss

from ssdlite.model.matcher import IGNORE


def box_loss(bbox_regression: Tensor, box_targets: Tensor, positive: Tensor) -> Tensor:
    """Smooth L1 (beta 1) summed over positive anchors."""
    return F.smooth_l1_loss(bbox_regression[positive], box_targets[positive], beta=1.0, reduction="sum")


class HardNegativeLoss:
    """Softmax cross-entropy with hard-negative mining, plus smooth L1 (SSD paper 2.2).

    Per image, all positives and the `neg_pos_ratio` x as many negatives with the
    highest loss are kept (at least `min_negatives_per_image`, at most all).
    Both terms are divided by the number of positives in the batch (at least 1).
    """

    score_activation = "softmax"

    def __init__(self, neg_pos_ratio: float, min_negatives_per_image: int):
        self.neg_pos_ratio = neg_pos_ratio
        self.min_negatives_per_image = min_negatives_per_image

    def hard_negatives(self, cls_loss: Tensor, cls_targets: Tensor) -> Tensor:
        """Tensor[B, A] bool: the negatives kept for the loss."""
        negative = cls_targets == 0
        num_positive = (cls_targets > 0).sum(dim=1)  # (B,)
        num_keep = (num_positive * self.neg_pos_ratio).long().clamp(min=self.min_negatives_per_image)
        num_keep = torch.minimum(num_keep, negative.sum(dim=1))
        ranking_loss = cls_loss.detach().masked_fill(~negative, -float("inf"))
        rank = ranking_loss.argsort(dim=1, descending=True).argsort(dim=1)  # (B, A): 0 = hardest
        return negative & (rank < num_keep[:, None])

    def __call__(self, cls_logits: Tensor, bbox_regression: Tensor, cls_targets: Tensor, box_targets: Tensor) -> dict:
        num_classes = cls_logits.shape[-1]
        cls_loss = F.cross_entropy(
            cls_logits.reshape(-1, num_classes), cls_targets.clamp(min=0).reshape(-1), reduction="none"
        ).view_as(cls_targets)  # (B, A)
        positive = cls_targets > 0
        kept = positive | self.hard_negatives(cls_loss, cls_targets)
        normaliser = positive.sum().clamp(min=1)
        loss_cls = cls_loss[kept].sum() / normaliser
        loss_box = box_loss(bbox_regression, box_targets, positive) / normaliser
        return {"loss": loss_cls + loss_box, "loss_cls": loss_cls, "loss_box": loss_box}


class FocalLoss:
    """Sigmoid focal loss (RetinaNet) over every non-ignored anchor, plus smooth L1.

    Column 0 of the logits (background) is unused: background is "no class on".
    """

    score_activation = "sigmoid"

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0):
        self.alpha = alpha
        self.gamma = gamma

    def __call__(self, cls_logits: Tensor, bbox_regression: Tensor, cls_targets: Tensor, box_targets: Tensor) -> dict:
        num_classes = cls_logits.shape[-1]
        valid = cls_targets != IGNORE
        positive = cls_targets > 0
        one_hot = F.one_hot(cls_targets.clamp(min=0), num_classes)[..., 1:].to(cls_logits.dtype)  # (B, A, K)
        normaliser = positive.sum().clamp(min=1)
        loss_cls = (
            sigmoid_focal_loss(cls_logits[..., 1:][valid], one_hot[valid], alpha=self.alpha, gamma=self.gamma, reduction="sum")
            / normaliser
        )
        loss_box = box_loss(bbox_regression, box_targets, positive) / normaliser
        return {"loss": loss_cls + loss_box, "loss_cls": loss_cls, "loss_box": loss_box}
