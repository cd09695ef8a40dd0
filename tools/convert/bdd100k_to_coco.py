"""BDD100K detection labels to COCO JSON: python tools/convert/bdd100k_to_coco.py LABELS.json --out OUT.json [--images DIR]"""

import argparse
import json
import logging

from ssdlite.data.converters import bdd100k_to_coco


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("labels", help="Scalabel JSON, e.g. bdd100k_labels_images_val.json")
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", help="image folder, to read sizes (default 1280x720)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    coco = bdd100k_to_coco(args.labels, args.images)
    with open(args.out, "w") as f:
        json.dump(coco, f)
    print(f"wrote {args.out}: {len(coco['images'])} images, {len(coco['annotations'])} boxes")


if __name__ == "__main__":
    main()
