"""The paper model on COCO 2017, restricted to the driving classes.

Images with none of these classes are kept as background, so the detector
learns to stay quiet on scenes without road users.
"""

import dataclasses

from ssdlite.config import load_config

config = load_config("coco_ssdlite.py")  # relative to this file
config.data.classes = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
config.data.keep_empty_images = True
# One recipe for a long GPU run on COCO and a short CPU run on a user's footage:
# AdamW at a peak lr stated for batch 8 (square-root scaling to larger batches),
# a warmup the schedule cuts to 5 % of a short run, and a cosine over whichever
# limit ends the run (a GPU run's epochs, a CPU run's train.max_time). Batch 8:
# on a CPU it trains as many images per second as 16 in twice the steps, and a
# run of minutes needs the steps (docs/benchmarks.md: what each setting here scored).
config.data.batch_size = 8
config.train.optimizer = "adamw"
config.train.lr = 3e-3
config.train.base_batch_size = 8
config.train.lr_scaling = "sqrt"
config.train.weight_decay = 1e-4
config.train.warmup_steps = 300
# An anchor is a positive from IoU 0.4 with a road user, not the paper's 0.5: far road users are
# small, and at 0.5 most match only the anchor forced onto them.
config.model.matching = dataclasses.replace(config.model.matching, iou_threshold=0.4)
