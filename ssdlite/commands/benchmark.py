"""Your checkpoint in each runtime this machine has: latency, throughput and mAP on your data, to choose what to deploy.

ssdlite benchmark CHECKPOINT --data CONFIG [--set KEY=VALUE ...] [--runtimes pytorch onnxruntime openvino]
                  [--no-int8] [--device D] [--threads N] [--calibration-images N] [--quick] [--out benchmark.json]

Each runtime runs CHECKPOINT as made here: PyTorch (on --device), onnxruntime and
OpenVINO in fp32 and INT8 (calibrated on CONFIG's training images, as `ssdlite
export --int8` calibrates). Each is timed on CONFIG's validation images, one
runtime after another in every round: at batch 1 the network, end to end
(preprocessed tensor in, detections out) and the post-processing after it; at
batch 8 images per second. mAP (0-100) is COCO AP on the validation split.
Runtimes whose packages are missing are skipped: pip install "ssdlite[deploy]".
"""

import argparse
import json

import torch

from ssdlite.config import apply_overrides, load_config
from ssdlite.errors import InputError, reports_errors
from ssdlite.inference.runtime_benchmark import RUNTIMES, benchmark_runtimes, format_table, runnable
from ssdlite.inference.runtimes import torch_device


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a training checkpoint (.ckpt)")
    parser.add_argument("--data", required=True, metavar="CONFIG", help="the config whose data scores and calibrates")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides of CONFIG, e.g. data.val_images=...")
    parser.add_argument(
        "--runtimes",
        nargs="+",
        choices=RUNTIMES,
        default=list(RUNTIMES),
        metavar="RUNTIME",
        help=f"of {', '.join(RUNTIMES)} (default: all)",
    )
    parser.add_argument("--no-int8", action="store_true", help="fp32 only: no calibration")
    parser.add_argument("--device", default="cpu", help="torch device of PyTorch and onnxruntime: cpu, cuda, ... (OpenVINO: cpu)")
    parser.add_argument("--threads", type=int, metavar="N", help="threads of torch, onnxruntime and OpenVINO (default: torch's)")
    parser.add_argument(
        "--calibration-images", type=int, metavar="N", help="training images that calibrate INT8 (default: 300, --quick 32)"
    )
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke run, not numbers to quote")
    parser.add_argument("--out", default="benchmark.json", help="the figures as JSON (default: %(default)s)")
    args = parser.parse_args(argv)
    data = apply_overrides(load_config(args.data), args.set).data  # before any export: a bad key fails at once
    device = torch_device(args.device)
    variants, skipped = runnable(args.runtimes, int8=not args.no_int8)
    if not variants:
        raise InputError(f"nothing to measure: {skipped}")
    if skipped:
        print(skipped)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = benchmark_runtimes(
        args.checkpoint,
        data,
        variants=variants,
        device=str(device),
        num_calibration=args.calibration_images,
        quick=args.quick,
    )
    print(f"{torch.get_num_threads()} threads; PyTorch on {device}")
    print(format_table(results))
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {args.out}")
