"""Fine-tune a detector of this project on your footage in minutes, on a CPU.

Starts from `model.init_from`: a checkpoint trained on COCO (configs/driving_ssdlite.py)
or on earlier footage. Every weight that fits is loaded; classes both lists name keep
what they learned (matched by name), new ones start fresh. The backbone must be the
checkpoint's (the paper model's); the input size, the class list and the stride-8 map
may differ (a COCO checkpoint has no stride-8 map: that level starts fresh).

    python tools/train.py configs/driving_finetune.py --set model.init_from=runs/coco/best.ckpt \\
        data.train_images=footage/train data.train_annotations=footage/train.json \\
        data.val_images=footage/val data.val_annotations=footage/val.json data.classes="('person','car')"
"""

from ssdlite.config import load_config

config = load_config("driving_ssdlite_cpu.py")  # relative to this file
config.model.init_from = "runs/driving/best.ckpt"  # replace with your checkpoint; its input convention is kept
config.model.pretrained_backbone = None  # the checkpoint has a trained backbone
config.train.lr = 1e-3  # a trained network: a gentler peak than from scratch
config.train.warmup_steps = 20
config.train.max_time = "00:00:03:00"
