"""The command-line options tools/track.py and tools/eval_tracking.py share, and what they build."""

import argparse

from ssdlite.inference.predictor import Detector, leave_the_cores_to_the_runtime
from ssdlite.tracking.counting import parse_line


def add_tracking_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="a training checkpoint (.ckpt), an exported .onnx or OpenVINO .xml")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, ... (OpenVINO: cpu)")
    parser.add_argument("--every", type=int, default=1, help="detect on every Nth frame; the tracker predicts the others")
    parser.add_argument("--count-line", metavar="x1,y1,x2,y2", help="count crossings of this line (pixels)")
    parser.add_argument("--score-threshold", type=float, default=0.1, help="detections above this reach the tracker")
    parser.add_argument("--track-threshold", type=float, default=0.5, help="score that starts a track and is matched first")
    parser.add_argument("--lost-frames", type=int, default=30, help="frames (at 30 fps) a lost track waits to be found again")
    parser.add_argument("--classes", nargs="*", help="track only these class names")


def tracker_args(args: argparse.Namespace) -> dict:
    """`Tracker` keyword arguments from the parsed options."""
    threshold = args.track_threshold
    return {"lost_track_buffer": args.lost_frames, "track_activation_threshold": threshold, "high_score_threshold": threshold}


def count_line(args: argparse.Namespace) -> tuple[float, float, float, float] | None:
    """The parsed --count-line, or None; ValueError naming the option when malformed."""
    return parse_line(args.count_line) if args.count_line else None


def predict_args(args: argparse.Namespace) -> dict:
    """`Detector.predict` keyword arguments from the parsed options."""
    return {"score_threshold": args.score_threshold, "classes": args.classes}


def load_detector(path: str, device: str = "cpu") -> Detector:
    """A checkpoint, an ONNX file or an OpenVINO IR (see `Detector.load`), with
    torch on one thread beside an exported network (`leave_the_cores_to_the_runtime`)."""
    detector = Detector.load(path, device=device)
    leave_the_cores_to_the_runtime(detector)
    return detector
