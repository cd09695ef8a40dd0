"""The SSD(Lite) detector: backbone, head and anchors, with its loss and post-processing."""

import torch
from torch import Tensor, nn

from ssdlite.config_groups import MatchingConfig
from ssdlite.model.anchors import AnchorGenerator
from ssdlite.model.backbone import SSDLiteBackbone
from ssdlite.model.box_coder import BoxCoder
from ssdlite.model.losses import FocalLoss, HardNegativeLoss
from ssdlite.model.matcher import IGNORE, match_anchors
from ssdlite.model.postprocess import Postprocessor


class SSDLite(nn.Module):
    """Single-shot detector; SSDLite's depthwise-separable predictors (MobileNetV2 paper 6.2) or SSD's.

    `forward` returns plain tensors so the model exports cleanly; `loss` and
    `predict` turn them into a training loss or detections.

    Args:
        backbone: yields the feature maps.
        head: feature maps -> {"cls_logits" Tensor[B, A, C], "bbox_regression" Tensor[B, A, 4]},
            A in `anchor_generator`'s order (`ssdlite.model.heads`).
        num_classes: outputs per anchor, including background at index 0.
        anchor_generator: anchor boxes, one per head output.
        image_size: (H, W) the network takes; feature grids and anchors follow it.
        box_coder: offsets <-> boxes.
        loss_fn: `HardNegativeLoss` or `FocalLoss`.
        postprocessor: scores and NMS; its activation must match `loss_fn`.
        matching: the IoU thresholds of `match_anchors`.
        image_mean, image_std: RGB, of [0, 1] pixels; `forward` feeds the backbone
            (images - image_mean) / image_std, the convention its weights were trained on.
    """

    OUTPUT_NAMES = ("cls_logits", "bbox_regression")  # of `forward`, in order

    def __init__(
        self,
        backbone: SSDLiteBackbone,
        head: nn.Module,
        *,
        num_classes: int,
        anchor_generator: AnchorGenerator,
        image_size: tuple[int, int],
        box_coder: BoxCoder,
        loss_fn: HardNegativeLoss | FocalLoss,
        postprocessor: Postprocessor,
        matching: MatchingConfig,
        image_mean: tuple[float, float, float],
        image_std: tuple[float, float, float],
    ):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes counts background too and must be >= 2, got {num_classes}")
        if loss_fn.score_activation != postprocessor.score_activation:
            raise ValueError("the postprocessor's score activation must match the loss")
        if len(image_mean) != 3 or len(image_std) != 3 or min(image_std) <= 0:
            raise ValueError(f"image_mean and image_std need 3 values (RGB), std > 0; got {image_mean}, {image_std}")
        self.backbone = backbone
        self.num_classes = num_classes
        self.image_size = tuple(image_size)
        self.box_coder = box_coder
        self.loss_fn = loss_fn
        self.postprocessor = postprocessor
        self.matching = matching
        self.grid_sizes = backbone.grid_sizes(self.image_size)
        self.head = head
        self.register_buffer("anchors", anchor_generator(self.grid_sizes, self.image_size), persistent=False)
        # Not in the state_dict: the config records the convention, so a checkpoint saved before
        # it existed loads, and fine-tuning does not copy another model's convention with its weights.
        self.register_buffer("image_mean", torch.tensor(image_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("image_std", torch.tensor(image_std).view(1, 3, 1, 1), persistent=False)
        # NHWC weights and inputs: depthwise convolutions and their gradients run faster in it on a CPU.
        self.to(memory_format=torch.channels_last)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Raw predictions for every anchor.

        Args:
            images: Tensor[B, 3, H, W] float RGB in [0, 1], (H, W) = `image_size`; the
                normalisation by `image_mean` / `image_std` happens here (and in exported graphs).

        Returns:
            cls_logits Tensor[B, A, C] and bbox_regression Tensor[B, A, 4] (offsets).
        """
        if not torch.jit.is_tracing():  # Python-side checks; an export traces tensor operations only
            self.check_images(images)
        images = (images.contiguous(memory_format=torch.channels_last) - self.image_mean) / self.image_std
        outputs = self.head(self.backbone(images))
        return outputs["cls_logits"], outputs["bbox_regression"]

    def loss(self, cls_logits: Tensor, bbox_regression: Tensor, targets: list[dict[str, Tensor]]) -> dict[str, Tensor]:
        """Training loss.

        Args:
            cls_logits, bbox_regression: outputs of `forward`.
            targets: per image, "boxes" Tensor[N, 4] xyxy input pixels, "labels"
                Tensor[N] int64 in 1..C-1, optional "iscrowd" Tensor[N] bool.

        Returns:
            "loss", "loss_cls", "loss_box" scalars and "num_positives".
        """
        self.check_targets(targets, cls_logits.shape[0])
        cls_targets, box_targets = self.match(targets)
        losses = self.loss_fn(cls_logits, bbox_regression.float(), cls_targets, box_targets)
        losses["num_positives"] = (cls_targets > 0).sum()
        return losses

    @torch.no_grad()
    def match(self, targets: list[dict[str, Tensor]]) -> tuple[Tensor, Tensor]:
        """Per-anchor class targets Tensor[B, A] (0 background, 1..K, `IGNORE`) and box offsets Tensor[B, A, 4]."""
        cls_targets, box_targets = [], []
        for target in targets:
            boxes, labels = target["boxes"].float(), target["labels"]
            iscrowd = target.get("iscrowd", torch.zeros_like(labels, dtype=torch.bool)).bool()
            matched = match_anchors(self.anchors, boxes, iscrowd, self.matching.iou_threshold, self.matching.crowd_ioa_threshold)
            gt_index = matched.clamp(min=0)
            if boxes.shape[0] == 0:  # nothing to index: every anchor is background or ignored
                boxes, labels, gt_index = self.anchors[:1], labels.new_zeros(1), torch.zeros_like(matched)
            classes = torch.where(matched >= 0, labels[gt_index], 0)
            classes[matched == IGNORE] = IGNORE
            cls_targets.append(classes)
            box_targets.append(self.box_coder.encode(boxes[gt_index], self.anchors))
        return torch.stack(cls_targets), torch.stack(box_targets)

    @torch.no_grad()
    def postprocess(
        self, cls_logits: Tensor, bbox_regression: Tensor, orig_sizes: list[tuple[int, int]] | None = None
    ) -> list[dict[str, Tensor]]:
        """Detections from `forward` outputs; see `Postprocessor.__call__`."""
        return self.postprocessor(cls_logits.float(), bbox_regression.float(), self.anchors, self.image_size, orig_sizes)

    @torch.no_grad()
    def predict(self, images: Tensor, orig_sizes: list[tuple[int, int]] | None = None) -> list[dict[str, Tensor]]:
        """Detections per image: "boxes" Tensor[K, 4] xyxy pixels of the original
        image (of the input when `orig_sizes` is None), "scores" Tensor[K], "labels" Tensor[K]."""
        return self.postprocess(*self(images), orig_sizes)

    def check_images(self, images: Tensor) -> None:
        if not isinstance(images, Tensor) or images.dim() != 4 or images.shape[1] != 3:
            shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise ValueError(f"images must be a Tensor[B, 3, H, W], got {shape}")
        if not images.is_floating_point():
            raise ValueError(f"images must be float RGB in [0, 1], got {images.dtype}")
        if tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(
                f"images are {tuple(images.shape[-2:])} but the model was built for {self.image_size} (H, W); "
                "resize them or set model.image_size"
            )
        if images.device.type == "meta":  # shapes only, no values to check
            return
        low, high = torch.aminmax(images.detach())
        if low < 0 or high > 1:  # e.g. [-1, 1] or 0-255 input: the model normalises itself
            raise ValueError(
                f"images must be RGB in [0, 1] (the model applies image_mean / image_std itself), "
                f"got values in [{float(low):.3g}, {float(high):.3g}]"
            )

    def check_targets(self, targets: list[dict[str, Tensor]], batch_size: int) -> None:
        if len(targets) != batch_size:
            raise ValueError(f"got {len(targets)} targets for a batch of {batch_size} images")
        for index, target in enumerate(targets):
            boxes, labels = target["boxes"], target["labels"]
            where = f"target {index} (image_id {target.get('image_id', '?')})"
            if boxes.dim() != 2 or boxes.shape[-1] != 4 or labels.shape != boxes.shape[:1]:
                raise ValueError(
                    f"{where}: boxes must be Tensor[N, 4] with labels Tensor[N], "
                    f"got {tuple(boxes.shape)} and {tuple(labels.shape)}"
                )
            if not torch.isfinite(boxes).all():
                raise ValueError(f"{where}: boxes contain NaN or inf: {boxes[~torch.isfinite(boxes).all(1)][:3].tolist()}")
            degenerate = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
            if degenerate.any():
                raise ValueError(
                    f"{where}: boxes need x_min < x_max and y_min < y_max (xyxy pixels), got {boxes[degenerate][:3].tolist()}"
                )
            if ((labels < 1) | (labels >= self.num_classes)).any():
                raise ValueError(
                    f"{where}: labels must be in 1..{self.num_classes - 1} (0 is background), got {labels.unique().tolist()}"
                )
