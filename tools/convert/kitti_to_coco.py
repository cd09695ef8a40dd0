"""KITTI object labels to COCO JSON: python tools/convert/kitti_to_coco.py --labels DIR --images DIR --out OUT.json"""

import argparse
import json
import logging

from ssdlite.data.converters import kitti_to_coco


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", required=True, help="folder of KITTI label .txt files (label_2)")
    parser.add_argument("--images", required=True, help="folder of the matching images (image_2)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    coco = kitti_to_coco(args.labels, args.images)
    with open(args.out, "w") as f:
        json.dump(coco, f)
    print(f"wrote {args.out}: {len(coco['images'])} images, {len(coco['annotations'])} boxes")


if __name__ == "__main__":
    main()
