"""Datasets from a `DataConfig`."""

from pathlib import Path
from typing import Literal

from ssdlite.config import DataConfig
from ssdlite.data.coco import CocoDetection, DatasetError
from ssdlite.data.synthetic import make_synthetic_dataset
from ssdlite.data.transforms import train_transform, val_transform

COCO_HELP = (
    "COCO 2017 comes from https://cocodataset.org/#download (train2017.zip, val2017.zip, "
    "annotations_trainval2017.zip), unpacked under data/coco/; other data: set "
    "data.train_images, data.train_annotations, data.val_images and data.val_annotations"
)


class DataNotFoundError(DatasetError, FileNotFoundError):
    """Image folders or annotation files the config names are not on disk."""


def make_builtin_data(cfg: DataConfig) -> None:
    """The built-in synthetic data (`cfg.synthetic`), made once, in the parent of its annotation folder."""
    if cfg.synthetic and not Path(cfg.val_annotations).is_file():
        root = Path(cfg.val_annotations).parent.parent
        make_synthetic_dataset(
            root, cfg.synthetic_train_images, cfg.synthetic_val_images, cfg.synthetic_seed, cfg.synthetic_scene
        )


def build_dataset(cfg: DataConfig, split: Literal["train", "val"], image_size: tuple[int, int]) -> CocoDetection:
    """The train (augmented) or val (resize only) split the config describes.

    Raises:
        DataNotFoundError: naming every missing path and how to get the data.
    """
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    images = Path(getattr(cfg, f"{split}_images"))
    annotations = Path(getattr(cfg, f"{split}_annotations"))
    missing = [str(p) for p in (annotations, images) if not p.exists()]
    if missing:
        raise DataNotFoundError(f"{split} data not found: {', '.join(missing)}. {COCO_HELP}")
    if split == "train":
        transform = train_transform(image_size, cfg.photometric, cfg.zoom_out_max, cfg.min_iou_crop, cfg.hflip)
    else:
        transform = val_transform(image_size)
    category_map = dict(cfg.category_map) if cfg.category_map else None
    return CocoDetection(
        images, annotations, transform, cfg.classes, cfg.keep_empty_images, cfg.max_bad_image_fraction, category_map
    )


__all__ = ["build_dataset", "DataNotFoundError", "DatasetError"]
