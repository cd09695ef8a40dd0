"""The built-in driving data (generated on first use): the demo and end-to-end tests.

A 16:9 input and a narrower network keep a CPU run to a few minutes.
"""

from ssdlite.config import Config, DataConfig, ModelConfig, TrainConfig, TrainerConfig

ROOT = "data/synthetic_driving"

config = Config(
    model=ModelConfig(image_size=(192, 320), width_mult=0.5),
    data=DataConfig(
        train_images=f"{ROOT}/train",
        train_annotations=f"{ROOT}/annotations/train.json",
        val_images=f"{ROOT}/val",
        val_annotations=f"{ROOT}/annotations/val.json",
        classes=("person", "bicycle", "car", "motorcycle", "bus", "truck"),
        synthetic=True,
        synthetic_train_images=600,
        synthetic_val_images=100,
        # The demo's look: large road users, so a few CPU minutes show a working detector.
        # The training benchmark uses the harder "footage" scenes (tools/benchmark_train.py).
        synthetic_scene="close",
        zoom_out_max=1.0,  # no zoom-out: the scenes' objects are small already, and the run is short
        batch_size=16,
        num_workers=2,
    ),
    train=TrainConfig(
        optimizer="adamw",
        lr=3e-3,
        weight_decay=1e-4,
        warmup_steps=50,
        max_epochs=14,
        ema=False,  # a few hundred steps: an average would lag the weights
        eval_every_n_epochs=7,
    ),
    trainer=TrainerConfig(accelerator="cpu", work_dir="runs"),
)
