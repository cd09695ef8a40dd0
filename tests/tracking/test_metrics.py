import numpy as np
import pytest

from ssdlite.data.synthetic import write_clip
from ssdlite.tracking.metrics import FrameObjects, tracking_metrics
from ssdlite.tracking.mot import CATEGORY_NAMES, read_ground_truth


def two_cars(num_frames: int, ids_after_swap: tuple[int, int] | None = None, classes=("car", "car")) -> list[FrameObjects]:
    """Two cars driving apart; from the middle frame on, optionally with other ids."""
    frames = []
    for frame in range(num_frames):
        ids = (1, 2) if ids_after_swap is None or frame < num_frames // 2 else ids_after_swap
        boxes = np.array([[100 - 5 * frame, 50, 160 - 5 * frame, 90], [300 + 5 * frame, 50, 360 + 5 * frame, 90]], float)
        frames.append(FrameObjects(np.array(ids), boxes, np.array(classes, dtype=object)))
    return frames


@pytest.fixture(scope="module")
def clip_ground_truth(tmp_path_factory):
    clip = write_clip(
        tmp_path_factory.mktemp("clip") / "clip.mp4", seed=2, image_size=(180, 320), scene="close", num_frames=60, fps=25
    )
    return read_ground_truth(clip.with_name("gt.txt"), CATEGORY_NAMES, 60)


def test_ground_truth_scored_against_itself_is_perfect(clip_ground_truth):
    assert sum(len(frame.ids) for frame in clip_ground_truth) > 60
    metrics = tracking_metrics(clip_ground_truth, clip_ground_truth)
    assert metrics["IDF1"] == metrics["MOTA"] == metrics["HOTA"] == 1
    assert metrics["IDSW"] == metrics["CLR_FP"] == metrics["CLR_FN"] == 0


def test_swapped_ids_are_two_id_switches():
    metrics = tracking_metrics(two_cars(20), two_cars(20, ids_after_swap=(2, 1)))
    assert metrics["IDSW"] == 2 and metrics["CLR_FN"] == metrics["CLR_FP"] == 0
    assert metrics["MOTA"] == pytest.approx(1 - 2 / 40) and metrics["IDF1"] == pytest.approx(0.5)


def test_a_wrong_class_is_a_miss_unless_classes_are_ignored():
    wrong = two_cars(10, classes=("car", "truck"))
    assert tracking_metrics(two_cars(10), wrong)["CLR_FN"] == 10
    assert tracking_metrics(two_cars(10), wrong, class_aware=False)["MOTA"] == 1
