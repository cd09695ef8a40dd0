"""Generate the built-in driving dataset: ssdlite make-synthetic OUT --train N --val M --seed S --scene footage

The tracking benchmark's clip alone:
    ssdlite make-synthetic OUT --train 0 --val 0 --scene close --clip-frames 300 --clip-fps 25
"""

import argparse

from ssdlite.config import DataConfig
from ssdlite.data.synthetic import images_per_second, make_synthetic_dataset
from ssdlite.data.synthetic_scene import SCENES
from ssdlite.errors import reports_errors


@reports_errors
def main(argv: list[str] | None = None) -> None:
    defaults = DataConfig()  # what data.synthetic=True generates
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--train", type=int, default=defaults.synthetic_train_images)
    parser.add_argument("--val", type=int, default=defaults.synthetic_val_images)
    parser.add_argument("--seed", type=int, default=defaults.synthetic_seed)
    parser.add_argument("--size", type=int, nargs=2, default=(360, 640), metavar=("H", "W"))
    parser.add_argument(
        "--scene",
        choices=SCENES,
        default=defaults.synthetic_scene,
        help="footage: dash-cam sizes, mostly small; close: mostly large",
    )
    parser.add_argument("--clip-frames", type=int, default=48, help="frames of clip.mp4 (with gt.txt beside it)")
    parser.add_argument("--clip-fps", type=int, default=12, help="frame rate of clip.mp4")
    parser.add_argument("--speed", action="store_true", help="also measure images per second on one core")
    args = parser.parse_args(argv)
    paths = make_synthetic_dataset(
        args.out,
        num_train=args.train,
        num_val=args.val,
        seed=args.seed,
        scene=args.scene,
        image_size=tuple(args.size),
        clip_frames=args.clip_frames,
        clip_fps=args.clip_fps,
    )
    for name, path in paths.items():
        print(f"{name:<18} {path}")
    if args.speed:
        speed = images_per_second(200, seed=args.seed, scene=args.scene, image_size=tuple(args.size))
        print(f"{speed:.0f} images/s (one core, JPEG encoding included)")
