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

        def candidate_boxes(index: int, anchor_index: Tensor) -> Tensor:  # only the candidates are decoded
            boxes = self.box_coder.decode(bbox_regression[index, anchor_index], anchors[anchor_index])
            return clip_boxes_to_image(boxes, image_size)

        return self._detections(self.class_scores(cls_logits), candidate_boxes, image_size, orig_sizes)

    def decode(
        self, cls_logits: Tensor, bbox_regression: Tensor, anchors: Tensor, image_size: tuple[int, int]
    ) -> tuple[Tensor, Tensor]:
        """The dense part, for every anchor: (scores Tensor[B, A, C-1] of the object classes, boxes
        Tensor[B, A, 4] xyxy input pixels, clipped to the input). An exported network can end with it
        (`ssdlite.inference.openvino_ir`), so that the runtime computes it in its own kernels."""
        boxes = clip_boxes_to_image(self.box_coder.decode(bbox_regression, anchors), image_size)
        return self.class_scores(cls_logits), boxes

    def select(
        self, scores: Tensor, boxes: Tensor, image_size: tuple[int, int], orig_sizes: list[tuple[int, int]] | None = None
    ) -> list[dict[str, Tensor]]:
        """Detections from `decode`'s (scores, boxes) of a batch; arguments and result as in `__call__`."""
        return self._detections(scores, lambda index, anchor_index: boxes[index, anchor_index], image_size, orig_sizes)

    def _detections(
        self, scores: Tensor, candidate_boxes, image_size: tuple[int, int], orig_sizes: list[tuple[int, int]] | None
    ) -> list[dict[str, Tensor]]:
        """Per image of scores Tensor[B, A, C-1]: the candidates that pass the threshold and the top-k, their
        boxes from `candidate_boxes(image index, anchor index)` Tensor[N, 4], and one class-wise `batched_nms`."""
        detections = []
        for index in range(scores.shape[0]):
            candidate_scores, anchor_index, labels = self.candidates(scores[index])
            boxes = candidate_boxes(index, anchor_index)  # (N, 4)
            kept = batched_nms(boxes, candidate_scores, labels, self.nms_iou_threshold)[: self.max_detections_per_image]
            detection = {"boxes": boxes[kept], "scores": candidate_scores[kept], "labels": labels[kept]}
            if orig_sizes is not None:
                detection["boxes"] = scale_boxes(detection["boxes"], image_size, orig_sizes[index])
            detections.append(detection)
        return detections

    def candidates(self, scores: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Per-class top-k above the threshold, then the best `max_candidates_per_image`.

        Args:
            scores: Tensor[A, K] of the object classes.

        Returns:
            (scores, anchor index, label 1..K) of each candidate, Tensor[N] each.
        """
        column_labels = torch.arange(1, scores.shape[1] + 1, device=scores.device)  # (K,) the label of each column
        if self.labels_to_keep is not None:
            column_labels = column_labels.new_tensor(sorted(self.labels_to_keep))
            scores = scores[:, column_labels - 1]
        num_anchors, num_classes = scores.shape
        top_scores, top_anchors = scores.topk(min(self.topk_per_class, num_anchors), dim=0)  # (k, K)
        # the best of all classes' top-k; a mask, not a count, so an exported graph keeps the threshold
        scores, best = top_scores.flatten().topk(min(self.max_candidates_per_image, top_scores.numel()))
        passing = scores > self.score_threshold
        scores, best = scores[passing], best[passing]  # best: index into the flattened (k, K)
        return scores, top_anchors.flatten()[best], column_labels[best % num_classes]


def scale_boxes(boxes: Tensor, from_size: tuple[int, int], to_size: tuple[int, int]) -> Tensor:
    """xyxy pixel boxes of an image of `from_size` (H, W), in the pixels of the same image at `to_size` (H, W)."""
    (from_h, from_w), (to_h, to_w) = from_size, to_size
    return boxes * boxes.new_tensor([to_w / from_w, to_h / from_h] * 2)
