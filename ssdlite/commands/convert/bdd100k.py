"""BDD100K detection labels to COCO JSON: ssdlite convert bdd100k LABELS.json --out OUT.json [--images DIR]"""

import argparse
import logging
import typing

from ssdlite.commands.convert import write_coco
from ssdlite.data.converters import BoxConvention, bdd100k_to_coco
from ssdlite.errors import reports_errors


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("labels", help="Scalabel JSON, e.g. bdd100k_labels_images_val.json (2018) or det_val.json (det_20)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", help="image folder, to read sizes (default 1280x720)")
    parser.add_argument(
        "--box-convention",
        choices=typing.get_args(BoxConvention),
        default="inclusive",
        help="inclusive: width x2 - x1 + 1, as the official toolkit and BDD100K's COCO files (default); exclusive: x2 - x1",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_coco(bdd100k_to_coco(args.labels, args.images, box_convention=args.box_convention), args.out)
