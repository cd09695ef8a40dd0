"""Speed and size of our SSDLite against torchvision's SSDLite320-MobileNetV3 on this CPU.

python tools/benchmark.py [CONFIG] --out results.json [--threads N] [--quick]

CONFIG's model section is measured (default: the paper model, configs/coco_ssdlite.py).
"""

import argparse
import json
import sys
from pathlib import Path

from ssdlite.config import ConfigError, load_config
from ssdlite.inference.benchmark import format_table, run_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", default=Path(__file__).parents[1] / "configs/coco_ssdlite.py")
    parser.add_argument("--out", default="benchmark.json")
    parser.add_argument("--threads", type=int, help="torch and onnxruntime threads (default: torch's)")
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run, not numbers to quote")
    args = parser.parse_args()
    try:
        model_config = load_config(args.config).model
    except ConfigError as error:
        sys.exit(f"error: {error}")
    results = run_benchmark(model_config, args.threads, args.quick)
    print(format_table(results))
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
