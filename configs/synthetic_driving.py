"""The built-in driving data (generated on first use): the demo and end-to-end tests.

A 16:9 input and a narrower network keep a CPU run to about ten minutes.
"""

from ssdlite.config import AugmentConfig, Config, DataConfig, ModelConfig, TrainConfig, TrainerConfig

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
        # More scenes, each seen fewer times, for the same steps: they generalise better (docs/benchmarks.md).
        synthetic_train_images=1200,
        synthetic_val_images=100,
        # The demo's look: medium and large road users, moments of the road its clip shows, so
        # minutes on a CPU give a detector that tracks the clip. The training benchmark uses the
        # harder "footage" scenes (benchmarks/benchmark_train.py).
        synthetic_scene="close",
        augment=AugmentConfig(zoom_out_max=1.0),  # no zoom-out: the scenes' objects are small already, and the run is short
        batch_size=8,  # twice the steps of 16 in the same minutes on a CPU
        num_workers=2,
    ),
    train=TrainConfig(
        optimizer="adamw",
        lr=3e-3,
        weight_decay=1e-4,
        warmup_steps=50,
        # 13 (1,950 steps): `make demo` on a fresh clone, environment and data included, stays under
        # ten minutes on 2 cores.
        max_epochs=13,
        ema=False,  # a short run: an average would lag the weights
        eval_every_n_epochs=5,
    ),
    trainer=TrainerConfig(accelerator="cpu", work_dir="runs"),
)
