"""Write augmented samples with their boxes, and print box statistics (sizes, COCO small/medium/large shares).

python tools/browse_dataset.py CONFIG --split train --num 16 --out DIR
"""

import argparse
import sys
from pathlib import Path

import cv2

from ssdlite.config import ConfigError, apply_overrides, load_config
from ssdlite.data.browse import box_statistics
from ssdlite.data.build import build_dataset
from ssdlite.data.coco import DatasetError
from ssdlite.inference.draw import draw_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("--split", choices=("train", "val"), default="train")
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--out", required=True)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    try:
        config = apply_overrides(load_config(args.config), args.set)
        dataset = build_dataset(config.data, args.split, config.model.image_size)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for index in range(min(args.num, len(dataset))):
            image, target = dataset[index]
            cv2.imwrite(str(out / f"{target['image_id']}.jpg"), draw_sample(image, target, dataset.class_names))
        print(box_statistics(dataset))
    except (ConfigError, DatasetError) as error:
        sys.exit(f"error: {error}")
    print(f"wrote {min(args.num, len(dataset))} {args.split} samples (after augmentation) to {out}")


if __name__ == "__main__":
    main()
