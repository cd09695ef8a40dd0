"""Accuracy after the same training time: our recipes against torchvision's SSDLite320-MobileNetV3.

python benchmarks/benchmark_train.py --minutes N [--out results.json] [--recipes CONFIG ...] [--data DIR]
    [--work-dir DIR] [--threads T] [--tv-lr LR | --no-torchvision]

Each model trains from scratch on the CPU for N minutes of wall clock on the built-in
driving data (generated into --data on first use), one after another, then is scored
once on its validation split.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from ssdlite.config import ConfigError, load_config
from torchvision_reference import LR
from training_budget import format_table, run_training_benchmark

CONFIGS = Path(__file__).parents[1] / "configs"
DRIVING = CONFIGS / "driving_ssdlite.py"  # its classes are the ones every model learns


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, required=True, help="training time per model (may be fractional)")
    parser.add_argument("--out", default="benchmark_train.json")
    parser.add_argument("--recipes", nargs="+", default=[DRIVING, CONFIGS / "driving_ssdlite_cpu.py"])
    parser.add_argument("--data", default="data/benchmark_driving_seed1", help="the driving data's folder")
    parser.add_argument("--work-dir", default="runs/benchmark_train", help="run directories go under this")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--tv-lr", type=float, default=LR, help="torchvision's peak AdamW learning rate")
    parser.add_argument("--no-torchvision", action="store_true", help="train the recipes only (compare them with each other)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.minutes <= 0:
        sys.exit("error: --minutes must be positive")
    try:
        recipes = {Path(path).stem: load_config(path) for path in args.recipes}
        classes = load_config(DRIVING).data.classes
    except ConfigError as error:
        sys.exit(f"error: {error}")
    torchvision_lr = None if args.no_torchvision else args.tv_lr
    results = run_training_benchmark(
        recipes,
        classes=classes,
        minutes=args.minutes,
        data_dir=args.data,
        work_dir=args.work_dir,
        threads=args.threads,
        torchvision_lr=torchvision_lr,
    )
    print(format_table(results))
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
