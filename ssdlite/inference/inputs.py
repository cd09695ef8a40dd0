"""What a `Detector` takes: image paths, folders, globs, numpy arrays and PIL images."""

import glob
import logging
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ssdlite.data.image_file import UnreadableImageError, read_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def expand_source(source: str | Path) -> tuple[list[Path], bool]:
    """Image files of a path, folder or glob; and whether it named a single file."""
    path = Path(source)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), False
    if path.is_file():
        return [path], True
    matches = sorted(Path(p) for p in glob.glob(str(source)) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
    if not matches:
        raise FileNotFoundError(f"{source}: no such file or folder, and no images match it as a glob")
    return matches, False


def load_inputs(inputs, bgr: bool) -> Iterator[tuple[str, np.ndarray]]:
    """(source name, RGB uint8 HxWx3 image) of each input: paths, folders, globs, arrays (RGB, or BGR
    with `bgr`) and PIL images, one or a list, tuple or iterator of them (read as it is consumed, e.g. video
    frames). Unreadable or damaged files of a folder or glob are logged and skipped."""
    items = inputs if isinstance(inputs, (list, tuple, Iterator)) else [inputs]
    for index, item in enumerate(items):
        if isinstance(item, np.ndarray):
            if item.ndim != 3 or item.shape[2] != 3 or item.dtype != np.uint8:
                raise ValueError(f"array[{index}] must be HxWx3 uint8, got shape {item.shape} {item.dtype}")
            item = np.ascontiguousarray(item)
            yield f"array[{index}]", cv2.cvtColor(item, cv2.COLOR_BGR2RGB) if bgr else item  # not numpy's slower reversed copy
        elif isinstance(item, Image.Image):
            yield f"image[{index}]", np.asarray(item.convert("RGB"))
        elif isinstance(item, (str, Path)):
            paths, single = expand_source(item)
            for path in paths:
                try:
                    image = read_image(path)
                except UnreadableImageError as error:
                    if single:
                        raise ValueError(f"cannot read image {error}") from error
                    log.warning("skipping unreadable image %s", error)
                    continue
                yield str(path), image
        else:
            raise TypeError(f"cannot detect on {type(item).__name__}; give a path, folder, glob, numpy image or PIL image")


def batches(items: Iterator, size: int) -> Iterator[list]:
    """Lists of `size` items (the last may be shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
