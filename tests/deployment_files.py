"""A checkpoint and data small enough to export, quantise, time and score in every runtime in a test."""

from pathlib import Path

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.data.synthetic import make_synthetic_dataset
from ssdlite.data.synthetic_drawing import CATEGORIES
from ssdlite.model.build import build_model

MODEL = ModelConfig(image_size=(96, 160), width_mult=0.5)


def tiny_checkpoint_and_data(folder: Path) -> tuple[Path, Path]:
    """(a checkpoint of a random-weight model of the synthetic classes, a config file whose data is 32
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
    save_checkpoint(checkpoint, build_model(MODEL, len(class_names) + 1).eval(), Config(model=MODEL), class_names)
    return checkpoint, data_config
