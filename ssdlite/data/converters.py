"""Driving datasets to COCO JSON: BDD100K detection labels and KITTI object labels.

Classes map onto COCO's driving categories (ids as in COCO); classes a
mapping leaves out are dropped and counted. Boxes come out as COCO
[x, y, w, h] in pixels. Bad records stop the conversion with a
`ConversionError` naming the file, the frame or line, and the fix.
"""

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Literal, NamedTuple

from PIL import Image

from ssdlite.assets import write_atomically
from ssdlite.errors import SsdliteError

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

# BDD100K detection categories of the 2018 release (person, bike, motor) and of det_20
# (pedestrian, bicycle, motorcycle, other person, other vehicle, trailer), with the renames of
# the official toolkit's det config (bdd100k 1.0.1, configs/det.toml: caravan and van are cars).
BDD100K_TO_COCO = {
    "pedestrian": "person", "person": "person", "rider": "person", "other person": "person",
    "bicycle": "bicycle", "bike": "bicycle",
    "car": "car", "caravan": "car", "van": "car", "other vehicle": "car",
    "motorcycle": "motorcycle", "motor": "motorcycle",
    "bus": "bus", "truck": "truck", "trailer": "truck", "train": "train", "traffic light": "traffic light",
}  # fmt: skip
# Categories the official toolkit keeps only as ignored regions (its `ignored_mapping`): iscrowd 1.
BDD100K_IGNORED = frozenset({"other person", "other vehicle", "trailer"})
# Label attributes read as flags; Scalabel files hold JSON true / false. `crowd` and `ignored`
# make a crowd region, as the toolkit's check_crowd / check_ignored do.
BDD100K_FLAGS = ("occluded", "truncated", "crowd", "ignored")
BDD100K_SIZE = (720, 1280)  # (height, width) of every BDD100K image
# Box corners: "inclusive" reads x2, y2 as the last pixel inside the box (width x2 - x1 + 1), as the
# official converter (scalabel box2d_to_bbox) and BDD100K's own COCO files do; "exclusive": x2 - x1.
BoxConvention = Literal["inclusive", "exclusive"]

# KITTI object types. A Cyclist box holds the bicycle and its rider; it maps to bicycle.
KITTI_TO_COCO = {
    "Pedestrian": "person", "Person_sitting": "person", "Cyclist": "bicycle",
    "Car": "car", "Van": "car", "Truck": "truck", "Tram": "train",
}  # fmt: skip
# KITTI DontCare regions hold unlabelled objects. COCO needs a category for a crowd
# region; the matcher never makes positives of crowd regions, only ignores anchors in them.
KITTI_DONT_CARE = "DontCare"
DONT_CARE_CATEGORY = "car"
KITTI_FIELDS = "type truncated occluded alpha left top right bottom height width length x y z rotation_y"


class Difficulty(NamedTuple):
    min_height: float  # box height (bottom - top) in pixels
    max_occlusion: int  # 0 fully visible, 1 partly occluded, 2 largely occluded, 3 unknown
    max_truncation: float  # fraction of the object outside the image


# KITTI's levels, as its object devkit (evaluate_object.cpp) defines them.
KITTI_DIFFICULTY = {
    "easy": Difficulty(40, 0, 0.15),
    "moderate": Difficulty(25, 1, 0.30),
    "hard": Difficulty(25, 2, 0.50),
}


class ConversionError(SsdliteError, ValueError):
    """A label file that cannot be converted; the message names the file and record."""


def write_json(data: dict, path: str | Path) -> None:
    """Write `data` to a temporary file beside `path`, then rename it: never half a file."""
    write_atomically(Path(path), lambda temporary: temporary.write_text(json.dumps(data)))


def _categories(class_map: dict[str, str]) -> list[dict]:
    names = sorted(set(class_map.values()) | {DONT_CARE_CATEGORY}, key=lambda n: COCO_DRIVING[n])
    return [{"id": COCO_DRIVING[n], "name": n, "supercategory": "person" if n == "person" else "vehicle"} for n in names]


def _annotation(ann_id: int, image_id: int, name: str, bbox: list[float], iscrowd: bool) -> dict:
    """A COCO annotation of a [x, y, w, h] pixel box."""
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": COCO_DRIVING[name],
        "bbox": bbox,
        "area": bbox[2] * bbox[3],
        "iscrowd": int(iscrowd),
    }


def _corners(where: str, x1: float, y1: float, x2: float, y2: float) -> None:
    if x2 < x1 or y2 < y1:
        raise ConversionError(
            f"{where}: box corners ({x1}, {y1}) to ({x2}, {y2}) have x2 < x1 or y2 < y1; swap them or delete the object"
        )


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
    labels_json: str | Path,
    images_dir: str | Path | None = None,
    class_map: dict[str, str] = BDD100K_TO_COCO,
    box_convention: BoxConvention = "inclusive",
) -> dict:
    """BDD100K detection labels (Scalabel JSON: a list of frames) to a COCO dict.

    Matches the official toolkit (`python -m bdd100k.label.to_coco -m det`) in images,
    boxes and crowd flags; categories follow `class_map` rather than BDD's ten.

    Args:
        labels_json: e.g. `bdd100k_labels_images_val.json` (2018) or `det_val.json` (det_20).
        images_dir: if given, image sizes are read from the files; else 1280x720.
        class_map: BDD100K category -> COCO driving category name.
        box_convention: how x2, y2 are read (see `BoxConvention`).

    Returns:
        A COCO instances dict, every frame an image (also those with `labels: null`).
        Labels without `box2d` (lanes, drivable area) are skipped.

    Raises:
        ConversionError: a frame without `name`, a box with x2 < x1 or y2 < y1, a flag
            attribute that is not true / false; the message names the file, frame and label.
    """
    labels_json = Path(labels_json)
    images, annotations, dropped = [], [], Counter()
    for image_id, frame in enumerate(_read_frames(labels_json), start=1):
        if not isinstance(frame, dict) or "name" not in frame:
            raise ConversionError(
                f"{labels_json}: frame {image_id - 1} (counting from 0) has no 'name'; "
                'give it its image file name, e.g. "name": "b1c66a42-6f7d68ca.jpg"'
            )
        height, width = _image_size(Path(images_dir) / frame["name"]) if images_dir else BDD100K_SIZE
        images.append({"id": image_id, "file_name": frame["name"], "height": height, "width": width})
        for label in frame.get("labels") or []:
            if label.get("box2d") is None:
                continue
            where = f"{labels_json}: frame {frame['name']}, label {label.get('id')}"
            bbox, iscrowd = _bdd100k_box(where, label, box_convention)
            name = class_map.get(label.get("category"))
            if name is None:
                dropped[label.get("category")] += 1
                continue
            annotations.append(_annotation(len(annotations) + 1, image_id, name, bbox, iscrowd))
    _report(labels_json, dropped)
    return {"images": images, "annotations": annotations, "categories": _categories(class_map)}


def _read_frames(labels_json: Path) -> list:
    try:
        frames = json.loads(labels_json.read_text())
    except (OSError, ValueError) as error:  # ValueError: not UTF-8 or not JSON
        raise ConversionError(f"{labels_json} cannot be read as JSON: {error}") from error
    if not isinstance(frames, list):
        raise ConversionError(f"{labels_json}: expected a list of frames (Scalabel format), got {type(frames).__name__}")
    return frames


def _bdd100k_box(where: str, label: dict, box_convention: BoxConvention) -> tuple[list[float], bool]:
    """([x, y, w, h], whether a crowd region) of one Scalabel label with a box2d."""
    box = label["box2d"]
    try:
        x1, y1, x2, y2 = (float(box[k]) for k in ("x1", "y1", "x2", "y2"))
    except (KeyError, TypeError, ValueError) as error:
        raise ConversionError(f"{where}: bad box2d {box}; it needs numbers x1, y1, x2, y2") from error
    _corners(where, x1, y1, x2, y2)
    attributes = label.get("attributes") or {}
    for flag in BDD100K_FLAGS:
        if not isinstance(attributes.get(flag, False), bool):
            raise ConversionError(f"{where}: attribute {flag!r} is {attributes[flag]!r}; set it to true or false")
    crowd = attributes.get("crowd", False) or attributes.get("ignored", False) or label.get("category") in BDD100K_IGNORED
    extra = 1.0 if box_convention == "inclusive" else 0.0
    return [x1, y1, x2 - x1 + extra, y2 - y1 + extra], crowd


def kitti_to_coco(
    label_dir: str | Path,
    image_dir: str | Path,
    class_map: dict[str, str] = KITTI_TO_COCO,
    difficulty: Literal["easy", "moderate", "hard"] | None = None,
) -> dict:
    """KITTI object labels (one txt per image) to a COCO dict.

    Each line: `type truncated occluded alpha left top right bottom h w l x y z rotation_y`
    with the 2D box in pixels; width is right - left. `DontCare` lines become crowd regions.

    Args:
        label_dir: folder of `000000.txt`, ...
        image_dir: folder of the matching `000000.png`, ... (sizes are read from them).
        class_map: KITTI type -> COCO driving category name.
        difficulty: if given, objects beyond this level (`KITTI_DIFFICULTY`: too short, too
            occluded or too truncated) become crowd regions, which KITTI's own evaluation
            ignores: neither trained on as objects nor as background, neither missed nor
            false positives in COCO evaluation.

    Raises:
        ConversionError: a line without exactly 15 fields or with bad numbers, or a label
            file without an image; the message names the file and line.
    """
    label_dir, image_dir = Path(label_dir), Path(image_dir)
    label_files = sorted(label_dir.glob("*.txt"))
    if not label_files:
        raise ConversionError(f"no .txt label files in {label_dir}")
    missing = [f.stem for f in label_files if not _find_image(image_dir, f.stem)]
    if missing:
        raise ConversionError(f"{len(missing)} label files have no image in {image_dir}, e.g. {missing[:5]}")
    level = KITTI_DIFFICULTY[difficulty] if difficulty else None
    images, annotations, dropped = [], [], Counter()
    for image_id, label_file in enumerate(label_files, start=1):
        image_path = _find_image(image_dir, label_file.stem)
        height, width = _image_size(image_path)
        images.append({"id": image_id, "file_name": image_path.name, "height": height, "width": width})
        for line_number, line in enumerate(label_file.read_text().splitlines(), start=1):
            if not line.split():
                continue
            kind, bbox, visible = _kitti_object(f"{label_file}:{line_number}", line, level)
            if kind == KITTI_DONT_CARE:
                annotations.append(_annotation(len(annotations) + 1, image_id, DONT_CARE_CATEGORY, bbox, iscrowd=True))
            elif kind in class_map:
                annotations.append(_annotation(len(annotations) + 1, image_id, class_map[kind], bbox, iscrowd=not visible))
            else:
                dropped[kind] += 1
    _report(label_dir, dropped)
    return {"images": images, "annotations": annotations, "categories": _categories(class_map)}


def _kitti_object(where: str, line: str, level: Difficulty | None) -> tuple[str, list[float], bool]:
    """(type, [x, y, w, h], whether within `level`) of one KITTI label line."""
    fields = line.split()
    if len(fields) != 15:
        raise ConversionError(
            f"{where}: expected 15 fields ({KITTI_FIELDS}), got {len(fields)}: {line!r}; fix or delete the line"
        )
    try:
        truncation, occlusion = float(fields[1]), int(float(fields[2]))
        x1, y1, x2, y2 = (float(v) for v in fields[4:8])
    except ValueError as error:
        raise ConversionError(f"{where}: truncated, occluded and the box must be numbers: {line!r}") from error
    _corners(where, x1, y1, x2, y2)
    visible = level is None or (
        y2 - y1 >= level.min_height and occlusion <= level.max_occlusion and truncation <= level.max_truncation
    )
    return fields[0], [x1, y1, x2 - x1, y2 - y1], visible


def _find_image(image_dir: Path, stem: str) -> Path | None:
    for suffix in (".png", ".jpg", ".jpeg"):
        if (image_dir / f"{stem}{suffix}").is_file():
            return image_dir / f"{stem}{suffix}"
    return None
