"""Boxes from the files annotation tools export, read with globox (and COCO with the project's reader).

YOLO txt with its class names (`data.yaml`, `classes.txt`, `obj.names`), Pascal VOC XML,
"CVAT for images" XML and COCO JSON (CVAT's COCO 1.0, Label Studio's COCO export). Each box
keeps the file and line (or record) it came from, so every later message can name it. A file
that is not what it claims raises `LabelImportError` naming the file, the line and the fix.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.parsers import expat

import yaml
from globox import Annotation, AnnotationSet, BoundingBox, ParsingError
from PIL import Image

from ssdlite.data.coco import DatasetError, read_annotation_file
from ssdlite.errors import SsdliteError
from ssdlite.inference.inputs import IMAGE_SUFFIXES

LabelFormat = Literal["yolo", "voc", "cvat", "coco"]
# CVAT shapes that are not boxes: the export of a task of another type (segmentation, key points, ...).
CVAT_OTHER_SHAPES = ("polygon", "polyline", "points", "mask", "ellipse", "cuboid", "skeleton", "tag")


class LabelImportError(SsdliteError, ValueError):
    """A label file that cannot be imported; the message names the file, the line or record, and the fix."""


@dataclass
class SourceBox:
    label: str  # the class name the file gives
    box: tuple[float, float, float, float]  # xyxy pixels, as the file gives it (maybe outside the image)
    where: str  # "file:line", or "file: annotation <id>"


@dataclass
class LabelledImage:
    file_name: str  # as the labels name it: relative to the images folder, or with a folder of the tool's
    labels_file: str  # the file its labels came from, for the report
    boxes: list[SourceBox]


def guess_format(labels: Path) -> LabelFormat:
    """The format of an export by its shape: an .xml file is CVAT's, a .json file COCO, a folder of .xml
    files Pascal VOC, a folder of .txt files YOLO."""
    if not labels.exists():
        raise LabelImportError(f"{labels}: no such file or folder")
    if labels.is_file() and labels.suffix.lower() in (".xml", ".json"):
        return "cvat" if labels.suffix.lower() == ".xml" else "coco"
    if labels.is_dir() and any(labels.glob("*.xml")):
        return "voc"
    if labels.is_dir() and any(labels.glob("*.txt")):
        return "yolo"
    raise LabelImportError(
        f"{labels}: cannot tell its format (an .xml or .json file, a folder of .xml or .txt files); give --format"
    )


def find_names(labels_dir: Path) -> Path:
    """The class names file of a YOLO export: data.yaml, classes.txt (Label Studio) or obj.names (CVAT),
    in the labels folder or the one above it."""
    for folder in (labels_dir, labels_dir.parent):
        for name in ("data.yaml", "classes.txt", "obj.names"):
            if (folder / name).is_file():
                return folder / name
    raise LabelImportError(f"{labels_dir}: no data.yaml, classes.txt or obj.names here or above; give --names FILE")


def read_labels(label_format: LabelFormat, labels: Path, *, images_dir: Path, names: Path | None = None) -> list[LabelledImage]:
    """The images and boxes of an export.

    Args:
        label_format: "yolo" (`labels` a folder of txt files, one per image of `images_dir`, and `names`
            the class names file, else `find_names`'s), "voc" (a folder of XML files), "cvat" ("CVAT for images" XML file),
            "coco" (a COCO JSON file).
        images_dir: the images folder (YOLO: its images are the ones listed).

    Raises:
        LabelImportError: naming the file and line.
    """
    if not labels.exists():
        raise LabelImportError(f"{labels}: no such file or folder")
    if label_format == "yolo":
        return read_yolo(labels, images_dir, read_names(names or find_names(labels)))
    readers: dict[str, Callable[[Path], list[LabelledImage]]] = {"voc": read_voc, "cvat": read_cvat, "coco": read_coco}
    return readers[label_format](labels)


def read_names(path: Path) -> list[str]:
    """Class names in id order: a YOLO data.yaml's `names` (a list, or a dict of id: name), or one per line."""
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            names = (yaml.safe_load(path.read_text()) or {}).get("names")
            names = [names[key] for key in sorted(names)] if isinstance(names, dict) else names
        else:
            names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as error:
        raise LabelImportError(f"{path}: cannot read class names ({error})") from error
    if not isinstance(names, list) or not names:
        raise LabelImportError(f"{path}: no class names; a data.yaml needs `names: [car, person]`, a classes.txt one name a line")
    return [str(name) for name in names]


def read_yolo(labels_dir: Path, images_dir: Path, names: list[str]) -> list[LabelledImage]:
    """One `LabelledImage` per image of `images_dir`; its boxes from labels_dir/<image stem>.txt, if any."""
    images = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if images_dir.is_dir() else []
    if not images:
        raise LabelImportError(f"{images_dir}: no images; YOLO labels are read for the images of --images")
    result = []
    for image_path in images:
        size = image_size(image_path)
        txt = labels_dir / f"{image_path.stem}.txt"
        lines = txt.read_text().splitlines() if txt.is_file() else []
        boxes = [_yolo_box(f"{txt}:{number}", line, size, names) for number, line in enumerate(lines, start=1) if line.strip()]
        result.append(LabelledImage(image_path.name, str(txt), boxes))
    return result


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the image file's header."""
    try:
        with Image.open(path) as image:
            return image.size
    except OSError as error:
        raise LabelImportError(f"cannot read image {path}: {error}") from error


def _yolo_box(where: str, line: str, size: tuple[int, int], names: list[str]) -> SourceBox:
    try:
        box = BoundingBox.from_yolo_v5(line, image_size=size)  # a sixth number is a confidence, last (Ultralytics)
    except AssertionError as error:  # globox asserts xmin <= xmax and ymin <= ymax
        raise LabelImportError(f"{where}: a negative width or height ({error}): {line!r}; fix or delete the line") from error
    except ParsingError as error:
        raise LabelImportError(
            f"{where}: expected 'class x_center y_center width height' (5 numbers), got {len(line.split())}: {line!r}; "
            "fix or delete the line"
        ) from error
    if not box.label.isdigit() or int(box.label) >= len(names):
        raise LabelImportError(
            f"{where}: class {box.label!r} is not an id of the {len(names)} class names (0 to {len(names) - 1})"
        )
    return SourceBox(names[int(box.label)], box.ltrb, where)


def read_voc(labels_dir: Path) -> list[LabelledImage]:
    """One `LabelledImage` per Pascal VOC XML file of `labels_dir`."""
    files = sorted(labels_dir.glob("*.xml")) if labels_dir.is_dir() else [labels_dir]
    if not files:
        raise LabelImportError(f"{labels_dir}: no .xml files; Pascal VOC labels are one .xml file per image")
    result = []
    for path in files:
        try:
            annotation = Annotation.from_pascal_voc(path)
        except AssertionError as error:  # globox asserts xmin <= xmax and ymin <= ymax
            raise LabelImportError(f"{path}: a box with its corners swapped ({error}); fix or delete it") from error
        except (ParsingError, ValueError) as error:  # globox raises both, naming no file
            raise LabelImportError(f"{path}: not a Pascal VOC file ({error}); it needs filename, size and objects") from error
        lines = element_lines(path).get("object", [])
        boxes = [SourceBox(box.label, box.ltrb, f"{path}:{line}") for box, line in zip(annotation.boxes, lines)]
        result.append(LabelledImage(annotation.image_id, str(path), boxes))
    return result


def read_cvat(path: Path) -> list[LabelledImage]:
    """The images of a "CVAT for images 1.1" XML export and their boxes.

    Raises:
        LabelImportError: a "CVAT for video" export (tracks), or a task with shapes and no boxes.
    """
    elements = element_lines(path)
    if "annotations" not in elements:
        raise LabelImportError(f"{path}: not a CVAT XML export (no <annotations>); export the task as 'CVAT for images 1.1'")
    if "track" in elements:
        raise LabelImportError(
            f"{path}:{elements['track'][0]}: a 'CVAT for video' export (<track>); export the task as 'CVAT for images 1.1'"
        )
    if "box" not in elements:
        other = [shape for shape in CVAT_OTHER_SHAPES if shape in elements]
        found = f"<{other[0]}> shapes" if other else "nothing"
        line = elements[other[0]][0] if other else 1
        raise LabelImportError(f"{path}:{line}: {found} and no boxes: a task of another type; label boxes (rectangles)")
    try:
        annotations = AnnotationSet.from_cvat(path)
    except (ParsingError, ValueError, AssertionError) as error:  # globox asserts an .xml suffix and xmin <= xmax
        raise LabelImportError(f"{path}: not a CVAT for images file, or a box with its corners swapped ({error})") from error
    lines = iter(elements["box"])
    return [
        LabelledImage(a.image_id, str(path), [SourceBox(b.label, b.ltrb, f"{path}:{next(lines)}") for b in a.boxes])
        for a in annotations
    ]


def read_coco(path: Path) -> list[LabelledImage]:
    """The images of a COCO file and their boxes (bbox [x, y, w, h] pixels)."""
    try:
        data = read_annotation_file(path)
    except DatasetError as error:
        if isinstance(_json(path), list):
            raise LabelImportError(
                f"{path} is Label Studio's own JSON (a list of tasks); export the project as COCO and import that"
            ) from error
        raise LabelImportError(str(error)) from error
    names = {category["id"]: str(category["name"]) for category in data["categories"]}
    images = {image["id"]: LabelledImage(image["file_name"], str(path), []) for image in data["images"]}
    for ann in data["annotations"]:
        where = f"{path}: annotation {ann['id']}"
        if ann["image_id"] not in images or ann["category_id"] not in names:
            raise LabelImportError(f"{where}: image {ann['image_id']} or category {ann['category_id']} is not in the file")
        try:
            x, y, w, h = (float(value) for value in ann["bbox"])
        except (TypeError, ValueError) as error:
            raise LabelImportError(f"{where}: bbox {ann['bbox']!r} is not [x, y, width, height] in pixels") from error
        images[ann["image_id"]].boxes.append(SourceBox(names[ann["category_id"]], (x, y, x + w, y + h), where))
    return list(images.values())


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def element_lines(path: Path) -> dict[str, list[int]]:
    """The line of each element of an XML file by tag, in document order: what messages name.

    Raises:
        LabelImportError: the file is not well-formed XML (the message gives the line).
    """
    parser = expat.ParserCreate()
    lines: dict[str, list[int]] = {}
    parser.StartElementHandler = lambda name, _: lines.setdefault(name, []).append(parser.CurrentLineNumber)
    try:
        parser.Parse(path.read_bytes(), True)
    except expat.ExpatError as error:
        raise LabelImportError(f"{path}:{error.lineno}: not well-formed XML ({expat.errors.messages[error.code]})") from error
    return lines
