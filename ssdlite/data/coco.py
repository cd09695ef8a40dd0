"""COCO-format detection datasets: one annotation index, validated at load time."""

import contextlib
import io
import json
import logging
import math
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from pycocotools.coco import COCO
from torch.utils.data import Dataset

from ssdlite.data.image_file import UnreadableImageError, read_image

log = logging.getLogger(__name__)

EXAMPLES = 5  # record ids quoted per problem
# The keys every record must have: what this module and pycocotools' index read.
REQUIRED_KEYS = {
    "images": ("id", "file_name", "height", "width"),
    "annotations": ("id", "image_id", "category_id", "bbox"),
    "categories": ("id", "name"),
}


class DatasetError(ValueError):
    """Annotations or images that cannot be trained on; the message says which and how to fix them."""


@dataclass
class ImageRecord:
    """One image's annotations, in the contiguous label space."""

    image_id: int
    path: str
    height: int
    width: int
    boxes: np.ndarray  # (N, 4) float32 xyxy pixels of the original image
    labels: np.ndarray  # (N,) int64 in 1..K
    iscrowd: np.ndarray  # (N,) bool


class CocoDetection(Dataset):
    """A detection dataset in COCO format.

    The annotation file is parsed once, in the main process; DataLoader
    workers share the index. Category ids (with gaps, or any ids a custom
    dataset uses) map to contiguous labels 1..K in `class_names` order;
    0 is background.

    Args:
        images_dir: folder the images' `file_name`s are relative to.
        annotation_file: COCO instances JSON.
        transform: called as `transform(image=HxWx3 uint8 RGB, bboxes=(N,4) xyxy,
            labels=(N,), iscrowd=(N,))`, returning the same keys with `image` a
            Tensor[3, H, W] (see `ssdlite.data.transforms`); None: the image as a uint8 tensor.
        classes: category names to keep, in label order (after `category_map`); None
            keeps every category, sorted by id.
        keep_empty_images: keep images left with no boxes (as background).
        max_bad_image_fraction: unreadable images (damaged ones too, see `read_image`) tolerated,
            as a fraction of the dataset, before loading stops with an error.
        category_map: file category name -> class name, applied first (see `map_categories`).
    """

    def __init__(
        self,
        images_dir: str | Path,
        annotation_file: str | Path,
        transform,
        *,
        classes: tuple[str, ...] | None,
        keep_empty_images: bool,
        max_bad_image_fraction: float,
        category_map: Mapping[str, str] | None = None,
    ):
        self.images_dir = Path(images_dir)
        self.annotation_file = Path(annotation_file)
        self.transform = transform
        self.max_bad_image_fraction = max_bad_image_fraction
        self.coco = COCO()
        data = read_annotation_file(self.annotation_file)
        self.coco.dataset = map_categories(data, category_map) if category_map else data
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints timings
            self.coco.createIndex()
        self._check_records()
        self.class_names, category_ids = self._select_classes(classes)
        self.label_to_category_id = {label: cid for label, cid in enumerate(category_ids, start=1)}
        self.category_id_to_label = {cid: label for label, cid in self.label_to_category_id.items()}
        records = self._build_records()
        if not keep_empty_images:
            records = [r for r in records if (~r.iscrowd).any()]
        if not records:
            raise DatasetError(f"{annotation_file}: no images left with classes {self.class_names}")
        self.records = records
        self.image_ids = [r.image_id for r in records]
        self._bad_images: set[str] = set()  # per process: each DataLoader worker counts its own

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict]:
        """(image Tensor[3, H, W], target); an unreadable image is reported and the next one served."""
        for offset in range(len(self.records)):
            record = self.records[(index + offset) % len(self.records)]
            image = self._read(record)
            if image is not None:
                return self._sample(record, image)
        raise DatasetError(f"no image of {self.annotation_file} could be read")

    def _read(self, record: ImageRecord) -> np.ndarray | None:
        """The image, or None when it cannot be read or is damaged (counted against `max_bad_image_fraction`)."""
        try:
            return read_image(record.path)
        except UnreadableImageError as error:
            reason = error.reason
        if record.path not in self._bad_images:
            self._bad_images.add(record.path)
            log.warning("skipping unreadable image %s (image id %d): %s", record.path, record.image_id, reason)
        allowed = max(1, math.floor(self.max_bad_image_fraction * len(self.records)))
        if len(self._bad_images) > allowed:
            raise DatasetError(
                f"{len(self._bad_images)} unreadable images in {self.images_dir} (more than "
                f"{self.max_bad_image_fraction:.1%} of {len(self.records)}), e.g. {sorted(self._bad_images)[:EXAMPLES]}; "
                "re-download or remove them, or raise data.max_bad_image_fraction"
            )
        return None

    def _sample(self, record: ImageRecord, image: np.ndarray) -> tuple[torch.Tensor, dict]:
        target = {"image_id": record.image_id, "orig_size": (record.height, record.width)}
        if self.transform is None:
            boxes, labels, iscrowd = record.boxes, record.labels, record.iscrowd
            image_tensor = torch.from_numpy(image).permute(2, 0, 1).contiguous()
        else:
            out = self.transform(image=image, bboxes=record.boxes, labels=record.labels, iscrowd=record.iscrowd)
            image_tensor = out["image"]
            boxes = np.asarray(out["bboxes"], dtype=np.float32).reshape(-1, 4)
            labels, iscrowd = np.asarray(out["labels"]), np.asarray(out["iscrowd"])
            keep = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)  # under a pixel after resizing
            boxes, labels, iscrowd = boxes[keep], labels[keep], iscrowd[keep]
        target["boxes"] = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        target["labels"] = torch.as_tensor(labels, dtype=torch.int64).reshape(-1)
        target["iscrowd"] = torch.as_tensor(iscrowd, dtype=torch.bool).reshape(-1)
        return image_tensor, target

    def _check_records(self) -> None:
        """Every problem with the annotation file, reported together."""
        data = self.coco.dataset
        image_ids = [img["id"] for img in data.get("images", [])]
        annotation_ids = [ann["id"] for ann in data.get("annotations", [])]
        category_ids = {cat["id"] for cat in data.get("categories", [])}
        known_images = set(image_ids)
        problems = []
        duplicates = [i for i, n in Counter(image_ids).items() if n > 1]
        if duplicates:
            problems.append(f"{len(duplicates)} duplicate image ids, e.g. {duplicates[:EXAMPLES]}")
        duplicates = [i for i, n in Counter(annotation_ids).items() if n > 1]
        if duplicates:
            problems.append(f"{len(duplicates)} duplicate annotation ids, e.g. {duplicates[:EXAMPLES]}")
        unknown = [(a["id"], a["category_id"]) for a in data.get("annotations", []) if a["category_id"] not in category_ids]
        if unknown:
            examples = ", ".join(f"annotation {a} -> category {c}" for a, c in unknown[:EXAMPLES])
            problems.append(
                f"{len(unknown)} annotations with unknown category ids ({examples}); known ids: {sorted(category_ids)}"
            )
        orphans = [a["id"] for a in data.get("annotations", []) if a["image_id"] not in known_images]
        if orphans:
            problems.append(f"{len(orphans)} annotations of images not listed, e.g. annotation ids {orphans[:EXAMPLES]}")
        missing = [img["file_name"] for img in data.get("images", []) if not os.path.isfile(self.images_dir / img["file_name"])]
        if missing:
            problems.append(f"{len(missing)} images missing under {self.images_dir}, e.g. {missing[:EXAMPLES]}")
        if problems:
            raise DatasetError(
                f"{self.annotation_file} has {len(problems)} kinds of problem: "
                + "; ".join(f"({number}) {problem}" for number, problem in enumerate(problems, 1))
                + ". Fix the annotation file (or the image folder) and run again."
            )

    def _select_classes(self, classes: tuple[str, ...] | None) -> tuple[tuple[str, ...], list[int]]:
        categories = sorted(self.coco.dataset.get("categories", []), key=lambda c: c["id"])
        by_name = {}
        for category in categories:
            by_name.setdefault(category["name"], category["id"])
        if classes is None:
            return tuple(c["name"] for c in categories), [c["id"] for c in categories]
        unknown = [name for name in classes if name not in by_name]
        if unknown:
            raise DatasetError(f"data.classes {unknown} are not in {self.annotation_file}; its categories: {list(by_name)}")
        return tuple(classes), [by_name[name] for name in classes]

    def _build_records(self) -> list[ImageRecord]:
        records, dropped, clipped = [], 0, 0
        for image_id in sorted(self.coco.imgs):
            info = self.coco.imgs[image_id]
            height, width = int(info["height"]), int(info["width"])
            boxes, labels, iscrowd = [], [], []
            for ann in self.coco.imgToAnns.get(image_id, []):
                label = self.category_id_to_label.get(ann["category_id"])
                if label is None:
                    continue  # a class outside the chosen subset
                x, y, w, h = (float(v) for v in ann["bbox"])
                if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
                    dropped += 1
                    continue
                box = [
                    min(max(x, 0.0), width),
                    min(max(y, 0.0), height),
                    min(max(x + w, 0.0), width),
                    min(max(y + h, 0.0), height),
                ]
                if box[2] - box[0] < 1 or box[3] - box[1] < 1:  # outside the image, or under a pixel once clipped
                    dropped += 1
                    continue
                clipped += box != [x, y, x + w, y + h]
                boxes.append(box)
                labels.append(label)
                iscrowd.append(bool(ann.get("iscrowd", 0)))
            records.append(
                ImageRecord(
                    image_id,
                    str(self.images_dir / info["file_name"]),
                    height,
                    width,
                    np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                    np.asarray(labels, dtype=np.int64),
                    np.asarray(iscrowd, dtype=bool),
                )
            )
        if dropped or clipped:
            log.warning(
                "%s: dropped %d degenerate boxes (NaN, width or height <= 0, or outside the image); "
                "clipped %d boxes to the image border",
                self.annotation_file,
                dropped,
                clipped,
            )
        return records


def map_categories(data: dict, category_map: Mapping[str, str]) -> dict:
    """`data` with its categories renamed by `category_map`, several merging into one.

    A merged category keeps the smallest id among its sources; annotations of categories
    the map leaves out are dropped (those of unknown ids are kept, for `_check_records`).
    """
    categories = sorted(data.get("categories", []), key=lambda c: c["id"])
    old_to_name = {c["id"]: category_map.get(c["name"]) for c in categories}
    name_to_id = {}
    for category in categories:
        if old_to_name[category["id"]] is not None:
            name_to_id.setdefault(old_to_name[category["id"]], category["id"])
    annotations = []
    for ann in data.get("annotations", []):
        if ann["category_id"] not in old_to_name:
            annotations.append(ann)
        elif old_to_name[ann["category_id"]] is not None:
            annotations.append(ann | {"category_id": name_to_id[old_to_name[ann["category_id"]]]})
    return data | {"categories": [{"id": i, "name": n} for n, i in name_to_id.items()], "annotations": annotations}


def read_annotation_file(path: Path) -> dict:
    """A COCO instances file as a dict, each record checked for the keys training reads.

    Raises:
        DatasetError: the file cannot be read, is not JSON or not a JSON object, or a
            record lacks a key; the message names the file and the record.
    """
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError) as error:  # ValueError: not UTF-8 or not JSON
        raise DatasetError(
            f"{path} cannot be read as JSON ({error}); "
            "point data.train_annotations or data.val_annotations at a COCO instances JSON file"
        ) from error
    if not isinstance(data, dict):
        raise DatasetError(
            f"{path} holds a JSON {type(data).__name__}; a COCO file is an object with images, annotations and categories"
        )
    for section, keys in REQUIRED_KEYS.items():
        records = data.get(section, [])
        if not isinstance(records, list):
            raise DatasetError(f"{path}: {section} is a {type(records).__name__}; it must be a list of objects")
        for index, record in enumerate(records):
            missing = [key for key in keys if not isinstance(record, dict) or key not in record]
            if missing:
                raise DatasetError(
                    f"{path}: {section}[{index}] has no {', '.join(missing)}; every entry of {section} needs {', '.join(keys)}"
                )
    # BDD100K's `ignore` flag marks a box to ignore; COCOeval reads only `iscrowd` (it
    # overwrites `ignore` with it), so an ignored box becomes a crowd region.
    for ann in data.get("annotations", []):
        if ann.get("ignore"):
            ann["iscrowd"] = 1
    return data
