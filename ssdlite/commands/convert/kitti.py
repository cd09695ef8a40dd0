"""KITTI object labels to COCO JSON: ssdlite convert kitti --labels DIR --images DIR --out OUT.json"""

import argparse
import logging

from ssdlite.commands.convert import write_coco
from ssdlite.data.converters import KITTI_DIFFICULTY, kitti_to_coco
from ssdlite.errors import reports_errors


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", required=True, help="folder of KITTI label .txt files (label_2)")
    parser.add_argument("--images", required=True, help="folder of the matching images (image_2)")
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--difficulty",
        choices=list(KITTI_DIFFICULTY),
        help="objects beyond this KITTI level (too short, occluded or truncated) become ignored crowd regions",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_coco(kitti_to_coco(args.labels, args.images, difficulty=args.difficulty), args.out)
