"""From raw head outputs to final detections per image: defined once, here, in PyTorch.

Two parts. `Postprocessor.graph` is whole-tensor work that every runtime computes (PyTorch
itself, and the graphs exported from it for onnxruntime and OpenVINO): scores, per-class
top-k, decoding, the score threshold and class-wise NMS, giving the candidates and the rows
kept. `detections` then picks each image's kept rows and scales their boxes, on the host.
"""

from dataclasses import KW_ONLY, dataclass
from typing import Literal, NamedTuple

import torch
from torch import Tensor
from torchvision.ops import clip_boxes_to_image, nms

from ssdlite.config_groups import PostprocessConfig
from ssdlite.model.box_coder import BoxCoder

ScoreActivation = Literal["softmax", "sigmoid"]  # "softmax": column 0 is background
FEW_CLASSES = 16  # columns (with background) below which softmax runs over the anchors' axis


class Limits(NamedTuple):
    """What the post-processing graph takes beside the network's outputs: may change per call."""

    class_mask: Tensor  # [C-1] float: 1 for the object classes to detect, 0 for the others
    score_threshold: Tensor  # [] float32
    max_detections: Tensor  # [] int64, per image


class Outputs(NamedTuple):
    """What the post-processing graph gives (every runtime's outputs)."""

    scores: Tensor  # [B, N] candidates, best first
    boxes: Tensor  # [B, N, 4] xyxy input pixels, clipped to the input
    labels: Tensor  # [B, N] int64 in 1..C-1
    kept: Tensor  # [M, 2] int64 rows (image, candidate) that NMS keeps, each image's best first


@dataclass(frozen=True)
class Postprocessor:
    """Scores, per-class top-k, score threshold, class-wise NMS, max detections.

    Args:
        settings: thresholds and limits.
        box_coder: decodes regression offsets against the anchors.
        score_activation: "softmax" (column 0 is background) or "sigmoid".
        labels_to_keep: labels (1..C-1) to detect, chosen before top-k, NMS and the
            max-detections cap, so other classes never take their places; None: all.
    """

    settings: PostprocessConfig
    _: KW_ONLY
    box_coder: BoxCoder
    score_activation: ScoreActivation
    labels_to_keep: frozenset[int] | None = None

    def __post_init__(self):
        if self.score_activation not in ("softmax", "sigmoid"):
            raise ValueError(f"score_activation must be 'softmax' or 'sigmoid', got {self.score_activation!r}")

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
        limits = self.limits(cls_logits.shape[-1] - 1, cls_logits.device)
        return detections(self.graph(cls_logits, bbox_regression, anchors, image_size, limits), image_size, orig_sizes)

    def limits(self, num_classes: int, device: torch.device | str = "cpu") -> Limits:
        """This post-processor's `Limits` for `num_classes` object classes."""
        if self.labels_to_keep is None:
            mask = torch.ones(num_classes, device=device)
        else:
            mask = torch.zeros(num_classes, device=device)
            mask[torch.tensor(sorted(self.labels_to_keep), device=device) - 1] = 1.0
        score_threshold = torch.tensor(self.settings.score_threshold, dtype=torch.float32, device=device)
        return Limits(mask, score_threshold, torch.tensor(self.settings.max_detections_per_image, device=device))

    def class_scores(self, cls_logits: Tensor) -> Tensor:
        """Tensor[..., A, C] logits -> Tensor[..., A, C-1] scores of the object classes 1..C-1."""
        if self.score_activation == "sigmoid":
            return cls_logits[..., 1:].sigmoid()
        if cls_logits.shape[-1] < FEW_CLASSES:
            # torch's CPU softmax over a last dimension this short does not vectorise: over the
            # anchors' axis the same values take 30 instead of 250 us (7 classes, 1917 anchors)
            return cls_logits.transpose(-1, -2).softmax(dim=-2).transpose(-1, -2)[..., 1:]
        return cls_logits.softmax(dim=-1)[..., 1:]

    def graph(
        self, cls_logits: Tensor, bbox_regression: Tensor, anchors: Tensor, image_size: tuple[int, int], limits: Limits
    ) -> Outputs:
        """The whole-tensor part, which exports (`ssdlite.inference.graphs`): the candidates and the rows NMS keeps.

        Args:
            cls_logits, bbox_regression, anchors, image_size: as in `__call__`.
            limits: the class mask, score threshold and max detections per image.
        """
        scores, boxes, labels = self.candidates(
            cls_logits.float(), bbox_regression.float(), anchors, image_size, limits.class_mask
        )
        return Outputs(scores, boxes, labels, self.keep(scores, boxes, labels, image_size, limits))

    def candidates(
        self, cls_logits: Tensor, bbox_regression: Tensor, anchors: Tensor, image_size: tuple[int, int], class_mask: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """The candidates of each image: the per-class top-k, then the best `max_candidates_per_image` of
        them; only these are decoded. Masked classes (0 in `class_mask` Tensor[C-1]) score 0.

        Returns:
            (scores Tensor[B, N], boxes Tensor[B, N, 4] xyxy input pixels clipped to the input, labels
            Tensor[B, N] int64 in 1..C-1), best score first.
        """
        scores = self.class_scores(cls_logits) * class_mask  # (B, A, K); masked: never above a threshold >= 0
        num_anchors, num_classes = scores.shape[1:]
        # top-k along the last axis: OpenVINO's TopK over the strided anchors' axis cost more
        top_scores, top_anchors = scores.transpose(1, 2).topk(min(self.settings.topk_per_class, num_anchors), dim=2)  # (B, K, k)
        num_candidates = min(self.settings.max_candidates_per_image, top_scores.shape[2] * num_classes)
        scores, best = top_scores.flatten(1).topk(num_candidates, dim=1)  # (B, N); best: index into (K, k)
        anchor_index = top_anchors.flatten(1).gather(1, best)  # (B, N)
        offsets = bbox_regression.gather(1, anchor_index.unsqueeze(-1).expand(-1, -1, 4))  # (B, N, 4)
        boxes = clip_boxes_to_image(self.box_coder.decode(offsets, anchors[anchor_index]), image_size)
        return scores, boxes, best // top_scores.shape[2] + 1

    def keep(self, scores: Tensor, boxes: Tensor, labels: Tensor, image_size: tuple[int, int], limits: Limits) -> Tensor:
        """Tensor[M, 2] int64 rows (image, candidate) of the candidates above the score threshold that one
        class-wise NMS over the batch keeps, at most `limits.max_detections` per image, best first."""
        num_candidates = scores.shape[1]
        passing = (scores > limits.score_threshold).flatten().nonzero().squeeze(1)  # (P,) into the flat (B * N)
        image = passing // num_candidates
        # Boxes of other images move along x, of other classes along y, so they never overlap: one NMS
        # for the batch, exportable (torchvision's `nms` becomes ONNX's NonMaxSuppression). Two axes
        # keep the shifts small: float32 keeps its precision on the shifted coordinates.
        height, width = image_size
        shift = torch.stack([image * (width + 1), labels.flatten()[passing] * (height + 1)], dim=1).repeat(1, 2)  # (P, 4)
        passing_scores = scores.flatten()[passing]
        kept = nms(boxes.flatten(0, 1)[passing] + shift.to(boxes.dtype), passing_scores, self.settings.nms_iou_threshold)
        kept = passing[kept[passing_scores[kept].argsort(descending=True)]]  # ONNX's NMS leaves the order open
        image = kept // num_candidates
        images = torch.arange(scores.shape[0], device=scores.device)
        rank = (image[:, None] == images).long().cumsum(0).gather(1, image[:, None]).squeeze(1)  # 1 for each image's best
        kept = kept[rank <= limits.max_detections]
        return torch.stack([kept // num_candidates, kept % num_candidates], dim=1)


def detections(
    outputs: Outputs, image_size: tuple[int, int], orig_sizes: list[tuple[int, int]] | None
) -> list[dict[str, Tensor]]:
    """Per image, the kept candidates of `outputs` as `Postprocessor.__call__` gives them, boxes scaled
    from the input's `image_size` (H, W) to `orig_sizes` (each image's (h, w); None keeps input pixels)."""
    result = []
    for index in range(len(outputs.scores)):
        rows = outputs.kept[outputs.kept[:, 0] == index, 1]
        detection = {
            "boxes": outputs.boxes[index, rows],
            "scores": outputs.scores[index, rows],
            "labels": outputs.labels[index, rows],
        }
        if orig_sizes is not None:
            detection["boxes"] = scale_boxes(detection["boxes"], image_size, orig_sizes[index])
        result.append(detection)
    return result


def scale_boxes(boxes: Tensor, from_size: tuple[int, int], to_size: tuple[int, int]) -> Tensor:
    """xyxy pixel boxes of an image of `from_size` (H, W), in the pixels of the same image at `to_size` (H, W)."""
    (from_h, from_w), (to_h, to_w) = from_size, to_size
    return boxes * boxes.new_tensor([to_w / from_w, to_h / from_h] * 2)
