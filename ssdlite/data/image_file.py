"""Decoding an image file, or saying why it cannot be used.

OpenCV decodes a JPEG cut short without an error: it fills the missing rows with grey, and only
libjpeg's "Premature end of JPEG file" on stderr, naming no file, tells. `read_image` still
decodes with OpenCV (healthy images come out exactly as `cv2.imread` gives them) and asks
Pillow, whose decoders raise on truncated and corrupt data, for the verdict on a file that
looks damaged. A PNG needs no extra check: libpng verifies the CRC of every critical chunk while
OpenCV decodes, and a broken or cut-off PNG fails to decode.
"""

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ssdlite.errors import SsdliteError

JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"  # the SOI and EOI markers


class UnreadableImageError(SsdliteError, ValueError):
    """An image file that cannot be decoded, or decodes only in part.

    Attributes:
        path: the file.
        reason: why, as the decoder says it.
    """

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = str(path), reason


def read_image(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8 HxWx3, exactly as `cv2.imread` decodes it.

    Raises:
        UnreadableImageError: OpenCV cannot decode the file, or it is a JPEG cut short or
            corrupt (which OpenCV would decode in part); the reason is Pillow's.
    """
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableImageError(path, decoder_complaint(path) or "not an image OpenCV can decode")
    if _jpeg_without_end(path):
        complaint = decoder_complaint(path)
        if complaint:
            raise UnreadableImageError(path, f"damaged JPEG: {complaint} (OpenCV would fill what is missing with grey)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def decoder_complaint(path: str | Path) -> str | None:
    """What Pillow finds wrong decoding `path` (a PNG: every chunk's CRC), or None.

    A JPEG is decoded at 1/8 scale: every byte of it is still entropy-decoded, so a cut
    or a corrupt stream raises, at a third of the cost of a full decode.
    """
    try:
        with Image.open(path) as image:
            if image.format == "PNG":
                image.verify()
            else:
                image.draft(image.mode, (1, 1))  # only JPEG decoders scale; others ignore it
                image.load()
    except Exception as error:  # noqa: BLE001 - whatever stops the decoder is the reason
        return str(error) or type(error).__name__
    return None


def _jpeg_without_end(path: str | Path) -> bool:
    """A JPEG file that does not end with its end-of-image marker: cut short, or carrying data
    after the image (a motion photo's video, padding), which only a decoder can tell apart.

    Two 2-byte reads: the common healthy file costs no second decode.
    """
    with open(path, "rb") as file:
        if file.read(2) != JPEG_START:
            return False
        file.seek(-2, os.SEEK_END)
        return file.read(2) != JPEG_END
