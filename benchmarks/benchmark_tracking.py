"""The tracking benchmark: a checkpoint tracking the built-in clip (MOTA, IDF1, HOTA, ID switches,
line counts against ground truth), the tracker alone on near-perfect detections, the tracker's
time per frame at 20 objects, and end-to-end frames per second beside the detector alone.

python benchmarks/benchmark_tracking.py --checkpoint PATH [--frames 300] [--threads 2] [--out DIR]
"""

import argparse
import json
from pathlib import Path

from ssdlite.data.synthetic import write_clip
from ssdlite.data.synthetic_scene import SCENES
from ssdlite.errors import reports_errors
from ssdlite.tracking.cli import load_detector
from ssdlite.tracking.evaluate import CATEGORY_NAMES, evaluate_tracking
from ssdlite.tracking.mot import read_ground_truth
from ssdlite.video import read_video
from tracking_measures import frames_per_second, tracker_alone_metrics, tracker_ms_per_frame

SHOWN = ("MOTA", "IDF1", "HOTA", "IDSW", "CLR_Re", "CLR_Pr")


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scene", choices=SCENES, default="close", help="the demo model's scenes: close")
    parser.add_argument("--size", type=int, nargs=2, default=(360, 640), metavar=("H", "W"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="tracking_benchmark", help="where the clip, gt.txt and results.json go")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    height, width = args.size
    line = (width / 2, 0, width / 2, height)  # a vertical line through the middle: cross traffic crosses it
    detector = load_detector(args.checkpoint)
    clip = write_clip(
        out / "clip.mp4", seed=args.seed, image_size=tuple(args.size), scene=args.scene, num_frames=args.frames, fps=args.fps
    )
    results = {"clip": str(clip), "frames": args.frames, "count_line": line}
    for every in (1, 2):
        results[f"every_{every}"] = evaluate_tracking(detector, clip, clip.with_name("gt.txt"), every, line, score_threshold=0.1)
    gt_frames = read_ground_truth(clip.with_name("gt.txt"), CATEGORY_NAMES, args.frames)
    results["tracker_alone"] = tracker_alone_metrics(gt_frames, args.fps)
    results["tracker_ms_per_frame_20_objects"] = tracker_ms_per_frame(20)
    frames = list(read_video(clip).frames)
    for every in (1, 2):
        results[f"fps_every_{every}"] = frames_per_second(detector, frames, args.threads, every, args.fps, score_threshold=0.1)
    print_results(results, args.threads)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / 'results.json'}")


def print_results(results: dict, threads: int) -> None:
    for name in ("every_1", "every_2", "tracker_alone"):
        metrics = results[name]["metrics"] if "metrics" in results[name] else results[name]
        print(
            f"{name:<14}" + "  ".join(f"{key} {metrics[key]:.3f}" if key != "IDSW" else f"IDSW {metrics[key]}" for key in SHOWN)
        )
    for every in (1, 2):
        counts = results[f"every_{every}"]["counts"]
        print(f"counts every_{every}: tracked {json.dumps(counts['tracked'])}")
    print(f"counts ground truth: {json.dumps(results['every_1']['counts']['ground_truth'])}")
    print(f"tracker: {results['tracker_ms_per_frame_20_objects']:.2f} ms per frame at 20 objects")
    for every in (1, 2):
        fps = results[f"fps_every_{every}"]
        print(f"{threads} threads: detector alone {fps['detector_only']:.1f} fps, tracking (every {every}) {fps['tracking']:.1f}")


if __name__ == "__main__":
    main()
