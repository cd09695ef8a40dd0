"""Tracking metrics of a checkpoint on a clip with MOT ground truth: MOTA, IDF1, HOTA, ID switches.

ssdlite eval-tracking --checkpoint PATH --clip clip.mp4 [--gt gt.txt] [--count-line x1,y1,x2,y2] [--out metrics.json]

The ground truth defaults to gt.txt beside the clip, as ssdlite make-synthetic writes it
(class column: COCO category ids). Scored by the `trackers` package (TrackEval's definitions).
"""

import argparse
import json
import logging
from pathlib import Path

from ssdlite.errors import reports_errors
from ssdlite.tracking.cli import add_tracking_arguments, count_line, load_detector, predict_args, tracker_args
from ssdlite.tracking.evaluate import evaluate_tracking


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_tracking_arguments(parser)
    parser.add_argument("--clip", required=True, help="a video file")
    parser.add_argument("--gt", help="MOT ground truth (default: gt.txt beside the clip)")
    parser.add_argument("--class-agnostic", action="store_true", help="match tracks to ground truth whatever their class")
    parser.add_argument("--out", help="also write the results here as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = evaluate_tracking(
        load_detector(args.checkpoint, args.device),
        args.clip,
        args.gt or Path(args.clip).with_name("gt.txt"),
        args.every,
        count_line(args),
        not args.class_agnostic,
        tracker_args(args),
        **predict_args(args),
    )
    print(f"{result['frames']} frames")
    print(
        "  ".join(
            f"{name} {value:.3f}" if isinstance(value, float) else f"{name} {value}" for name, value in result["metrics"].items()
        )
    )
    for name, counts in result.get("counts", {}).items():
        print(f"line counts, {name}: {json.dumps(counts)}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
        print(f"wrote {args.out}")
