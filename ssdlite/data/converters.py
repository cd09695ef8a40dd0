"""Driving datasets to COCO JSON: BDD100K detection labels and KITTI object labels.

Classes map onto COCO's driving categories (ids as in COCO); classes a
mapping leaves out are dropped and counted. Boxes come out as COCO
[x, y, w, h] in pixels.
"""

import json
import logging
from collections import Counter
from pathlib import Path

from PIL import Image

log = logging.getLogger(__name__)

COCO_DRIVING = {
    "person": 1,
    "bicycle": 2,
    "car": 3,
    "motorcycle": 4,
    "bus": 6,
    "train": 7,
    "truck": 8,
    "traffic light": 10,
    "stop sign": 13,
}

# BDD100K detection categories (2018 "pedestrian"/"motorcycle" names and 2020 "person"/"motor"/"bike" names).
BDD100K_TO_COCO = {
    "pedestrian": "person", "person": "person", "rider": "person",
    "bicycle": "bicycle", "bike": "bicycle",
    "car": "car", "motorcycle": "motorcycle", "motor": "motorcycle",
    "bus": "bus", "truck": "truck", "train": "train", "traffic light": "traffic light",
}  # fmt: skip
# KITTI object types. A Cyclist box holds the bicycle and its rider; it maps to bicycle.
KITTI_TO_COCO = {
    "Pedestrian": "person", "Person_sitting": "person", "Cyclist": "bicycle",
    "Car": "car", "Van": "car", "Truck": "truck", "Tram": "train",
}  # fmt: skip
# KITTI DontCare regions hold unlabelled objects. COCO needs a category for a crowd
# region; the matcher never makes positives of crowd regions, only ignores anchors in them.
KITTI_DONT_CARE = "DontCare"
DONT_CARE_CATEGORY = "car"
BDD100K_SIZE = (720, 1280)  # (height, width) of every BDD100K image


class ConversionError(ValueError):
    """A label file that cannot be converted; the message names the file and record."""


def _categories(class_map: dict[str, str]) -> list[dict]:
    names = sorted(set(class_map.values()) | {DONT_CARE_CATEGORY}, key=lambda n: COCO_DRIVING[n])
    return [{"id": COCO_DRIVING[n], "name": n, "supercategory": "person" if n == "person" else "vehicle"} for n in names]


def _annotation(ann_id: int, image_id: int, name: str, x0: float, y0: float, x1: float, y1: float, iscrowd: int = 0) -> dict:
    w, h = x1 - x0, y1 - y0
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": COCO_DRIVING[name],
        "bbox": [x0, y0, w, h],
        "area": w * h,
        "iscrowd": iscrowd,
    }


def _image_size(path: Path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the image."""
    try:
        with Image.open(path) as image:
            return image.height, image.width
    except OSError as error:
        raise ConversionError(f"cannot read image {path}: {error}") from error


def _report(source: Path, dropped: Counter) -> None:
    if dropped:
        log.warning("%s: dropped %d objects of classes outside the mapping: %s", source, sum(dropped.values()), dict(dropped))


def bdd100k_to_coco(
    labels_json: str | Path, images_dir: str | Path | None = None, class_map: dict[str, str] = BDD100K_TO_COCO
) -> dict:
    """BDD100K detection labels (Scalabel JSON: a list of frames) to a COCO dict.

    Args:
        labels_json: e.g. `bdd100k_labels_images_val.json` or `det_val.json`.
        images_dir: if given, image sizes are read from the files; else 1280x720.
        class_map: BDD100K category -> COCO driving category name.

    Returns:
        A COCO instances dict. Labels without `box2d` (lanes, drivable area) are skipped.
    """
    labels_json = Path(labels_json)
    frames = json.loads(labels_json.read_text())
    if not isinstance(frames, list):
        raise ConversionError(f"{labels_json}: expected a list of frames (Scalabel format), got {type(frames).__name__}")
    images, annotations, dropped = [], [], Counter()
    for image_id, frame in enumerate(frames, start=1):
        if "name" not in frame:
            raise ConversionError(f"{labels_json}: frame {image_id - 1} has no 'name'")
        height, width = _image_size(Path(images_dir) / frame["name"]) if images_dir else BDD100K_SIZE
        images.append({"id": image_id, "file_name": frame["name"], "height": height, "width": width})
        for label in frame.get("labels") or []:
            box = label.get("box2d")
            if box is None:
                continue
            name = class_map.get(label.get("category"))
            if name is None:
                dropped[label.get("category")] += 1
                continue
            try:
                x0, y0, x1, y1 = (float(box[k]) for k in ("x1", "y1", "x2", "y2"))
            except (KeyError, TypeError, ValueError) as error:
                raise ConversionError(
                    f"{labels_json}: frame {frame['name']}, label {label.get('id')}: bad box2d {box}"
                ) from error
            annotations.append(_annotation(len(annotations) + 1, image_id, name, x0, y0, x1, y1))
    _report(labels_json, dropped)
    return {"images": images, "annotations": annotations, "categories": _categories(class_map)}


def kitti_to_coco(label_dir: str | Path, image_dir: str | Path, class_map: dict[str, str] = KITTI_TO_COCO) -> dict:
    """KITTI object labels (one txt per image) to a COCO dict.

    Each line: `type truncated occluded alpha left top right bottom h w l x y z rotation_y`
    with the 2D box in pixels. `DontCare` lines become crowd regions.

    Args:
        label_dir: folder of `000000.txt`, ...
        image_dir: folder of the matching `000000.png`, ... (sizes are read from them).
        class_map: KITTI type -> COCO driving category name.
    """
    label_dir, image_dir = Path(label_dir), Path(image_dir)
    label_files = sorted(label_dir.glob("*.txt"))
    if not label_files:
        raise ConversionError(f"no .txt label files in {label_dir}")
    missing = [f.stem for f in label_files if not _find_image(image_dir, f.stem)]
    if missing:
        raise ConversionError(f"{len(missing)} label files have no image in {image_dir}, e.g. {missing[:5]}")
    images, annotations, dropped = [], [], Counter()
    for image_id, label_file in enumerate(label_files, start=1):
        image_path = _find_image(image_dir, label_file.stem)
        height, width = _image_size(image_path)
        images.append({"id": image_id, "file_name": image_path.name, "height": height, "width": width})
        for line_number, line in enumerate(label_file.read_text().splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 15:
                raise ConversionError(f"{label_file}:{line_number}: expected 15 fields, got {len(fields)}: {line!r}")
            kind = fields[0]
            try:
                x0, y0, x1, y1 = (float(v) for v in fields[4:8])
            except ValueError as error:
                raise ConversionError(f"{label_file}:{line_number}: box is not numbers: {fields[4:8]}") from error
            if kind == KITTI_DONT_CARE:
                annotations.append(_annotation(len(annotations) + 1, image_id, DONT_CARE_CATEGORY, x0, y0, x1, y1, iscrowd=1))
            elif kind in class_map:
                annotations.append(_annotation(len(annotations) + 1, image_id, class_map[kind], x0, y0, x1, y1))
            else:
                dropped[kind] += 1
    _report(label_dir, dropped)
    return {"images": images, "annotations": annotations, "categories": _categories(class_map)}


def _find_image(image_dir: Path, stem: str) -> Path | None:
    for suffix in (".png", ".jpg", ".jpeg"):
        if (image_dir / f"{stem}{suffix}").is_file():
            return image_dir / f"{stem}{suffix}"
    return None
