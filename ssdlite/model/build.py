"""Wiring the detector's parts from a `ModelConfig`: the one place its settings become objects."""

import dataclasses

from torch import Tensor, nn

from ssdlite.config import ConfigError, ModelConfig
from ssdlite.config_groups import LossConfig
from ssdlite.model.anchors import AnchorGenerator
from ssdlite.model.backbone import (
    SSDLiteBackbone,
    downsampling_blocks,
    extra_block,
    freeze,
    mobilenet_v2_features,
    regular_extra_block,
)
from ssdlite.model.box_coder import BoxCoder
from ssdlite.model.detector import SSDLite
from ssdlite.model.heads import SSDConvHead, ssdlite_head
from ssdlite.model.imagenet_weights import IMAGENET
from ssdlite.model.losses import FocalLoss, HardNegativeLoss
from ssdlite.model.postprocess import Postprocessor
from ssdlite.model.tf_padding import use_tf_same_padding


def build_backbone(cfg: ModelConfig) -> SSDLiteBackbone:
    """MobileNetV2 (with `cfg.pretrained_backbone`'s ImageNet weights, if any) cut for SSD(Lite)."""
    if cfg.pretrained_backbone == IMAGENET and cfg.width_mult != 1.0:
        raise ConfigError(
            f"model.width_mult = {cfg.width_mult}: ImageNet MobileNetV2 weights (model.pretrained_backbone="
            f"{IMAGENET!r}) exist for width 1.0 only; set model.width_mult=1.0, or model.pretrained_backbone=None"
        )
    # The extra layers scale with the width too, down to a depth of 16 (as TF).
    depths = tuple(max(16, int(c * cfg.width_mult)) for c in cfg.extra_channels)
    features = mobilenet_v2_features(cfg.width_mult, cfg.pretrained_backbone)
    if cfg.frozen_backbone_blocks:
        check_frozen_blocks(cfg, downsampling_blocks(features)[-1])
        freeze(features[: cfg.frozen_backbone_blocks])
    make_extra_block = regular_extra_block if cfg.head == "ssd" else extra_block
    backbone = SSDLiteBackbone(features, depths, cfg.stride8_map, make_extra_block=make_extra_block)
    if cfg.conv_padding == "tf_same":
        use_tf_same_padding(backbone)
    return backbone


def check_frozen_blocks(cfg: ModelConfig, split: int) -> None:
    """Frozen blocks end at the latest with the block that downsamples to stride 32."""
    if not 0 <= cfg.frozen_backbone_blocks <= split:
        raise ConfigError(f"model.frozen_backbone_blocks = {cfg.frozen_backbone_blocks}: must lie in [0, {split}]")


def build_anchor_generator(cfg: ModelConfig) -> AnchorGenerator:
    """The TF multiple-grid generator, with the small stride-8 set first when `cfg.stride8_map`."""
    return AnchorGenerator(cfg.anchors, stride8_map=cfg.stride8_map)


def build_head(cfg: ModelConfig, in_channels: list[int], num_anchors: list[int], num_classes: int) -> nn.Module:
    """The box predictors `cfg.head` names, for maps of `in_channels` with `num_anchors` per location."""
    if cfg.head == "ssd":
        return SSDConvHead(in_channels, num_anchors, num_classes, kernel_size=cfg.head_kernel_size)
    return ssdlite_head(in_channels, num_anchors, num_classes)


def build_loss(cfg: LossConfig) -> HardNegativeLoss | FocalLoss:
    """The classification loss `cfg.cls_loss` names (each with the smooth L1 box loss)."""
    if cfg.cls_loss == "softmax":
        return HardNegativeLoss(cfg.neg_pos_ratio, cfg.min_negatives_per_image)
    if cfg.cls_loss == "focal":
        return FocalLoss()
    raise ConfigError(f"model.loss.cls_loss must be 'softmax' or 'focal', got {cfg.cls_loss!r}")


def build_postprocessor(cfg: ModelConfig) -> Postprocessor:
    """Decoding, thresholds and NMS (`cfg.postprocess`) with `cfg`'s box coder and its loss's score activation."""
    return Postprocessor(
        cfg.postprocess, box_coder=BoxCoder(cfg.box_coder_weights), score_activation=build_loss(cfg.loss).score_activation
    )


def build_model(cfg: ModelConfig, num_classes: int) -> SSDLite:
    """SSDLite (or SSD, `cfg.head`) for `num_classes` outputs per anchor (object classes + background)."""
    loss_fn = build_loss(cfg.loss)
    postprocessor = build_postprocessor(cfg)
    backbone = build_backbone(cfg)
    anchor_generator = build_anchor_generator(cfg)
    num_anchors = anchor_generator.num_anchors_per_location(len(backbone.out_channels))
    return SSDLite(
        backbone=backbone,
        head=build_head(cfg, backbone.out_channels, num_anchors, num_classes),
        num_classes=num_classes,
        anchor_generator=anchor_generator,
        image_size=cfg.image_size,
        box_coder=postprocessor.box_coder,
        loss_fn=loss_fn,
        postprocessor=postprocessor,
        matching=cfg.matching,
        image_mean=cfg.image_mean,
        image_std=cfg.image_std,
    )


def build_anchors(cfg: ModelConfig) -> Tensor:
    """The anchors of the model `cfg` describes, for a network that runs elsewhere (an ONNX file).

    Returns:
        Tensor[A, 4] xyxy input pixels, equal to `build_model(cfg, ...).anchors`:
        the feature grids come from a pass through a (random) backbone of `cfg`.
    """
    backbone = build_backbone(dataclasses.replace(cfg, pretrained_backbone=None))
    return build_anchor_generator(cfg)(backbone.grid_sizes(cfg.image_size), cfg.image_size)
