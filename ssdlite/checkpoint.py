"""Reading and writing detector checkpoints as plain data.

A checkpoint is a Lightning checkpoint dict: `state_dict` (keys prefixed
`model.`), `hyper_parameters` with `config` (`ssdlite.config.to_dict`) and
`class_names`, and, when training kept an EMA, `ema_state_dict` (the weights
inference should use). A config saved before the setting groups (flat
`model.score_threshold` and the like) loads too: `from_dict` moves its values.
Files are loaded with `weights_only=True`: data, never
code, comes out of them. Writes go to a temporary file that is renamed into
place, so an interrupted write never replaces a good checkpoint.
"""

import dataclasses
from pathlib import Path

import torch

from ssdlite.assets import write_atomically
from ssdlite.config import Config, ConfigError, from_dict, to_dict
from ssdlite.model.build import build_model
from ssdlite.model.detector import SSDLite

MODEL_PREFIX = "model."


class CheckpointError(ValueError):
    """A file that is not a usable ssdlite checkpoint."""


def atomic_save(obj: dict, path: str | Path) -> None:
    """`torch.save` to a temporary file beside `path`, then rename over it."""
    write_atomically(Path(path), lambda temporary: torch.save(obj, temporary))


def save_checkpoint(path: str | Path, model: SSDLite, config: Config, class_names: tuple[str, ...]) -> None:
    """Write a checkpoint holding only what inference needs."""
    state_dict = {MODEL_PREFIX + k: v for k, v in model.state_dict().items()}
    atomic_save({"state_dict": state_dict, "hyper_parameters": checkpoint_hparams(config, class_names)}, path)


def checkpoint_hparams(config: Config, class_names: tuple[str, ...]) -> dict:
    return {"config": to_dict(config), "class_names": list(class_names)}


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """The checkpoint dict, loaded as data; clear errors for missing or foreign files."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # pickle refusals, truncated files, foreign formats
        raise CheckpointError(f"{path} could not be read as a checkpoint: {error}") from error
    hparams = checkpoint.get("hyper_parameters", {}) if isinstance(checkpoint, dict) else {}
    if "config" not in hparams or "class_names" not in hparams or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} is not an ssdlite checkpoint (no config, class names or state_dict in it)")
    return checkpoint


def checkpoint_weights(checkpoint: dict) -> dict[str, torch.Tensor]:
    """The model's weights in a checkpoint dict, unprefixed; the EMA ones when present."""
    return checkpoint.get("ema_state_dict") or {
        k[len(MODEL_PREFIX) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(MODEL_PREFIX)
    }


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[SSDLite, Config, tuple[str, ...]]:
    """Rebuild the detector a checkpoint describes, in eval mode.

    Returns:
        (model, config, class_names); label k of the model is `class_names[k - 1]`.
        The EMA weights are used when the checkpoint has them.
    """
    checkpoint = read_checkpoint(path, map_location)
    try:
        config = from_dict(checkpoint["hyper_parameters"]["config"])
    except (ConfigError, TypeError) as error:
        raise CheckpointError(f"{path}: the config stored in it is not valid here: {error}") from error
    class_names = tuple(checkpoint["hyper_parameters"]["class_names"])
    # The weights come from the checkpoint: never fetch or read the ImageNet file again.
    model_config = dataclasses.replace(config.model, pretrained_backbone=None)
    model = build_model(model_config, num_classes=len(class_names) + 1)
    try:
        model.load_state_dict(checkpoint_weights(checkpoint))
    except RuntimeError as error:
        raise CheckpointError(f"{path} holds weights of another model than its config describes: {error}") from error
    return model.eval().to(map_location), config, class_names
