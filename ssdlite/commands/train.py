"""Train a detector: ssdlite train CONFIG [--set key=value ...] [--resume PATH|auto] [--work-dir DIR]"""

import argparse
import logging
import signal
import sys

from lightning.pytorch.utilities.exceptions import SIGTERMException

from ssdlite.config import apply_overrides, load_config
from ssdlite.errors import reports_errors
from ssdlite.training.runner import train


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", help="a Python config file, e.g. configs/coco_ssdlite.py")
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides, e.g. train.lr=0.01 trainer.devices=2"
    )
    parser.add_argument("--resume", help="a checkpoint to continue from, or 'auto' for <work dir>/last.ckpt")
    parser.add_argument("--work-dir", help="the run directory (default: runs/<config name>-<date-time>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = apply_overrides(load_config(args.config), args.set)
    if args.resume == "auto" and args.work_dir is None:
        parser.error("--resume auto needs --work-dir (the run to continue)")
    try:
        train(config, args.config, args.work_dir, args.resume)
    except SIGTERMException:
        # last.ckpt was written on the way out (see ssdlite.training.runner)
        where = f"--work-dir {args.work_dir}" if args.work_dir else "--work-dir <the run directory>"
        print(f"stopped by SIGTERM; continue with: ssdlite train {args.config} {where} --resume auto", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
