import cv2
import numpy as np
import pytest
from coco_files import break_png_chunk, write_truncated_jpeg

from ssdlite.data.image_file import UnreadableImageError, read_image


def noise(height: int = 80, width: int = 100) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".bmp", ".webp"])
def test_a_healthy_image_decodes_exactly_as_cv2_imread(tmp_path, suffix):
    path = tmp_path / f"image{suffix}"
    cv2.imwrite(str(path), noise())
    expected = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    image = read_image(path)
    assert image.dtype == np.uint8 and image.shape == (80, 100, 3) and np.array_equal(image, expected)


def test_a_jpeg_with_data_after_its_end_marker_is_healthy(tmp_path):
    """As a motion photo carries its video: only the decoder can tell it from a cut file."""
    path = tmp_path / "motion.jpg"
    cv2.imwrite(str(path), noise())
    expected = read_image(path)
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x18ftypmp42 trailing video")
    assert np.array_equal(read_image(path), expected)


def test_a_truncated_jpeg_is_named_with_the_decoders_reason(tmp_path):
    path = tmp_path / "cut.jpg"
    write_truncated_jpeg(path)
    assert cv2.imread(str(path)) is not None  # what OpenCV would train on
    with pytest.raises(UnreadableImageError, match=f"{path}: damaged JPEG: image file is truncated") as error:
        read_image(path)
    assert error.value.path == str(path) and "OpenCV would fill what is missing with grey" in error.value.reason


def test_a_png_with_a_broken_chunk_is_named_with_the_crc_error(tmp_path):
    path = tmp_path / "broken.png"
    cv2.imwrite(str(path), noise())
    break_png_chunk(path)
    with pytest.raises(UnreadableImageError, match=f"{path}: broken PNG file .*checksum in b'IDAT'"):
        read_image(path)


def test_an_empty_file_is_named(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(UnreadableImageError, match=f"{path}: cannot identify image file"):
        read_image(path)
