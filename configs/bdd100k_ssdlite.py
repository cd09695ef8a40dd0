"""The paper model on BDD100K's detection set, from the COCO files BDD100K distributes.

Expected layout (BDD100K's own; the COCO files are `det_train_coco.json` /
`det_val_coco.json`, or what `python -m bdd100k.label.to_coco -m det` writes from det_20)::

    data/bdd100k/
        images/100k/train/*.jpg         70,000 images, 1280x720
        images/100k/val/*.jpg           10,000 images
        labels/det_20/det_train_coco.json
        labels/det_20/det_val_coco.json

Classes are BDD's ten categories as the files name them (pedestrian, rider, car, truck,
bus, train, motorcycle, bicycle, traffic light, traffic sign); `data.classes` picks some.
Boxes marked `iscrowd` or `ignore` are ignored regions. To train on COCO's driving
categories instead (pedestrian and rider as person; traffic signs dropped), set the one key
`data.category_map`, as configs/bdd100k_coco_classes.py does.
"""

from ssdlite.config import load_config

config = load_config("driving_ssdlite.py")  # relative to this file
config.data.train_images = "data/bdd100k/images/100k/train"
config.data.train_annotations = "data/bdd100k/labels/det_20/det_train_coco.json"
config.data.val_images = "data/bdd100k/images/100k/val"
config.data.val_annotations = "data/bdd100k/labels/det_20/det_val_coco.json"
config.data.classes = None  # every category of the files, in id order
