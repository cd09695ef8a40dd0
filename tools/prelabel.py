"""Pre-label footage: a detector and the tracker draw the boxes, a person corrects them.

python tools/prelabel.py --checkpoint CKPT --source FRAMES_OR_VIDEOS --out DIR
    [--min-score S] [--min-track-frames N] [--every N] [--fps F]

CKPT: a training checkpoint (your last model, a COCO one, or a converted real detector), an
exported .onnx or an OpenVINO .xml. Keeps the confident, track-consistent boxes and writes
DIR/annotations.json: COCO, importable into CVAT as "COCO 1.0" (into a task made of the same
images), each box with its score and track id. Videos' frames are written to DIR/images.
"""

import argparse
import logging
import sys
from pathlib import Path

from ssdlite.checkpoint import CheckpointError
from ssdlite.footage.prelabel import MIN_SCORE, MIN_TRACK_FRAMES
from ssdlite.footage.prelabel_files import prelabel_footage
from ssdlite.tracking.cli import load_detector
from ssdlite.video import ASSUMED_FPS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a training checkpoint (.ckpt), an exported .onnx or OpenVINO .xml")
    parser.add_argument("--source", required=True, help="a video, a folder or glob of videos, or a folder or glob of frames")
    parser.add_argument("--out", required=True)
    parser.add_argument("--min-score", type=float, default=MIN_SCORE, help="keep boxes scoring at least this")
    parser.add_argument("--min-track-frames", type=int, default=MIN_TRACK_FRAMES,
                        help="keep boxes of tracks detected on at least this many frames (1: untracked ones too)")  # fmt: skip
    parser.add_argument("--every", type=int, default=1, help="videos: label every Nth frame (the tracker sees them all)")
    parser.add_argument("--fps", type=float, default=ASSUMED_FPS, help="a folder of frames: their rate (videos give theirs)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        summary = prelabel_footage(
            load_detector(args.checkpoint),
            args.source,
            Path(args.out),
            every=args.every,
            frame_rate=args.fps,
            min_score=args.min_score,
            min_track_frames=args.min_track_frames,
        )
    except (CheckpointError, ValueError, FileNotFoundError) as error:
        sys.exit(f"error: {' '.join(str(error).split())}")  # one line, though torch.load's reasons span several
    print(
        f"kept {summary['kept']} boxes in {summary['tracks']} tracks on {summary['images_labelled']} images, of "
        f"{summary['confident']} detections scoring at least {args.min_score}; dropped {summary['dropped_short_track']} "
        f"in tracks seen on fewer than {args.min_track_frames} frames and {summary['dropped_untracked']} in no track"
    )
    print(f"wrote {summary['annotations']} (file names relative to {summary['images']})")


if __name__ == "__main__":
    main()
