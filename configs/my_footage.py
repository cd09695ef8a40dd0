"""Your own dash-cam footage: copy this file, name your data and classes, train on a CPU.

From videos to a detector (README, "Your own footage"):

    python tools/frames.py 'dashcam/*.MP4' --out footage --fps 1          # footage/train, footage/val + COCO files
    # label footage/train and footage/val in CVAT, Label Studio or a YOLO / VOC tool, then:
    python tools/import_labels.py export.xml --images footage/train --config configs/my_footage.py --out footage/train.json
    python tools/import_labels.py export.xml --images footage/val --config configs/my_footage.py --out footage/val.json
    python tools/train.py configs/my_footage.py --set train.max_time=00:00:30:00
    python tools/eval.py configs/my_footage.py --checkpoint runs/<run>/best.ckpt
    python tools/export.py --checkpoint runs/<run>/best.ckpt --format openvino --int8 --calibration configs/my_footage.py
    python tools/benchmark.py runs/<run>/best.ckpt --data configs/my_footage.py

Every tool takes `--set` to change a key without editing the file, e.g. data.classes="('car','person')".
"""

from ssdlite.config import load_config

config = load_config("driving_ssdlite_cpu.py")  # relative to this file: the CPU recipe
ROOT = "footage"  # what tools/frames.py --out wrote, relative to where the tools run
config.data.train_images = f"{ROOT}/train"
config.data.train_annotations = f"{ROOT}/train.json"
config.data.val_images = f"{ROOT}/val"
config.data.val_annotations = f"{ROOT}/val.json"
# Your classes, in label order; labels are imported onto these names (tools/import_labels.py).
config.data.classes = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
