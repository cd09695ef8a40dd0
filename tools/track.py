"""Track and count objects in a video: annotated video with ids and trails, tracks.jsonl, tracks.csv, summary.json.

python tools/track.py --checkpoint PATH --source VIDEO --out DIR [--every N] [--count-line x1,y1,x2,y2]
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from ssdlite.checkpoint import CheckpointError
from ssdlite.tracking.cli import add_tracking_arguments, count_line, load_detector, predict_args, tracker_args
from ssdlite.tracking.video import track_video


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_tracking_arguments(parser)
    parser.add_argument("--source", required=True, help="a video file")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        summary = track_video(
            load_detector(args.checkpoint, args.device),
            args.source,
            Path(args.out),
            args.every,
            count_line(args),
            tracker_args(args),
            **predict_args(args),
        )
    except (CheckpointError, ValueError, FileNotFoundError) as error:
        sys.exit(f"error: {' '.join(str(error).split())}")  # one line, though torch.load's reasons span several
    print(json.dumps(summary, indent=2))
    print(f"wrote the annotated video, tracks.jsonl, tracks.csv and summary.json to {args.out}")


if __name__ == "__main__":
    main()
