"""Starting a detector from another detector's checkpoint (fine-tuning).

Every tensor whose key and shape match is copied as it is: the backbone, the
box regression head, BN running statistics. The class predictor convs of the
head (the last 1x1 conv of each level) are rebuilt by class name: their output
channels are anchor-major, channel `a * num_classes + c` scoring class c of
anchor a (torchvision `SSDScoringHead`), so each anchor's rows for background
and for every class both lists share are copied from the checkpoint, and rows
of new classes keep the model's fresh init. Anything else keeps its init.

When one model has the stride-8 map and the other not, the head's levels are
matched by feature map: the stride-8 map is level 0 of the model that has it,
so the other levels are shifted by one, and the stride-8 level keeps its init
(or is dropped).

Anchors are non-persistent buffers and conv weights do not depend on the input
size, so a checkpoint trained at one `image_size` starts a model at another.
The input convention (`image_mean` / `image_std`) goes with the weights: a run
with `model.init_from` takes the checkpoint's (`adopt_input_convention`), and a
model of another convention given the weights directly logs a warning.
"""

import dataclasses
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ssdlite.checkpoint import CheckpointError, checkpoint_weights, read_checkpoint
from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, TF_MEAN, TF_STD, Config, ModelConfig
from ssdlite.model.detector import SSDLite

log = logging.getLogger(__name__)

BACKGROUND_LABEL = 0  # label 0 of every model; label k is class_names[k - 1]
BACKBONE_PREFIX = "backbone."
HEAD_PREFIX = "head."
# "head.classification_head.module_list.3.1.weight": level 3 of the classification head
HEAD_LEVEL = re.compile(r"(?P<prefix>head\.\w+\.module_list\.)(?P<index>\d+)(?P<rest>\..*)")


@dataclass
class TransferReport:
    """What `init_from_checkpoint` did; keys are the model's `state_dict` keys."""

    path: str
    loaded: list[str]  # copied bit-exactly
    remapped: list[str]  # class predictor weights/biases rebuilt row by row by class name
    reinitialised: list[str]  # no tensor of that shape in the checkpoint: kept as initialised
    dropped: list[str]  # checkpoint keys the model lacks
    classes_kept: list[str]  # in both lists: their predictor rows come from the checkpoint
    classes_new: list[str]  # only in the model's list: fresh predictor rows
    classes_dropped: list[str]  # only in the checkpoint's list

    @property
    def num_loaded(self) -> int:
        return len(self.loaded)

    def summary(self) -> str:
        """A few lines for the log."""
        lines = [
            f"initialised from {self.path}: {self.num_loaded} tensors loaded, "
            f"{len(self.remapped)} class predictor tensors remapped by class name, "
            f"{len(self.reinitialised)} re-initialised, {len(self.dropped)} checkpoint tensors dropped",
            f"classes kept: {_names(self.classes_kept)}; new: {_names(self.classes_new)}; "
            f"of the checkpoint, not trained here: {_names(self.classes_dropped)}",
        ]
        if self.reinitialised:
            lines.append(f"re-initialised: {_keys(self.reinitialised)}")
        if self.dropped:
            lines.append(f"dropped: {_keys(self.dropped)}")
        return "\n".join(lines)


def init_from_checkpoint(model: SSDLite, class_names: Sequence[str], path: str | Path) -> TransferReport:
    """Load into `model` what fits of the detector saved at `path` (EMA weights when it has them).

    Args:
        model: a freshly built detector; label k is `class_names[k - 1]`.
        class_names: the model's classes, in label order.
        path: an ssdlite checkpoint (`ssdlite.checkpoint.save_checkpoint` or training).

    Returns:
        What was loaded, remapped, re-initialised and dropped, and which classes carried over.

    Raises:
        CheckpointError: the file is missing or not an ssdlite checkpoint, or its
            backbone is of another architecture (width, extra layers).
    """
    class_names = list(class_names)
    if model.num_classes != len(class_names) + 1:
        raise ValueError(
            f"the model has {model.num_classes} outputs per anchor but {len(class_names)} class names (+ background)"
        )
    checkpoint = read_checkpoint(path)
    source_names = list(checkpoint["hyper_parameters"]["class_names"])
    source = checkpoint_weights(checkpoint)
    target = model.state_dict()
    check_architecture(path, checkpoint, source, target)
    warn_if_other_convention(path, checkpoint, model)

    saved = source
    names = shifted_head_levels(saved, num_head_levels(target) - num_head_levels(source))
    source = {names[key]: value for key, value in saved.items() if key in names}
    predictors = set() if source_names == class_names else class_predictor_keys(model)
    remap = {key: shared_labels(source_names, class_names) for key in predictors}
    new_state, how = merge_states(target, source, remap, model.num_classes, len(source_names) + 1)
    model.load_state_dict(new_state)
    return TransferReport(
        path=str(path),
        loaded=[key for key in target if how[key] == "loaded"],
        remapped=[key for key in target if how[key] == "remapped"],
        reinitialised=[key for key in target if how[key] == "reinitialised"],
        dropped=[key for key in saved if names.get(key) not in target],
        classes_kept=[name for name in class_names if name in source_names],
        classes_new=[name for name in class_names if name not in source_names],
        classes_dropped=[name for name in source_names if name not in class_names],
    )


def merge_states(
    target: dict[str, Tensor],
    source: dict[str, Tensor],
    remap: dict[str, list[tuple[int, int]]],
    num_classes: int,
    source_num_classes: int,
) -> tuple[dict[str, Tensor], dict[str, str]]:
    """The model's new `state_dict`, and for each key whether it was "loaded", "remapped" or "reinitialised".

    Args:
        target: the model's fresh `state_dict`.
        source: the checkpoint's weights.
        remap: class predictor keys -> (target label, source label) pairs whose rows to copy.
        num_classes, source_num_classes: outputs per anchor of the model and of the checkpoint.
    """
    new_state, how = {}, {}
    for key, fresh in target.items():
        new_state[key], how[key] = fresh, "reinitialised"
        if key not in source:
            continue
        if key in remap:
            rows = remap_class_rows(fresh, source[key], remap[key], num_classes, source_num_classes)
            if rows is not None:
                new_state[key], how[key] = rows, "remapped"
        elif source[key].shape == fresh.shape:
            new_state[key], how[key] = source[key], "loaded"
    return new_state, how


def check_architecture(path: str | Path, checkpoint: dict, source: dict[str, Tensor], target: dict[str, Tensor]) -> None:
    """Refuse a checkpoint whose backbone does not fit the model tensor for tensor."""
    differing = [
        key for key in target if key.startswith(BACKBONE_PREFIX) and (key not in source or source[key].shape != target[key].shape)
    ]
    if not differing:
        return
    key = differing[0]
    there = f"{tuple(source[key].shape)} there" if key in source else "missing there"
    stored = checkpoint["hyper_parameters"]["config"].get("model", {})
    raise CheckpointError(
        f"{path} is a detector of another architecture: {len(differing)} backbone tensors differ, e.g. {key} is "
        f"{there} and {tuple(target[key].shape)} here. It was trained with model.width_mult={stored.get('width_mult')}, "
        f"model.extra_channels={stored.get('extra_channels')}; set model.width_mult / model.extra_channels to "
        "those values, or drop model.init_from"
    )


def checkpoint_convention(checkpoint: dict) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(image_mean, image_std) a checkpoint was trained on; saved configs without them are of the [-1, 1] days."""
    stored, defaults = checkpoint["hyper_parameters"]["config"].get("model", {}), ModelConfig()
    return tuple(stored.get("image_mean", defaults.image_mean)), tuple(stored.get("image_std", defaults.image_std))


def adopt_input_convention(config: Config) -> Config:
    """`config` with the input convention of `config.model.init_from`, the one its weights were trained on.

    Fine-tuning starts from those weights, so it keeps their convention whatever the recipe says
    (a recipe from ImageNet fine-tuning a checkpoint trained on [-1, 1], or the other way round).
    """
    mean, std = checkpoint_convention(read_checkpoint(config.model.init_from))
    if (mean, std) != (tuple(config.model.image_mean), tuple(config.model.image_std)):
        log.info("model.image_mean / image_std follow %s: %s", config.model.init_from, convention_name(mean, std))
    return dataclasses.replace(config, model=dataclasses.replace(config.model, image_mean=mean, image_std=std))


def warn_if_other_convention(path: str | Path, checkpoint: dict, model: SSDLite) -> None:
    """Log a warning when the checkpoint's input convention (mean, std) is not the model's: its
    weights were trained on inputs the model will not give them. Saved configs without the fields
    are of the [-1, 1] days, the defaults."""
    source = torch.tensor(checkpoint_convention(checkpoint))
    here = torch.stack([model.image_mean.flatten(), model.image_std.flatten()]).float().cpu()  # (2, 3) as `source`
    if torch.equal(source, here):
        return
    log.warning(
        "%s was trained on input convention %s, but this model normalises by %s: its weights meet inputs they "
        "were not trained on; set model.image_mean / model.image_std to the checkpoint's unless that is meant",
        path,
        convention_name(*source.tolist()),
        convention_name(*here.tolist()),
    )


def convention_name(mean: Sequence[float], std: Sequence[float]) -> str:
    """ "ImageNet mean/std", "[-1, 1] (mean = std = 0.5)", or the numbers."""
    rounded = tuple(round(v, 6) for v in mean), tuple(round(v, 6) for v in std)
    if rounded == (IMAGENET_MEAN, IMAGENET_STD):
        return f"ImageNet mean/std {IMAGENET_MEAN} / {IMAGENET_STD}"
    if rounded == (TF_MEAN, TF_STD):
        return "[-1, 1] (mean = std = 0.5)"
    return f"mean {rounded[0]}, std {rounded[1]}"


def shifted_head_levels(state_dict: dict[str, Tensor], offset: int) -> dict[str, str]:
    """Each key -> its key when the head's level i becomes level i + `offset` (1: the model adds
    the stride-8 map, -1: it has none); the keys of a level that does not exist there are left out."""
    names = {}
    for key in state_dict:
        level = HEAD_LEVEL.match(key)
        if level is None:
            names[key] = key
        elif int(level["index"]) + offset >= 0:
            names[key] = f"{level['prefix']}{int(level['index']) + offset}{level['rest']}"
    return names


def num_head_levels(state_dict: dict[str, Tensor]) -> int:
    """Feature maps the head predicts from, counted from its box regression convs."""
    prefix = HEAD_PREFIX + "regression_head.module_list."
    return len({key[len(prefix) :].split(".")[0] for key in state_dict if key.startswith(prefix)})


def class_predictor_keys(model: SSDLite) -> set[str]:
    """`state_dict` keys of the last conv (weight, bias) of each classification head level."""
    names = {id(module): name for name, module in model.named_modules()}
    keys = set()
    for level in model.head.classification_head.module_list:
        prefix = names[id(level[-1])]
        keys.update(f"{prefix}.{name}" for name, _ in level[-1].named_parameters())
    return keys


def shared_labels(source_names: Sequence[str], target_names: Sequence[str]) -> list[tuple[int, int]]:
    """(target label, source label) of background and of every class both lists name."""
    source_label = {name: label for label, name in enumerate(source_names, start=1)}
    pairs = [(BACKGROUND_LABEL, BACKGROUND_LABEL)]
    pairs += [(label, source_label[name]) for label, name in enumerate(target_names, start=1) if name in source_label]
    return pairs


def remap_class_rows(
    fresh: Tensor, source: Tensor, label_pairs: list[tuple[int, int]], num_classes: int, source_num_classes: int
) -> Tensor | None:
    """`fresh` with each anchor's rows of the shared labels taken from `source`.

    Args:
        fresh: the model's conv weight Tensor[A * C, in, kh, kw] or bias Tensor[A * C].
        source: the checkpoint's Tensor[A * C_src, ...], rows anchor-major like `fresh`.
        label_pairs: (label in `fresh`, label in `source`).
        num_classes, source_num_classes: C and C_src, background included.

    Returns:
        The new tensor, or None when the two differ by more than the class count
        (anchors per location, input channels, kernel).
    """
    num_anchors = fresh.shape[0] // num_classes
    if source.shape != (num_anchors * source_num_classes, *fresh.shape[1:]) or fresh.shape[0] != num_anchors * num_classes:
        return None
    rows = fresh.clone(memory_format=torch.contiguous_format).unflatten(0, (num_anchors, num_classes))  # (A, C, ...)
    source_rows = source.unflatten(0, (num_anchors, source_num_classes))  # (A, C_src, ...)
    for label, source_label in label_pairs:
        rows[:, label] = source_rows[:, source_label].to(rows)
    return rows.flatten(0, 1)


def _names(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def _keys(keys: list[str], limit: int = 4) -> str:
    more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more
