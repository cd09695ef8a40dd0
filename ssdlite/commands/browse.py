"""Write augmented samples with their boxes, print box statistics (sizes, COCO small/medium/large shares)
and list the images training would skip (unreadable or damaged), with their ids.

ssdlite browse CONFIG --split train --num 16 --out DIR [--no-image-check]
"""

import argparse
from pathlib import Path

import cv2

from ssdlite.config import apply_overrides, load_config
from ssdlite.data.browse import box_statistics, damaged_images
from ssdlite.data.build import build_dataset
from ssdlite.errors import reports_errors
from ssdlite.inference.draw import draw_sample


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("--split", choices=("train", "val"), default="train")
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--out", required=True)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-image-check", action="store_true", help="do not decode every image to find damaged ones")
    args = parser.parse_args(argv)
    config = apply_overrides(load_config(args.config), args.set)
    dataset = build_dataset(config.data, args.split, config.model.image_size)
    print(box_statistics(dataset))
    if not args.no_image_check:  # before the samples, which stop at data.max_bad_image_fraction
        print_damaged(damaged_images(dataset, config.data.num_workers), len(dataset))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for index in range(min(args.num, len(dataset))):
        image, target = dataset[index]
        cv2.imwrite(str(out / f"{target['image_id']}.jpg"), draw_sample(image, target, dataset.class_names))
    print(f"wrote {min(args.num, len(dataset))} {args.split} samples (after augmentation) to {out}")


def print_damaged(damaged: list[tuple[int, str, str]], num_images: int) -> None:
    if not damaged:
        print(f"all {num_images} images decode in full")
        return
    print(f"{len(damaged)} of {num_images} images cannot be used (training and evaluation skip them); repair or remove them:")
    for image_id, path, reason in damaged:
        print(f"  image id {image_id}: {path}: {reason}")
