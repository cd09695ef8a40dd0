import logging

import cv2
import numpy as np
import pytest
from coco_files import break_png_chunk, write_truncated_jpeg

from ssdlite.inference.inputs import load_inputs


def test_damaged_files_of_a_folder_are_skipped_with_the_reason_and_a_damaged_file_named_alone_fails(tmp_path, caplog):
    healthy = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), healthy)
    cv2.imwrite(str(tmp_path / "b.png"), healthy)
    break_png_chunk(tmp_path / "b.png")
    write_truncated_jpeg(tmp_path / "c.jpg")
    with caplog.at_level(logging.WARNING):
        loaded = list(load_inputs(tmp_path, bgr=False))
    assert [name for name, _ in loaded] == [str(tmp_path / "a.png")] and np.array_equal(loaded[0][1], healthy[:, :, ::-1])
    assert f"skipping unreadable image {tmp_path / 'b.png'}: broken PNG file" in caplog.text
    assert f"skipping unreadable image {tmp_path / 'c.jpg'}: damaged JPEG: image file is truncated" in caplog.text
    with pytest.raises(ValueError, match=f"cannot read image {tmp_path / 'c.jpg'}: damaged JPEG"):
        list(load_inputs(tmp_path / "c.jpg", bgr=False))
