"""Detect objects in images, videos (a file, folder or glob of them), a webcam or a stream; write annotated copies.

ssdlite predict --checkpoint PATH --source {image|video|folder|glob|0|URL} --out DIR [--every N] [--backend B] [--device D]

Several videos (a dash-cam folder) each get a folder of outputs in DIR; a webcam
(--source 0) or stream runs until it ends or Ctrl-C, which finishes the outputs.

PATH is a training checkpoint (.ckpt, run in PyTorch), an exported .onnx, or an
OpenVINO .xml; ONNX files run in OpenVINO when it is installed (the fastest CPU
path), else in onnxruntime.
"""

import argparse
import logging
import time
from pathlib import Path

from ssdlite.errors import reports_errors
from ssdlite.inference import Detector
from ssdlite.inference.annotate import infer_images, infer_video
from ssdlite.inference.inputs import resolve_source, video_outputs
from ssdlite.inference.predictor import leave_the_cores_to_the_runtime
from ssdlite.inference.runtimes import PRECISIONS


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a training checkpoint (.ckpt), an exported .onnx or OpenVINO .xml")
    parser.add_argument("--backend", choices=("auto", "onnxruntime", "openvino"), default="auto", help="what runs an .onnx file")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, ... (OpenVINO: cpu)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32", help="bf16: where the CPU (or GPU) has it")
    parser.add_argument(
        "--source",
        required=True,
        help="an image or video, a folder or glob of them ('clips/*.mp4'), a webcam index (0) or an rtsp:// / http:// URL",
    )
    parser.add_argument("--out", required=True)
    parser.add_argument("--every", type=int, default=1, help="videos: detect on every Nth frame")
    parser.add_argument("--score-threshold", type=float, default=0.3, help="drawn and recorded detections score above this")
    parser.add_argument("--classes", nargs="*", help="keep only these class names")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    source = resolve_source(args.source)  # before loading: a wrong source fails at once
    detector = Detector.load(args.checkpoint, backend=args.backend, device=args.device, precision=args.precision)
    leave_the_cores_to_the_runtime(detector)
    logging.info("running %s in %s", args.checkpoint, detector.backend)
    predict_args = {"score_threshold": args.score_threshold, "classes": args.classes}
    out = Path(args.out)
    start = time.perf_counter()
    if not source.images:
        count, unit = 0, "frames"
        for video, folder in video_outputs(source, out):
            summary = infer_video(detector, video, folder, args.every, **predict_args)
            count += summary["frames_read"]
            print(f"wrote {summary['output']}, {folder / 'detections.jsonl'} and {folder / 'summary.json'}")
    else:
        count, unit = infer_images(detector, source.images, out, **predict_args), "images"
        print(f"wrote {count} annotated images and {out / 'detections.jsonl'} to {out}")
    seconds = time.perf_counter() - start
    print(f"{count} {unit} in {seconds:.1f} s: {count / seconds:.1f} {unit}/s end to end ({detector.backend})")
