"""Dotted keys into a config tree (`model.postprocess.score_threshold`), and the flat keys that
moved into setting groups (`ssdlite.config_groups`): `--set` names their new place, and
`from_dict` moves the values of configs saved before the groups (checkpoints, exports) there."""

import copy
import dataclasses
import difflib
import typing
from typing import Any

# Each key of the flat configs -> its place in a setting group.
MOVED = {
    **{f"model.{name}": f"model.anchors.{name}" for name in ("min_scale", "max_scale", "aspect_ratios", "stride8_anchor_scale")},
    **{f"model.{name}": f"model.matching.{name}" for name in ("iou_threshold", "crowd_ioa_threshold")},
    **{f"model.{name}": f"model.loss.{name}" for name in ("cls_loss", "neg_pos_ratio", "min_negatives_per_image")},
    **{
        f"model.{name}": f"model.postprocess.{name}"
        for name in (
            "score_threshold",
            "nms_iou_threshold",
            "topk_per_class",
            "max_candidates_per_image",
            "max_detections_per_image",
        )
    },
    **{f"data.{name}": f"data.augment.{name}" for name in ("photometric", "zoom_out_max", "min_iou_crop", "hflip")},
}


def leaf_keys(config: Any, prefix: str = "") -> list[str]:
    """Every settable key of a config dataclass tree, dotted, in field order."""
    keys = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        key = f"{prefix}{f.name}"
        keys += leaf_keys(value, f"{key}.") if dataclasses.is_dataclass(value) else [key]
    return keys


def key_type(config: Any, key: str) -> Any:
    """The type hint of a dotted `key` of `config`."""
    *path, name = key.split(".")
    for part in path:
        config = getattr(config, part)
    return typing.get_type_hints(type(config))[name]


def with_value(config: Any, key: str, value: Any) -> Any:
    """`config` with the dotted `key` set to `value`: frozen groups on the way are replaced
    (`dataclasses.replace`), the mutable sections above them changed in place."""
    name, _, rest = key.partition(".")
    if rest:
        value = with_value(getattr(config, name), rest, value)
    if type(config).__dataclass_params__.frozen:
        return dataclasses.replace(config, **{name: value})
    setattr(config, name, value)
    return config


def migrate(data: dict) -> dict:
    """A copy of saved config data (`ssdlite.config.to_dict`) with every flat key that `MOVED` into a group in its place."""
    data = copy.deepcopy(data)
    for old, new in MOVED.items():
        section, name = old.split(".")
        if name in data.get(section, {}):
            *path, leaf = new.split(".")
            group = data
            for part in path:
                group = group.setdefault(part, {})
            group[leaf] = data[section].pop(name)
    return data


def moved_hint(message: str) -> str:
    """For a Python error naming a key that moved (`'min_scale'`): where it went, else ''."""
    for old, new in MOVED.items():
        if f"'{old.rsplit('.', 1)[-1]}'" in message:
            return f"; {old} is now {new}"
    return ""


def suggestion(key: str, valid_keys: list[str]) -> str:
    """For an unknown `key`: its new place if it moved, else the valid keys of the same name or spelt alike, else ''."""
    if key in MOVED:
        return f"; it is now {MOVED[key]}"
    same_name = [k for k in valid_keys if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]]
    close = same_name or difflib.get_close_matches(key, valid_keys, n=3, cutoff=0.5)
    return f"; did you mean {', '.join(close)}?" if close else ""
