"""Labels from annotation tools into this project's COCO layout, onto a config's classes by name.

Boxes that reach outside their image are clipped, boxes wholly outside (or under a pixel)
dropped, and images without labels kept as images without boxes: each is reported per
labels file, as the dataset converters do. A class the config does not name stops the
import with its file and line, unless unknown classes are to be dropped (then reported
too). The COCO file is written whole or not at all.
"""

import difflib
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssdlite.footage.label_formats import LabelImportError, LabelledImage, image_size

log = logging.getLogger(__name__)

EXAMPLES = 5  # file names quoted per problem
LABEL_STUDIO_UPLOAD = re.compile(r"[0-9a-f]{8}-")  # Label Studio's prefix of an uploaded file's name
MIN_BOX_SIDE = 1.0  # pixels: a box narrower once clipped cannot be trained on (as the dataset drops it)


@dataclass
class ImportReport:
    """What an import did, for the messages: counts per labels file, and the images it left out."""

    num_images: int = 0
    num_boxes: int = 0
    per_file: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    unlabelled: list[str] = field(default_factory=list)  # images kept with no boxes
    not_found: list[str] = field(default_factory=list)  # labelled images not under the images folder

    def lines(self, images_dir: Path) -> list[str]:
        """One line per labels file with problems, then the images without labels and those not found."""
        lines = [
            f"{name}: " + "; ".join(f"{count} {what}" for what, count in sorted(counts.items()))
            for name, counts in self.per_file.items()
        ]
        if self.unlabelled:
            lines.append(
                f"{len(self.unlabelled)} images have no labels (kept, as images without boxes): {_examples(self.unlabelled)}"
            )
        if self.not_found:
            lines.append(
                f"{len(self.not_found)} labelled images are not under {images_dir} (left out): {_examples(self.not_found)}"
            )
        return lines


def labels_to_coco(
    labelled: list[LabelledImage], *, classes: tuple[str, ...], images_dir: Path, drop_unknown: bool = False
) -> tuple[dict, ImportReport]:
    """A COCO dict of `labelled` images found under `images_dir`, category ids 1..K in `classes` order.

    Class names match the config's ignoring case and surrounding spaces. Image sizes are the
    image files' own. Boxes are COCO [x, y, w, h] pixels, rounded to 0.01.

    Raises:
        LabelImportError: a class `classes` does not name (unless `drop_unknown`), naming its file and
            line and the closest names; no labelled image is under `images_dir`.
    """
    label_of = {name.strip().lower(): label for label, name in enumerate(classes, start=1)}
    report = ImportReport()
    images, annotations = [], []
    for item in labelled:
        path = _find(images_dir, item.file_name)
        if path is None:
            report.not_found.append(item.file_name)
            continue
        width, height = image_size(path)
        image = {"id": len(images) + 1, "file_name": path.relative_to(images_dir).as_posix(), "width": width, "height": height}
        images.append(image)
        counts = report.per_file[item.labels_file]
        num_before = len(annotations)
        for source in item.boxes:
            label = label_of.get(source.label.strip().lower())
            if label is None and not drop_unknown:
                raise LabelImportError(_unknown_class(source.where, source.label, classes))
            if label is None:
                counts[f"boxes of class {source.label!r}, not in the config, dropped"] += 1
            elif (box := _clipped(source.box, width, height, counts)) is not None:
                annotations.append(_annotation(len(annotations) + 1, image["id"], label, box))
        if len(annotations) == num_before:
            report.unlabelled.append(image["file_name"])
    if not images:
        raise LabelImportError(
            f"none of the {len(labelled)} labelled images is under {images_dir} (e.g. {_examples(report.not_found)}); "
            "point --images at the folder that holds them"
        )
    report.per_file = {name: counts for name, counts in report.per_file.items() if counts}
    report.num_images, report.num_boxes = len(images), len(annotations)
    categories = [{"id": label, "name": name} for label, name in enumerate(classes, start=1)]
    return {"images": images, "annotations": annotations, "categories": categories}, report


def _annotation(annotation_id: int, image_id: int, label: int, box: np.ndarray) -> dict:
    """A COCO annotation of an xyxy pixel box, to 0.01 pixel: formats that store fractions (YOLO) round-trip."""
    x1, y1, x2, y2 = (round(float(v), 2) for v in box)
    bbox = [x1, y1, round(x2 - x1, 2), round(y2 - y1, 2)]
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": label,
        "bbox": bbox,
        "area": bbox[2] * bbox[3],
        "iscrowd": 0,
    }


def _find(images_dir: Path, file_name: str) -> Path | None:
    """The image a label file names: its path under `images_dir`, else its bare name there (CVAT and
    Label Studio put folders of their own before it), else that name without the 8 hex digits and
    dash Label Studio puts before the files uploaded to it."""
    name = Path(file_name).name
    candidates = [images_dir / file_name, images_dir / name]
    if LABEL_STUDIO_UPLOAD.match(name):
        candidates.append(images_dir / name[9:])
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def _clipped(box: tuple[float, float, float, float], width: int, height: int, counts: Counter) -> np.ndarray | None:
    """The box clipped to the image, or None when less than a pixel of it is inside; counted in `counts`."""
    original = np.asarray(box, dtype=np.float64)
    clipped = np.clip(original, 0, [width, height, width, height])
    if clipped[2] - clipped[0] < MIN_BOX_SIDE or clipped[3] - clipped[1] < MIN_BOX_SIDE:
        counts["boxes outside the image or under a pixel dropped"] += 1
        return None
    if not np.array_equal(clipped, original):
        counts["boxes reaching outside the image clipped to it"] += 1
    return clipped


def _unknown_class(where: str, label: str, classes: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(label.lower(), [name.lower() for name in classes], n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"{where}: class {label!r} is not one of the config's classes {list(classes)}{hint}; "
        "add it to data.classes, rename it in the tool, or pass --drop-unknown to leave such boxes out"
    )


def _examples(names: list[str]) -> str:
    more = ", ..." if len(names) > EXAMPLES else ""
    return ", ".join(names[:EXAMPLES]) + more
