import pytest

from ssdlite.tracking.mot import CATEGORY_NAMES, read_ground_truth


def test_rows_become_frames_of_xyxy_boxes(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,4,10,20,30,40,1,3,1.0\n1,5,0,0,5,5,0,1,1.0\n3,4,12,20,30,40,1,3,0.5\n")
    frames = read_ground_truth(path, CATEGORY_NAMES, 3)
    assert [frame.ids.tolist() for frame in frames] == [[4], [], [4]]  # the flag-0 row is not scored
    assert frames[0].boxes.tolist() == [[10, 20, 40, 60]] and frames[2].class_names.tolist() == ["car"]


def test_the_class_column_is_any_coco_category_id(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,4,10,20,30,40,1,10,1.0\n1,5,50,20,30,40,1,7,1.0\n")  # not classes the built-in data draws
    assert read_ground_truth(path, CATEGORY_NAMES, 1)[0].class_names.tolist() == ["traffic light", "train"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,4,10,20\n", "not a MOT ground-truth file"),
        ("1,4,10,20,x,40,1,3,1\n", "not a MOT ground-truth file"),
        ("", "not a MOT ground-truth file"),
        ("1,4,10,20,0,40,1,3,1\n", "frame 1 has a box with no area"),
        ("1,4,10,20,30,40,1,12,1\n", "frame 1 has class 12"),  # a gap in COCO's ids
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
