"""BDD100K's COCO files trained on COCO's driving categories (pedestrian and rider as person)."""

from ssdlite.config import load_config
from ssdlite.data.converters import BDD100K_TO_COCO

config = load_config("bdd100k_ssdlite.py")  # relative to this file
config.data.category_map = tuple(BDD100K_TO_COCO.items())
