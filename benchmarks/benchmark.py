"""Speed and size of our SSDLite against torchvision's SSDLite320-MobileNetV3 on this CPU.

python benchmarks/benchmark.py [CONFIG] [--set KEY=VALUE ...] --out results.json [--threads N] [--quick]
python benchmarks/benchmark.py --deploy CHECKPOINT --data CONFIG [--set KEY=VALUE ...] --out deploy.json [--threads N]

CONFIG's model section is measured (default: the paper model, configs/coco_ssdlite.py),
with random weights. --deploy measures a trained checkpoint instead, in every
runtime (PyTorch, onnxruntime and OpenVINO, fp32 and INT8) as `ssdlite benchmark`
does: latency at batch 1, throughput at batch 8 and COCO mAP on the validation
images of CONFIG's data, whose training images calibrate INT8; torchvision's
SSDLite is the reference, timed in the same rounds.
"""

import argparse
import json
import sys
from pathlib import Path

from speed import format_table, run_benchmark
from ssdlite.config import apply_overrides, load_config
from ssdlite.errors import reports_errors


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", default=Path(__file__).parents[1] / "configs/coco_ssdlite.py")
    parser.add_argument("--out", default="benchmark.json")
    parser.add_argument("--threads", type=int, help="torch and onnxruntime threads (default: torch's)")
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run, not numbers to quote")
    parser.add_argument("--deploy", metavar="CHECKPOINT", help="a trained checkpoint to measure in every runtime")
    parser.add_argument("--data", metavar="CONFIG", help="with --deploy: the config whose data scores and calibrates")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="overrides of CONFIG (or of --data's), e.g. model.width_mult=0.5",
    )
    args = parser.parse_args(argv)
    if args.deploy:
        deploy(args)
        return
    model_config = apply_overrides(load_config(args.config), args.set).model
    results = run_benchmark(model_config, threads=args.threads, quick=args.quick)
    print(format_table(results))
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {args.out}")


def deploy(args) -> None:
    from deployment import format_deployment_table, run_deployment_benchmark

    if not args.data:
        sys.exit("error: --deploy needs --data CONFIG (the validation and calibration images)")
    data = apply_overrides(load_config(args.data), args.set).data
    results = run_deployment_benchmark(args.deploy, data, threads=args.threads, quick=args.quick)
    print(format_deployment_table(results))
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
