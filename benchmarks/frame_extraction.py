"""Frame extraction (`ssdlite.footage.frames`, tools/frames.py): frames per second at 640x360, and what is kept of a stop.

python benchmarks/frame_extraction.py [--seconds 30]

Writes the built-in road scene at 640x360, 25 fps, with a 5 s stop from 10 s (the picture
held, with the sensor noise of a camera: sigma 3 grey levels) as H.264, and extracts it
twice: every frame with near-duplicate skipping, and --fps 1. Then the same on the Market
Street clip (real footage from a moving streetcar, 640x360, `ssdlite.samples`) when it is
installed. Frames per second count the frames read, end to end: decoding, thumbnails and
the JPEGs written.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ssdlite.assets import AssetError
from ssdlite.data.synthetic_video import moving_scene
from ssdlite.footage.frames import Sampling, extract_frames
from ssdlite.inference.inputs import resolve_source
from ssdlite.samples import sample_video
from ssdlite.video import open_video_writer

FPS = 25
STOP = (10.0, 5.0)  # (start, duration) seconds


def write_clip(path: Path, seconds: float) -> Path:
    rng = np.random.default_rng(0)
    writer = open_video_writer(path, FPS, (640, 360))
    for image, _ in moving_scene(0, image_size=(360, 640), scene="footage", num_frames=int(seconds * FPS), fps=FPS, stop=STOP):
        writer.write(np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8))
    writer.release()
    return path


def measure(video: Path, sampling: Sampling, out: Path) -> tuple[float, list[int], int]:
    """(frames read per second, frame numbers kept, frames read)."""
    start = time.perf_counter()
    (result,) = extract_frames(resolve_source(video), out, sampling, val_fraction=0)
    seconds = time.perf_counter() - start
    return result.frames_read / seconds, [int(name.rsplit("_", 1)[1][:-4]) for name in result.kept], result.frames_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the built-in clip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        videos = {"built-in road, 5 s stop": write_clip(Path(folder) / "drive.mp4", args.seconds)}
        try:
            videos["Market Street"] = sample_video("market-street")
        except AssetError as error:
            print(f"no Market Street clip ({error})")
        stop = range(int(STOP[0] * FPS), int(sum(STOP) * FPS))
        for name, video in videos.items():
            for label, sampling in (("every frame", Sampling()), ("--fps 1", Sampling(fps=1))):
                rate, kept, read = measure(video, sampling, Path(tempfile.mkdtemp(dir=folder)))
                in_stop = f", {sum(n in stop for n in kept)} of the stop's {len(stop)}" if "stop" in name else ""
                print(f"{name}, {label}: {rate:.0f} frames/s; kept {len(kept)} of {read}{in_stop}")


if __name__ == "__main__":
    main()
