"""Track and count objects in a video: annotated video with ids and trails, tracks.jsonl, tracks.csv, summary.json.

ssdlite track --checkpoint PATH --source {video|folder|glob|0|rtsp://...} --out DIR [--every N] [--count-line x1,y1,x2,y2]

Several videos (a dash-cam folder) are tracked one by one, each into a folder of DIR; a
webcam (--source 0) or stream runs until it ends or Ctrl-C, which finishes the outputs.
"""

import argparse
import json
import logging
from pathlib import Path

from ssdlite.errors import InputError, reports_errors
from ssdlite.inference.inputs import resolve_source, video_outputs
from ssdlite.tracking.cli import add_tracking_arguments, count_line, load_detector, predict_args, tracker_args
from ssdlite.tracking.video import track_video


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_tracking_arguments(parser)
    parser.add_argument(
        "--source", required=True, help="a video, a folder or glob of videos, a webcam index (0) or an rtsp:// / http:// URL"
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    source = resolve_source(args.source)
    if source.images:
        raise InputError(f"{args.source} names images; tracking needs a video, webcam or stream")
    detector = load_detector(args.checkpoint, args.device)
    for video, folder in video_outputs(source, Path(args.out)):
        summary = track_video(detector, video, folder, args.every, count_line(args), tracker_args(args), **predict_args(args))
        print(json.dumps(summary, indent=2))
        print(f"wrote the annotated video, tracks.jsonl, tracks.csv and summary.json to {folder}")
