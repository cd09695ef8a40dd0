"""The paper model on COCO 2017, restricted to the driving classes.

Images with none of these classes are kept as background, so the detector
learns to stay quiet on scenes without road users.
"""

from ssdlite.config import load_config

config = load_config("configs/coco_ssdlite.py")
config.data.classes = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
config.data.keep_empty_images = True
