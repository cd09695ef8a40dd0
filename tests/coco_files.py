"""Small COCO annotation files on disk, for the data tests and the tools' error tests."""

import json
from pathlib import Path

import cv2
import numpy as np

from ssdlite.config import DataConfig
from ssdlite.data.coco import CocoDetection

CATEGORIES = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 7, "name": "train"}, {"id": 90, "name": "toothbrush"}]


def write_coco(root: Path, annotations: list[dict], num_images: int = 3, extra: dict | None = None) -> Path:
    """Plain grey 100x80 (w x h) PNGs and a COCO file listing them."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    images = []
    for image_id in range(1, num_images + 1):
        cv2.imwrite(str(root / "images" / f"{image_id}.png"), np.full((80, 100, 3), 90, np.uint8))
        images.append({"id": image_id, "file_name": f"{image_id}.png", "width": 100, "height": 80})
    data = {"images": images, "annotations": annotations, "categories": CATEGORIES} | (extra or {})
    path = root / "annotations.json"
    path.write_text(json.dumps(data))
    return path


def ann(id, image_id, category_id, bbox, iscrowd=0):
    return {
        "id": id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": bbox,
        "area": bbox[2] * bbox[3],
        "iscrowd": iscrowd,
    }


def coco_dataset(images_dir: Path, annotation_file: Path, category_map: dict | None = None, **settings) -> CocoDetection:
    """A `CocoDetection` with no transform and the data config's settings, changed by `settings`."""
    cfg = DataConfig(**settings)
    return CocoDetection(
        images_dir, annotation_file, None, cfg.classes, cfg.keep_empty_images, cfg.max_bad_image_fraction, category_map
    )
