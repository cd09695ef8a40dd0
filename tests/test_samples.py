import subprocess
import sys

import cv2
import pytest

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
    result = subprocess.run([sys.executable, "-m", "ssdlite.samples", "highway"], capture_output=True, text=True)
    assert (
        result.returncode == 1
        and result.stderr.strip() == "error: no sample video 'highway'; the samples are market-street, vtest"
    )
