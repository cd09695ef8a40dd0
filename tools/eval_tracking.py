"""Tracking metrics of a checkpoint on a clip with MOT ground truth: MOTA, IDF1, HOTA, ID switches.

python tools/eval_tracking.py --checkpoint PATH --clip clip.mp4 [--gt gt.txt] [--count-line x1,y1,x2,y2] [--out metrics.json]

The ground truth defaults to gt.txt beside the clip, as tools/make_synthetic.py writes it
(class column: COCO category ids). Scored by the `trackers` package (TrackEval's definitions).
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from ssdlite.checkpoint import CheckpointError
from ssdlite.tracking.cli import add_tracking_arguments, count_line, load_detector, predict_args, tracker_args
from ssdlite.tracking.evaluate import evaluate_tracking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_tracking_arguments(parser)
    parser.add_argument("--clip", required=True, help="a video file")
    parser.add_argument("--gt", help="MOT ground truth (default: gt.txt beside the clip)")
    parser.add_argument("--class-agnostic", action="store_true", help="match tracks to ground truth whatever their class")
    parser.add_argument("--out", help="also write the results here as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
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
    except (CheckpointError, ValueError, FileNotFoundError) as error:
        sys.exit(f"error: {' '.join(str(error).split())}")
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


if __name__ == "__main__":
    main()
