"""Small COCO annotation files on disk, for the data tests and the tools' error tests."""

import json
from pathlib import Path

import cv2
import numpy as np

from ssdlite.config import DataConfig
from ssdlite.data.build import coco_detection
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
    pairs = tuple(category_map.items()) if category_map else None
    return coco_detection(images_dir, annotation_file, None, DataConfig(category_map=pairs, **settings))


def write_truncated_jpeg(path: Path, keep: float = 1 / 3) -> None:
    """A 100x80 noise JPEG cut to `keep` of its bytes: OpenCV decodes the rest as grey."""
    noise = np.random.default_rng(0).integers(0, 256, (80, 100, 3), dtype=np.uint8)
    data = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    path.write_bytes(data[: int(len(data) * keep)])


def break_png_chunk(path: Path) -> None:
    """Change a byte of a PNG's first IDAT chunk, so the chunk's CRC no longer matches."""
    data = bytearray(path.read_bytes())
    data[data.index(b"IDAT") + 8] ^= 0xFF
    path.write_bytes(bytes(data))


def damage_two_images(annotations: Path) -> None:
    """Image 1 of a `write_coco` set becomes a truncated JPEG (1.jpg), image 2 a PNG with a broken chunk."""
    images = annotations.parent / "images"
    write_truncated_jpeg(images / "1.jpg")
    (images / "1.png").unlink()
    break_png_chunk(images / "2.png")
    data = json.loads(annotations.read_text())
    data["images"][0]["file_name"] = "1.jpg"
    annotations.write_text(json.dumps(data))
