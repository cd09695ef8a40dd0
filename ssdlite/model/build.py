"""Wiring a detector from a `ModelConfig`."""

from ssdlite.model.anchors import AnchorGenerator
from ssdlite.model.backbone import build_backbone
from ssdlite.model.box_coder import BoxCoder
from ssdlite.config import ConfigError, ModelConfig
from ssdlite.model.losses import FocalLoss, HardNegativeLoss
from ssdlite.model.detector import SSDLite
from ssdlite.model.postprocess import Postprocessor


def build_model(cfg: ModelConfig, num_classes: int) -> SSDLite:
    """SSDLite for `num_classes` outputs per anchor (object classes + background)."""
    if cfg.cls_loss == "softmax":
        loss_fn = HardNegativeLoss(cfg.neg_pos_ratio, cfg.min_negatives_per_image)
    elif cfg.cls_loss == "focal":
        loss_fn = FocalLoss()
    else:
        raise ConfigError(f"model.cls_loss must be 'softmax' or 'focal', got {cfg.cls_loss!r}")
    box_coder = BoxCoder(cfg.box_coder_weights)
    return SSDLite(
        backbone=build_backbone(cfg.width_mult, cfg.extra_channels, cfg.pretrained_backbone, cfg.stride8_map),
        num_classes=num_classes,
        anchor_generator=AnchorGenerator(
            cfg.min_scale, cfg.max_scale, cfg.aspect_ratios, stride8_scale=cfg.stride8_anchor_scale if cfg.stride8_map else None
        ),
        image_size=cfg.image_size,
        box_coder=box_coder,
        loss_fn=loss_fn,
        postprocessor=Postprocessor(
            box_coder,
            loss_fn.score_activation,
            cfg.score_threshold,
            cfg.topk_per_class,
            cfg.nms_iou_threshold,
            cfg.max_detections_per_image,
            cfg.max_candidates_per_image,
        ),
        iou_threshold=cfg.iou_threshold,
        crowd_ioa_threshold=cfg.crowd_ioa_threshold,
    )
