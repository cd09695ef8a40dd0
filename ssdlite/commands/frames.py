"""Frames of your videos to label: ssdlite frames VIDEO_OR_FOLDER_OR_GLOB --out DIR [--fps F | --every N] [--max N]

Writes DIR/train/*.jpg and DIR/val/*.jpg (named <video>_<frame>.jpg) and DIR/train.json
and DIR/val.json: COCO files with the images and no annotations, ready for an annotation
tool. The split is by video, never the same video in both: the last videos by name (a
dash-cam's latest minutes) are val. Frames nearly identical to the last one kept (a
stopped car) are skipped. A video cut short is read as far as it decodes, and named.

    ssdlite frames 'dashcam/*.MP4' --out footage --fps 1
"""

import argparse
import logging
import time
from pathlib import Path

from ssdlite.errors import reports_errors
from ssdlite.footage.frames import MIN_DIFFERENCE, Sampling, extract_frames
from ssdlite.inference.inputs import resolve_source


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a video, a folder of videos, or a glob such as 'dashcam/*.MP4' (quote it)")
    parser.add_argument("--out", required=True, help="the folder for train/, val/, train.json and val.json")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument("--every", type=int, help="every Nth frame (default: every frame)")
    rate.add_argument("--fps", type=float, help="about F frames per second of video, e.g. 1")
    parser.add_argument("--max", type=int, help="at most N frames of each video")
    parser.add_argument(
        "--min-difference",
        type=float,
        default=MIN_DIFFERENCE,
        help="grey levels a frame must differ from the last kept one by (0 keeps near-identical frames)",
    )
    parser.add_argument("--val-fraction", type=float, default=0.2, help="share of the videos whose frames are val")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    start = time.perf_counter()
    sampling = Sampling(every=args.every, fps=args.fps, max_per_video=args.max, min_difference=args.min_difference)
    results = extract_frames(resolve_source(args.source), Path(args.out), sampling, val_fraction=args.val_fraction)
    seconds = time.perf_counter() - start
    for result in results:
        print(
            f"{result.video} ({result.split}): kept {len(result.kept)} of {result.frames_read} frames read, "
            f"{result.skipped_similar} skipped as near-identical"
        )
    read = sum(result.frames_read for result in results)
    kept = {split: sum(len(r.kept) for r in results if r.split == split) for split in ("train", "val")}
    print(
        f"{read} frames read in {seconds:.1f} s ({read / seconds:.0f} frames/s); "
        f"wrote {kept['train']} train and {kept['val']} val frames, {args.out}/train.json and {args.out}/val.json"
    )
