"""Train a detector: python tools/train.py CONFIG [--set key=value ...] [--resume PATH|auto] [--work-dir DIR]"""

import argparse
import logging
import signal
import sys

from lightning.pytorch.utilities.exceptions import SIGTERMException

from ssdlite.assets import AssetError
from ssdlite.checkpoint import CheckpointError
from ssdlite.config import ConfigError, apply_overrides, load_config
from ssdlite.data.coco import DatasetError
from ssdlite.training.runner import RunDirError, train


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
    try:
        config = apply_overrides(load_config(args.config), args.set)
    except ConfigError as error:
        sys.exit(f"error: {error}")
    if args.resume == "auto" and args.work_dir is None:
        sys.exit("error: --resume auto needs --work-dir (the run to continue)")
    try:
        train(config, args.config, args.work_dir, args.resume)
    except SIGTERMException:
        # last.ckpt was written on the way out (see ssdlite.training.runner)
        where = f"--work-dir {args.work_dir}" if args.work_dir else "--work-dir <the run directory>"
        print(f"stopped by SIGTERM; continue with: python tools/train.py {args.config} {where} --resume auto", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
    except (DatasetError, CheckpointError, ConfigError, RunDirError, FileNotFoundError, AssetError) as error:
        # Bad data, a checkpoint to start from, a missing file the config or a flag names, a damaged weights cache;
        # on one line, though torch.load's reasons (in a CheckpointError) span several.
        sys.exit(f"error: {' '.join(str(error).split())}")


if __name__ == "__main__":
    main()
