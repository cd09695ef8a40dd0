import pytest

from ssdlite.tracking.evaluate import CATEGORY_NAMES
from ssdlite.tracking.mot import read_ground_truth


def test_rows_become_frames_of_xyxy_boxes(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,4,10,20,30,40,1,3,1.0\n1,5,0,0,5,5,0,1,1.0\n3,4,12,20,30,40,1,3,0.5\n")
    frames = read_ground_truth(path, CATEGORY_NAMES, 3)
    assert [frame.ids.tolist() for frame in frames] == [[4], [], [4]]  # the flag-0 row is not scored
    assert frames[0].boxes.tolist() == [[10, 20, 40, 60]] and frames[2].class_names.tolist() == ["car"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,4,10,20\n", "not a MOT ground-truth file"),
        ("1,4,10,20,x,40,1,3,1\n", "not a MOT ground-truth file"),
        ("", "not a MOT ground-truth file"),
        ("1,4,10,20,0,40,1,3,1\n", "frame 1 has a box with no area"),
        ("1,4,10,20,30,40,1,5,1\n", "frame 1 has class 5, not one of"),
        ("9,4,10,20,30,40,1,3,1\n", "frame 9 is outside the video's frames 1..3"),
    ],
)
def test_a_malformed_file_is_named(tmp_path, text, message):
    path = tmp_path / "gt.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_ground_truth(path, CATEGORY_NAMES, 3)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path / 'gt.txt'}: not a MOT"):
        read_ground_truth(tmp_path / "gt.txt", CATEGORY_NAMES, 3)
