"""Class names for a converted model: a TF label map, a file of names, or a comma-separated list."""

import re
from pathlib import Path

from ssdlite.errors import SsdliteError

ITEM = re.compile(r"item\s*\{(.*?)\}", re.S)
FIELD = r"(?<!\w){}\s*:\s*(?:\"([^\"]*)\"|'([^']*)'|(\d+))"


class LabelMapError(SsdliteError, ValueError):
    """Class names that cannot be read or do not fit the model's classes; the message names the file and the fix."""


def read_class_names(spec: str, num_classes: int) -> tuple[str, ...]:
    """The name of each object class, label 1 first.

    Args:
        spec: a TF label map `.pbtxt` (`item { id: 1 display_name: "person" }`; `display_name` wins
            over `name`; ids missing from 1..K are named `class_<id>`), a text file with one
            name per line, or names separated by commas ("person" or "person,car").
        num_classes: object classes of the model, background not counted.

    Raises:
        LabelMapError: a missing or unreadable file, or not `num_classes` names.
    """
    path = Path(spec)
    if path.suffix == ".pbtxt" or (path.is_file() and "item" in path.read_text(errors="replace")):
        return _label_map_names(path, num_classes)
    if path.is_file():
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        where = f"{path} lists"
    elif "," in spec or not path.suffix:
        names = [name.strip() for name in spec.split(",") if name.strip()]
        where = f"--labels {spec!r} gives"
    else:
        raise LabelMapError(
            f"label file {path} does not exist; give a label map .pbtxt, a file of names or a comma-separated list"
        )
    if len(names) != num_classes:
        raise LabelMapError(
            f"{where} {len(names)} names but the graph has {num_classes} object classes; give one name per class, in label order"
        )
    return tuple(names)


def _label_map_names(path: Path, num_classes: int) -> tuple[str, ...]:
    if not path.is_file():
        raise LabelMapError(f"label map {path} does not exist; give the .pbtxt the graph was trained with")
    names = {}
    for item in ITEM.finditer(path.read_text(errors="replace")):
        fields = {key: _field(item.group(1), key) for key in ("id", "display_name", "name")}
        if fields["id"] is None or not fields["id"].isdigit():
            raise LabelMapError(f"{path}: an item without a numeric id ({item.group(0)[:60]!r}); fix the label map")
        names[int(fields["id"])] = fields["display_name"] or fields["name"] or f"class_{fields['id']}"
    if not names:
        raise LabelMapError(f"{path} has no `item {{ id: ... name: ... }}` entries; give a TF label map .pbtxt")
    if max(names) != num_classes or min(names) < 1:
        raise LabelMapError(
            f"{path}: ids {min(names)}..{max(names)} but the graph has {num_classes} object classes (ids 1..{num_classes}); "
            "give the label map the graph was trained with"
        )
    return tuple(names.get(i, f"class_{i}") for i in range(1, num_classes + 1))


def _field(text: str, key: str) -> str | None:
    match = re.search(FIELD.format(key), text)
    return None if match is None else next(group for group in match.groups() if group is not None)
