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
            root,
            num_train=cfg.synthetic_train_images,
            num_val=cfg.synthetic_val_images,
            seed=cfg.synthetic_seed,
            scene=cfg.synthetic_scene,
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
        transform = train_transform(image_size, cfg.augment)
    else:
        transform = val_transform(image_size)
    return coco_detection(images, annotations, transform, cfg)


def coco_detection(images: Path, annotations: Path, transform, cfg: DataConfig) -> CocoDetection:
    """A `CocoDetection` of these files with `cfg`'s classes, category map and tolerances."""
    return CocoDetection(
        images,
        annotations,
        transform,
        classes=cfg.classes,
        keep_empty_images=cfg.keep_empty_images,
        max_bad_image_fraction=cfg.max_bad_image_fraction,
        category_map=dict(cfg.category_map) if cfg.category_map else None,
    )


__all__ = ["build_dataset", "coco_detection", "DataNotFoundError", "DatasetError"]
