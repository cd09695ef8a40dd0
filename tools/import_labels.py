"""Labels from an annotation tool into a COCO file for training, with the classes of a config.

python tools/import_labels.py CONFIG {yolo,voc,cvat,coco} LABELS --images DIR --out FILE [--names FILE] [--drop-unknown]

LABELS is what the tool exported: YOLO a folder of .txt files (with --names data.yaml,
classes.txt or obj.names), Pascal VOC a folder of .xml files, CVAT its "CVAT for images
1.1" .xml (its "COCO 1.0" export is coco), Label Studio its COCO export (or its YOLO or
VOC one). DIR is the folder of the images; labelled images not in it are left out and
said, so one export of all your frames imports once per split:

    python tools/import_labels.py configs/my_footage.py cvat annotations.xml --images footage/train --out footage/train.json
    python tools/import_labels.py configs/my_footage.py cvat annotations.xml --images footage/val --out footage/val.json

Class names are matched by name (ignoring case) onto the config's data.classes.
"""

import argparse
import logging
import sys
import typing
from pathlib import Path

from ssdlite.config import ConfigError, apply_overrides, load_config
from ssdlite.data.converters import write_json
from ssdlite.footage.label_formats import LabelFormat, LabelImportError, read_labels
from ssdlite.footage.labels_import import labels_to_coco


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="the config whose data.classes the labels map onto, e.g. configs/my_footage.py")
    parser.add_argument("format", choices=typing.get_args(LabelFormat))
    parser.add_argument("labels", help="the exported file or folder")
    parser.add_argument("--images", required=True, help="the folder of the images (COCO file names are relative to it)")
    parser.add_argument("--out", required=True, help="the COCO file to write")
    parser.add_argument("--names", help="YOLO: its class names, data.yaml, classes.txt or obj.names")
    parser.add_argument("--drop-unknown", action="store_true", help="leave out boxes of classes the config does not name")
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides, e.g. data.classes=\"('car',)\""
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    images_dir = Path(args.images)
    try:
        classes = apply_overrides(load_config(args.config), args.set).data.classes
        names = Path(args.names) if args.names else None
        labelled = read_labels(args.format, Path(args.labels), images_dir=images_dir, names=names)
        classes = classes or tuple(sorted({box.label for image in labelled for box in image.boxes}))
        coco, report = labels_to_coco(labelled, classes=classes, images_dir=images_dir, drop_unknown=args.drop_unknown)
    except (ConfigError, LabelImportError) as error:
        sys.exit(f"error: {error}")
    for line in report.lines(images_dir):
        logging.warning("warning: %s", line)
    write_json(coco, Path(args.out))
    print(f"wrote {args.out}: {report.num_images} images, {report.num_boxes} boxes of classes {list(classes)}")


if __name__ == "__main__":
    main()
