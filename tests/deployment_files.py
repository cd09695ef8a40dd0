"""A checkpoint and data small enough to export, quantise, time and score in every runtime in a test."""

from pathlib import Path

import torch

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.data.synthetic import make_synthetic_dataset
from ssdlite.data.synthetic_drawing import CATEGORIES
from ssdlite.model.build import build_model

MODEL = ModelConfig(image_size=(96, 160), width_mult=0.5)


def tiny_checkpoint_and_data(folder: Path) -> tuple[Path, Path]:
    """(a checkpoint of a random-weight model (seed 0) of the synthetic classes, a config file whose data is 32
    training and 4 validation images of the synthetic scene), written in `folder`."""
    data = make_synthetic_dataset(
        folder / "data", num_train=32, num_val=4, seed=0, scene="close", image_size=(180, 320), clip_frames=1
    )
    data_config = folder / "data_config.py"
    data_config.write_text(
        "from ssdlite.config import Config, DataConfig\n"
        "config = Config(data=DataConfig(\n"
        f"    train_images='{data['train_images']}', train_annotations='{data['train_annotations']}',\n"
        f"    val_images='{data['val_images']}', val_annotations='{data['val_annotations']}'))\n"
    )
    class_names = tuple(category["name"] for category in CATEGORIES)
    checkpoint = folder / "model.ckpt"
    with torch.random.fork_rng():  # the same weights in every run, the caller's random state untouched
        torch.manual_seed(0)
        model = build_model(MODEL, len(class_names) + 1).eval()
    save_checkpoint(checkpoint, model, Config(model=MODEL), class_names)
    return checkpoint, data_config
