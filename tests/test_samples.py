import subprocess
import sys

import cv2
import pytest
from tool_process import REPO, error_line, tool_environment

from ssdlite.assets import AssetError
from ssdlite.samples import sample_video


def test_the_market_street_clip_is_a_real_640x360_video():
    try:
        path = sample_video("market-street")
    except AssetError as error:
        pytest.skip(str(error))
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    assert ok and frame.shape == (360, 640, 3) and capture.get(cv2.CAP_PROP_FRAME_COUNT) > 1700


def test_an_unknown_sample_names_the_samples():
    with pytest.raises(AssetError, match="market-street, vtest"):
        sample_video("highway")
    command = [sys.executable, "-m", "ssdlite.samples", "highway"]
    result = subprocess.run(command, cwd=REPO, env=tool_environment(), capture_output=True, text=True)
    error_line(result, "highway", "market-street, vtest")  # what was asked for and what there is
