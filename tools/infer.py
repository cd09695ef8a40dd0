"""Detect objects in images, folders, globs or videos and write annotated copies.

python tools/infer.py --checkpoint PATH --source {image|folder|glob|video} --out DIR [--every N] [--backend B] [--device D]

PATH is a training checkpoint (.ckpt, run in PyTorch), an exported .onnx, or an
OpenVINO .xml; ONNX files run in OpenVINO when it is installed (the fastest CPU
path), else in onnxruntime.
"""

import argparse
import logging
import sys
import time
from pathlib import Path

from ssdlite.checkpoint import CheckpointError
from ssdlite.inference import Detector
from ssdlite.inference.annotate import infer_images, infer_video, is_video
from ssdlite.inference.predictor import leave_the_cores_to_the_runtime
from ssdlite.inference.runtimes import PRECISIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a training checkpoint (.ckpt), an exported .onnx or OpenVINO .xml")
    parser.add_argument("--backend", choices=("auto", "onnxruntime", "openvino"), default="auto", help="what runs an .onnx file")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, ... (OpenVINO: cpu)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32", help="bf16: where the CPU (or GPU) has it")
    parser.add_argument("--source", required=True, help="an image, a folder, a glob such as 'clips/*.jpg', or a video")
    parser.add_argument("--out", required=True)
    parser.add_argument("--every", type=int, default=1, help="videos: detect on every Nth frame")
    parser.add_argument("--score-threshold", type=float, default=0.3, help="drawn and recorded detections score above this")
    parser.add_argument("--classes", nargs="*", help="keep only these class names")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        detector = Detector.load(args.checkpoint, backend=args.backend, device=args.device, precision=args.precision)
        leave_the_cores_to_the_runtime(detector)
        logging.info("running %s in %s", args.checkpoint, detector.backend)
        predict_args = {"score_threshold": args.score_threshold, "classes": args.classes}
        out = Path(args.out)
        start = time.perf_counter()
        if is_video(args.source):
            summary = infer_video(detector, args.source, out, args.every, **predict_args)
            count, unit = summary["frames_read"], "frames"
            print(f"wrote {summary['output']}, {out / 'detections.jsonl'} and {out / 'summary.json'}")
        else:
            count, unit = infer_images(detector, args.source, out, **predict_args), "images"
            print(f"wrote {count} annotated images and {out / 'detections.jsonl'} to {out}")
        seconds = time.perf_counter() - start
        print(f"{count} {unit} in {seconds:.1f} s: {count / seconds:.1f} {unit}/s end to end ({detector.backend})")
    except (CheckpointError, ValueError, FileNotFoundError) as error:
        sys.exit(f"error: {' '.join(str(error).split())}")  # one line, though torch.load's reasons span several


if __name__ == "__main__":
    main()
