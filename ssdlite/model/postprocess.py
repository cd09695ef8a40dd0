"""From raw head outputs to final detections per image."""

from typing import Literal

import torch
from torch import Tensor
from torchvision.ops import batched_nms, clip_boxes_to_image

from ssdlite.model.box_coder import BoxCoder

ScoreActivation = Literal["softmax", "sigmoid"]  # "softmax": column 0 is background
FEW_CLASSES = 16  # columns (with background) below which softmax runs over the anchors' axis


class Postprocessor:
    """Scores, score threshold, per-class top-k, class-wise NMS, max detections.

    Args:
        box_coder: decodes regression offsets against the anchors.
        score_activation: "softmax" (column 0 is background) or "sigmoid".
        score_threshold: candidates scoring at or below this are dropped.
        topk_per_class: at most this many candidates per class...
        max_candidates_per_image: ...and this many in all (the best) enter NMS, which
            bounds its cost when an untrained or unsure model scores everything.
        nms_iou_threshold: IoU above which a lower-scoring box of the same class is removed.
        max_detections_per_image: detections kept per image, best first.
        labels_to_keep: labels (1..C-1) to detect, chosen before top-k, NMS and the
            max-detections cap, so other classes never take their places; None: all.
    """

    def __init__(
        self,
        box_coder: BoxCoder,
        score_activation: ScoreActivation,
        score_threshold: float,
        topk_per_class: int,
        nms_iou_threshold: float,
        max_detections_per_image: int,
        max_candidates_per_image: int,
        labels_to_keep: set[int] | None = None,
    ):
        if score_activation not in ("softmax", "sigmoid"):
            raise ValueError(f"score_activation must be 'softmax' or 'sigmoid', got {score_activation!r}")
        self.box_coder = box_coder
        self.score_activation = score_activation
        self.score_threshold = score_threshold
        self.topk_per_class = topk_per_class
        self.nms_iou_threshold = nms_iou_threshold
        self.max_detections_per_image = max_detections_per_image
        self.max_candidates_per_image = max_candidates_per_image
        self.labels_to_keep = labels_to_keep

    def class_scores(self, cls_logits: Tensor) -> Tensor:
        """Tensor[..., A, C] logits -> Tensor[..., A, C-1] scores of the object classes 1..C-1."""
        if self.score_activation == "sigmoid":
            return cls_logits[..., 1:].sigmoid()
        if cls_logits.shape[-1] < FEW_CLASSES:
            # torch's CPU softmax over a last dimension this short does not vectorise: over the
            # anchors' axis the same values take 30 instead of 250 us (7 classes, 1917 anchors)
            return cls_logits.transpose(-1, -2).softmax(dim=-2).transpose(-1, -2)[..., 1:]
        return cls_logits.softmax(dim=-1)[..., 1:]

    def __call__(
        self,
        cls_logits: Tensor,
        bbox_regression: Tensor,
        anchors: Tensor,
        image_size: tuple[int, int],
        orig_sizes: list[tuple[int, int]] | None = None,
    ) -> list[dict[str, Tensor]]:
        """Detections for a batch.

        Args:
            cls_logits: Tensor[B, A, C].
            bbox_regression: Tensor[B, A, 4] offsets.
            anchors: Tensor[A, 4] xyxy input pixels.
            image_size: (H, W) of the network input.
            orig_sizes: (h, w) of each original image; boxes are scaled to it.
                None keeps input pixels.

        Returns:
            Per image, a dict of "boxes" Tensor[K, 4] xyxy pixels, "scores"
            Tensor[K] and "labels" Tensor[K] int64 in 1..C-1, best score first.
        """
        class_mask = None if self.labels_to_keep is None else self.class_mask(cls_logits.shape[-1] - 1).to(cls_logits.device)
        candidates = self.candidates(cls_logits, bbox_regression, anchors, image_size, class_mask)
        return self.select(*candidates, image_size, orig_sizes)

    def class_mask(self, num_classes: int) -> Tensor:
        """Tensor[K] float: 1 for the object classes of `labels_to_keep` (all if None), 0 for the others."""
        if self.labels_to_keep is None:
            return torch.ones(num_classes)
        return torch.zeros(num_classes).index_fill_(0, torch.tensor(sorted(self.labels_to_keep)) - 1, 1.0)

    def candidates(
        self,
        cls_logits: Tensor,
        bbox_regression: Tensor,
        anchors: Tensor,
        image_size: tuple[int, int],
        class_mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """The candidates of each image: the per-class top-k, then the best `max_candidates_per_image` of
        them; only these are decoded. Whole tensors, no threshold (that is `select`'s), so an exported
        network can end with it (`ssdlite.inference.openvino_ir`) and its runtime computes it.

        Args:
            cls_logits, bbox_regression, anchors, image_size: as in `__call__`.
            class_mask: Tensor[C-1], 0 for object classes not to detect (see `class_mask`), or None.

        Returns:
            (scores Tensor[B, N], boxes Tensor[B, N, 4] xyxy input pixels clipped to the input, labels
            Tensor[B, N] int64 in 1..C-1), best score first.
        """
        scores = self.class_scores(cls_logits)  # (B, A, K)
        if class_mask is not None:
            scores = scores * class_mask  # masked classes score 0: they never pass a threshold >= 0
        num_anchors, num_classes = scores.shape[1:]
        # top-k along the last axis: OpenVINO's TopK is slower over the strided anchors' axis
        top_scores, top_anchors = scores.transpose(1, 2).topk(min(self.topk_per_class, num_anchors), dim=2)  # (B, K, k)
        num_candidates = min(self.max_candidates_per_image, top_scores.shape[2] * num_classes)
        scores, best = top_scores.flatten(1).topk(num_candidates, dim=1)  # (B, N); best: index into (K, k)
        anchor_index = top_anchors.flatten(1).gather(1, best)  # (B, N)
        offsets = bbox_regression.gather(1, anchor_index.unsqueeze(-1).expand(-1, -1, 4))  # (B, N, 4)
        boxes = clip_boxes_to_image(self.box_coder.decode(offsets, anchors[anchor_index]), image_size)
        return scores, boxes, best // top_scores.shape[2] + 1

    def select(
        self,
        scores: Tensor,
        boxes: Tensor,
        labels: Tensor,
        image_size: tuple[int, int],
        orig_sizes: list[tuple[int, int]] | None = None,
    ) -> list[dict[str, Tensor]]:
        """Detections from `candidates`: per image, those above the score threshold, one class-wise
        `batched_nms` and the best `max_detections_per_image`; the result is as in `__call__`."""
        detections = []
        for index in range(scores.shape[0]):
            passing = torch.where(scores[index] > self.score_threshold)[0]
            image_scores, image_boxes, image_labels = scores[index, passing], boxes[index, passing], labels[index, passing]
            kept = batched_nms(image_boxes, image_scores, image_labels, self.nms_iou_threshold)
            kept = kept[: self.max_detections_per_image]
            detection = {"boxes": image_boxes[kept], "scores": image_scores[kept], "labels": image_labels[kept]}
            if orig_sizes is not None:
                detection["boxes"] = scale_boxes(detection["boxes"], image_size, orig_sizes[index])
            detections.append(detection)
        return detections


def scale_boxes(boxes: Tensor, from_size: tuple[int, int], to_size: tuple[int, int]) -> Tensor:
    """xyxy pixel boxes of an image of `from_size` (H, W), in the pixels of the same image at `to_size` (H, W)."""
    (from_h, from_w), (to_h, to_w) = from_size, to_size
    return boxes * boxes.new_tensor([to_w / from_w, to_h / from_h] * 2)
