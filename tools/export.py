"""Export a checkpoint to ONNX and check it against PyTorch.

python tools/export.py --checkpoint PATH --format onnx [--nms] [--dynamic-batch] [--out FILE]
"""

import argparse
import sys
from pathlib import Path

import torch

from ssdlite.checkpoint import CheckpointError, load_checkpoint
from ssdlite.inference.export import check_onnx, export_onnx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--format", choices=("onnx",), default="onnx")
    parser.add_argument("--nms", action="store_true", help="decode boxes and run NMS inside the graph (batch 1)")
    parser.add_argument("--dynamic-batch", action="store_true", help="a dynamic batch axis (raw outputs only)")
    parser.add_argument("--out", help="default: the checkpoint's path with .onnx")
    args = parser.parse_args()
    try:
        model, config, class_names = load_checkpoint(args.checkpoint)
        out = Path(args.out or Path(args.checkpoint).with_suffix(".onnx"))
        export_onnx(model, config, class_names, out, nms=args.nms, dynamic_batch=args.dynamic_batch)
    except (CheckpointError, ValueError) as error:
        sys.exit(f"error: {' '.join(str(error).split())}")  # one line, though torch.load's reasons span several
    generator = torch.Generator().manual_seed(0)
    batch_sizes = [1, 3] if args.dynamic_batch else [1]
    try:
        for batch_size in batch_sizes:
            images = torch.rand(batch_size, 3, *model.image_size, generator=generator) * 2 - 1
            report = check_onnx(model, out, images, nms=args.nms)
            print(f"batch {batch_size}: max |PyTorch - onnxruntime| " + ", ".join(f"{k} {v:.1e}" for k, v in report.items()))
    except AssertionError as error:
        sys.exit(f"export check FAILED: {error}")
    print(f"wrote {out} (checked against PyTorch)")


if __name__ == "__main__":
    main()
