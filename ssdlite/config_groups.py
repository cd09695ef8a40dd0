"""Setting groups, each given whole to the code that uses it (as mmdetection's `test_cfg=dict(...)`).

A group is frozen, so the object a constructor was given never changes under it; a config
file or caller makes a changed copy with `dataclasses.replace`::

    config.model.anchors = dataclasses.replace(config.model.anchors, min_scale=0.15)
"""

from dataclasses import dataclass
from typing import Literal

ClsLoss = Literal["softmax", "focal"]  # "softmax": CE + hard negatives; "focal": sigmoid focal loss


@dataclass(frozen=True, slots=True)
class AnchorConfig:
    """TF's multiple-grid anchors (ssdlite_mobilenet_v2_coco.config), `ssdlite.model.anchors.AnchorGenerator`."""

    min_scale: float = 0.2  # box scale on the first map, as a fraction of the input side
    max_scale: float = 0.95  # on the last map
    aspect_ratios: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)  # width / height, every map but the first
    stride8_anchor_scale: float = 0.1  # of the stride-8 map's boxes, when `model.stride8_map` adds it


@dataclass(frozen=True, slots=True)
class MatchingConfig:
    """Which anchors learn which box (`ssdlite.model.matcher.match_anchors`)."""

    iou_threshold: float = 0.5  # anchor IoU >= this with a box is a positive
    crowd_ioa_threshold: float = 0.5  # negatives this much inside a crowd region are ignored


@dataclass(frozen=True, slots=True)
class LossConfig:
    """The classification loss (`ssdlite.model.losses`); the box loss is smooth L1 with either."""

    cls_loss: ClsLoss = "softmax"
    neg_pos_ratio: float = 3.0  # "softmax": hard negatives kept per positive
    min_negatives_per_image: int = 3  # "softmax": so images with no boxes still learn "background"


@dataclass(frozen=True, slots=True)
class PostprocessConfig:
    """From scores to detections. A low score threshold and 100 detections are what COCO mAP expects."""

    score_threshold: float = 0.01  # candidates scoring at or below this are dropped
    nms_iou_threshold: float = 0.6  # IoU above which a lower-scoring box of the same class is removed
    topk_per_class: int = 100  # at most this many candidates per class...
    # ...and this many in all (the best) enter NMS, which bounds its cost (the square of it) when an
    # untrained or unsure model scores everything (docs/benchmarks.md: "Figures behind settings")
    max_candidates_per_image: int = 300
    max_detections_per_image: int = 100  # detections kept per image, best first


@dataclass(frozen=True, slots=True)
class AugmentConfig:
    """SSD's training augmentation (`ssdlite.data.transforms.train_transform`); validation has none."""

    photometric: bool = True
    zoom_out_max: float = 4.0  # 1.0 disables zoom-out
    min_iou_crop: bool = True
    hflip: bool = True
