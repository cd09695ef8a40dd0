"""Looking at a dataset: box counts and sizes per class, and the images that cannot be used."""

from collections import Counter

import numpy as np
from torch.utils.data import DataLoader, Dataset

from ssdlite.data.coco import CocoDetection, ImageRecord
from ssdlite.data.image_file import UnreadableImageError, read_image

# COCO size ranges: box area in original pixels below 32^2 is small, from 96^2 on large.
SIZE_RANGES = ("small", "medium", "large")
SIZE_LIMITS = (32**2, 96**2)


def box_statistics(dataset: CocoDetection) -> str:
    """Per-class box counts and width/height (min / median / max, original pixels) over the whole split,
    then the shares of COCO small / medium / large boxes (non-crowd), overall and per class."""
    sizes: dict[int, list[tuple[float, float]]] = {}
    crowd = Counter()
    for record in dataset.records:
        for box, label, is_crowd in zip(record.boxes, record.labels, record.iscrowd):
            if is_crowd:
                crowd[int(label)] += 1
            else:
                sizes.setdefault(int(label), []).append((box[2] - box[0], box[3] - box[1]))
    empty = sum(1 for r in dataset.records if not (~r.iscrowd).any())
    lines = [
        f"{len(dataset)} images ({empty} without boxes); box sizes in original pixels",
        f"{'class':<14}{'boxes':>7}{'crowd':>7}   width min/med/max   height min/med/max",
    ]
    for label, name in enumerate(dataset.class_names, start=1):
        wh = np.array(sizes.get(label, [(0.0, 0.0)]))
        count = len(sizes.get(label, []))
        w, h = (np.percentile(wh[:, i], [0, 50, 100]).round().astype(int) for i in (0, 1))
        lines.append(f"{name:<14}{count:>7}{crowd[label]:>7}   {'/'.join(map(str, w)):>18}   {'/'.join(map(str, h)):>18}")
    return "\n".join(lines + [""] + _size_table(sizes, dataset.class_names))


def _size_table(sizes: dict[int, list[tuple[float, float]]], class_names: tuple[str, ...]) -> list[str]:
    """Lines of the COCO size shares, overall and per class.

    Args:
        sizes: label (1..K) -> [(width, height)] of its non-crowd boxes, original pixels.
        class_names: names of labels 1..K.
    """
    lines = [
        f"COCO sizes by box area w*h: small < {SIZE_LIMITS[0]} <= medium < {SIZE_LIMITS[1]} <= large",
        f"{'class':<14}{'boxes':>7}" + "".join(f"{name:>8}" for name in SIZE_RANGES),
    ]
    rows = [("all", [wh for boxes in sizes.values() for wh in boxes])]
    rows += [(name, sizes.get(label, [])) for label, name in enumerate(class_names, start=1)]
    for name, boxes in rows:
        areas = np.array([w * h for w, h in boxes])
        shares = np.bincount(np.searchsorted(SIZE_LIMITS, areas, side="right"), minlength=len(SIZE_RANGES)) / max(len(boxes), 1)
        cells = [f"{share:.0%}" if boxes else "-" for share in shares]
        lines.append(f"{name:<14}{len(boxes):>7}" + "".join(f"{cell:>8}" for cell in cells))
    return lines


def damaged_images(dataset: CocoDetection, num_workers: int = 0) -> list[tuple[int, str, str]]:
    """(image id, path, reason) of every image of the split that training would skip: unreadable,
    or damaged (see `read_image`). Each image is decoded once, in `num_workers` processes."""
    loader = DataLoader(_ImageCheck(dataset.records), batch_size=None, num_workers=num_workers)
    return [found for found in loader if found is not None]


class _ImageCheck(Dataset):
    def __init__(self, records: list[ImageRecord]):
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[int, str, str] | None:
        record = self.records[index]
        try:
            read_image(record.path)
        except UnreadableImageError as error:
            return record.image_id, record.path, error.reason
        return None
