"""The paper model (MobileNetV2 paper, section 6.2) on COCO 2017 at 300x300.

Expects COCO 2017 under data/coco/ (train2017/, val2017/, annotations/).
"""

from ssdlite.config import Config, DataConfig, ModelConfig, TrainConfig

config = Config(
    model=ModelConfig(image_size=(300, 300)),
    data=DataConfig(
        train_images="data/coco/train2017",
        train_annotations="data/coco/annotations/instances_train2017.json",
        val_images="data/coco/val2017",
        val_annotations="data/coco/annotations/instances_val2017.json",
        classes=None,  # all 80 COCO categories
        batch_size=24,
    ),
    # mmdetection's SSDLite-MobileNetV2 recipe (ssdlite_mobilenetv2-scratch_8xb24-600e_coco): SGD
    # lr 0.015 for 8 GPUs x 24 = 192 images per step, scaled linearly to this run's total batch
    # (0.001875 on one device of 24, 0.015 on eight). A GPU-cluster recipe: 120 epochs of COCO.
    train=TrainConfig(
        optimizer="sgd", lr=0.015, base_batch_size=192, lr_scaling="linear", weight_decay=4e-5, warmup_steps=500, max_epochs=120
    ),
)
