"""Labels from an annotation tool into a COCO file for training, onto your classes by name.

ssdlite import-labels LABELS --images DIR --out FILE [--classes NAME ... | --config CONFIG [--set ...]]

LABELS is what the tool exported, its format told by its shape (or --format): CVAT's
"CVAT for images 1.1" .xml, a COCO .json (CVAT's COCO 1.0, Label Studio's COCO export),
a folder of Pascal VOC .xml files, or a folder of YOLO .txt files (class names from
data.yaml, classes.txt or obj.names beside it, or --names). DIR is the folder of the
images; labelled images not in it are left out and said, so one export of all your
frames imports once per split:

    ssdlite import-labels export.xml --images footage/train --config configs/my_footage.py --out footage/train.json
    ssdlite import-labels export.xml --images footage/val --config configs/my_footage.py --out footage/val.json

Class names are matched (ignoring case) onto --classes, or the config's data.classes.
"""

import argparse
import logging
import typing
from pathlib import Path

from ssdlite.config import apply_overrides, load_config
from ssdlite.data.converters import write_json
from ssdlite.errors import reports_errors
from ssdlite.footage.label_formats import LabelFormat, guess_format, read_labels
from ssdlite.footage.labels_import import labels_to_coco


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labels", help="the exported file or folder")
    parser.add_argument("--images", required=True, help="the folder of the images (COCO file names are relative to it)")
    parser.add_argument("--out", required=True, help="the COCO file to write")
    parser.add_argument("--format", choices=typing.get_args(LabelFormat), help="default: told by the export's shape")
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument("--classes", nargs="+", metavar="NAME", help="your classes, in label order")
    classes.add_argument("--config", help="take data.classes of this config, e.g. configs/my_footage.py")
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="--config overrides, e.g. data.classes=\"('car',)\""
    )
    parser.add_argument("--names", help="YOLO: its class names file (data.yaml, classes.txt, obj.names) if not beside it")
    parser.add_argument("--drop-unknown", action="store_true", help="leave out boxes of classes not among yours")
    args = parser.parse_args(argv)
    if args.set and not args.config:
        parser.error("--set changes the --config; give --config CONFIG")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    images_dir, labels = Path(args.images), Path(args.labels)
    names = tuple(args.classes) if args.classes else None
    if args.config:
        names = apply_overrides(load_config(args.config), args.set).data.classes
    names_file = Path(args.names) if args.names else None
    labelled = read_labels(args.format or guess_format(labels), labels, images_dir=images_dir, names=names_file)
    names = names or tuple(sorted({box.label for image in labelled for box in image.boxes}))
    coco, report = labels_to_coco(labelled, classes=names, images_dir=images_dir, drop_unknown=args.drop_unknown)
    for line in report.lines(images_dir):
        logging.warning("warning: %s", line)
    write_json(coco, Path(args.out))
    print(f"wrote {args.out}: {report.num_images} images, {report.num_boxes} boxes of classes {list(names)}")
