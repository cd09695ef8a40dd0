"""What the damage check of `read_image` costs on healthy images, against decoding alone.

python benchmarks/image_check.py [--repeats N]

Writes a frame of the Market Street clip (`ssdlite.samples`) as a 640x360 and an upscaled
1280x720 JPEG (quality 90) and a 1280x720 PNG into a temporary folder and times, per file,
interleaved: `cv2.imread` alone, `read_image` (decode, the check, the BGR to RGB conversion
every caller needs) and the check alone (the end-marker reads): medians of N runs, one thread.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2

from ssdlite.data import image_file
from ssdlite.data.image_file import read_image
from ssdlite.samples import sample_video


def median_ms(functions: list, path: Path, repeats: int) -> list[float]:
    """Median milliseconds of each function on `path`, the functions interleaved run by run."""
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, samples in zip(functions, times):
            start = time.perf_counter()
            function(path)
            samples.append(time.perf_counter() - start)
    return [1000 * statistics.median(samples) for samples in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    capture = cv2.VideoCapture(str(sample_video("market-street")))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 300)
    frame = capture.read()[1]
    folder = Path(tempfile.mkdtemp())
    files = []
    for (height, width), suffix in (((720, 1280), ".jpg"), ((360, 640), ".jpg"), ((720, 1280), ".png")):
        picture = cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)
        path = folder / f"scene_{width}x{height}{suffix}"
        cv2.imwrite(str(path), picture, [cv2.IMWRITE_JPEG_QUALITY, 90] if suffix == ".jpg" else [])
        files.append(path)
    print(f"{'file':<22}{'cv2.imread ms':>15}{'read_image ms':>15}{'check ms':>10}{'check/decode':>14}")
    for path in files:
        decode, checked, check = median_ms(
            [lambda p: cv2.imread(str(p), cv2.IMREAD_COLOR), read_image, image_file._jpeg_without_end], path, args.repeats
        )
        print(f"{path.name:<22}{decode:>15.3f}{checked:>15.3f}{check:>10.4f}{check / decode:>14.2%}")


if __name__ == "__main__":
    main()
