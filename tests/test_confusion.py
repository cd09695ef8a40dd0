import contextlib
import io
import json

import numpy as np
import torch
from pycocotools.coco import COCO

from ssdlite.confusion import confusion_matrix, confusion_to_dict, write_confusion_json
from ssdlite.evaluation import CocoEvaluator
from ssdlite.training.plots import plot_confusion_matrix

# Label 1 is car (category 3) and label 2 person (category 1): the label order is not the id order.
LABEL_TO_CATEGORY_ID = {1: 3, 2: 1}
CLASS_NAMES = ("car", "person")
CAR, PERSON, BACKGROUND = 0, 1, 2  # rows and columns of the matrix


def ground_truth() -> COCO:
    boxes = [  # (image id, category id, xywh, iscrowd)
        (1, 1, [0, 0, 10, 10], 0),  # a person, found
        (1, 3, [50, 50, 20, 20], 0),  # a car, called a person
        (1, 3, [100, 100, 10, 10], 0),  # a car, found only below the score threshold
        (2, 1, [5, 5, 10, 10], 0),  # a person on an image with no detections
        (2, 3, [0, 0, 50, 50], 1),  # a crowd region: not counted
        (3, 3, [0, 100, 10, 10], 0),  # a car, its detection at IoU 1/3
    ]
    coco = COCO()
    coco.dataset = {
        "images": [{"id": i, "width": 300, "height": 300, "file_name": f"{i}.jpg"} for i in (1, 2, 3)],
        "annotations": [
            {"id": n + 1, "image_id": i, "category_id": c, "bbox": b, "area": b[2] * b[3], "iscrowd": crowd}
            for n, (i, c, b, crowd) in enumerate(boxes)
        ],
        "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def detections(rows: list[tuple[list[float], float, int]]) -> dict[str, torch.Tensor]:
    """(xyxy box, score, label) rows as one image's detections."""
    return {
        "boxes": torch.tensor([box for box, _, _ in rows], dtype=torch.float32).reshape(-1, 4),
        "scores": torch.tensor([score for _, score, _ in rows]),
        "labels": torch.tensor([label for _, _, label in rows], dtype=torch.int64),
    }


def evaluated() -> tuple[CocoEvaluator, object]:
    evaluator = CocoEvaluator(ground_truth(), LABEL_TO_CATEGORY_ID, CLASS_NAMES)
    image_1 = [
        ([0, 0, 10, 10], 0.9, 2),  # person as person
        ([50, 50, 70, 70], 0.8, 2),  # car as person
        ([100, 100, 110, 110], 0.1, 1),  # below the threshold: left out
        ([200, 200, 210, 210], 0.95, 1),  # a car where there is nothing
    ]
    image_3 = [
        ([5, 100, 15, 110], 0.9, 1),  # IoU 1/3 with the car: a miss and a false car
        ([0, 0, 5, 5], 0.5, 2),  # a person where there is nothing
    ]
    evaluator.update([detections(image_1), detections([]), detections(image_3)], [1, 2, 3])
    return evaluator, evaluator.compute()


def test_known_detections_give_the_expected_cells():
    evaluator, evaluation = evaluated()
    matrix = confusion_matrix(evaluator, evaluation, score_threshold=0.3, iou_threshold=0.5).matrix
    expected = np.zeros((3, 3), dtype=int)
    expected[PERSON, PERSON] = 1
    expected[CAR, PERSON] = 1
    expected[CAR, BACKGROUND] = 2  # the car found only at 0.1, the car detected at IoU 1/3
    expected[PERSON, BACKGROUND] = 1  # image 2's person
    expected[BACKGROUND, CAR] = 2  # the car where there is nothing, the one at IoU 1/3
    expected[BACKGROUND, PERSON] = 1
    np.testing.assert_array_equal(matrix, expected)


def test_a_lower_threshold_counts_the_weak_detection():
    evaluator, evaluation = evaluated()
    matrix = confusion_matrix(evaluator, evaluation, score_threshold=0.05).matrix
    assert matrix[CAR, CAR] == 1 and matrix[CAR, BACKGROUND] == 1


def test_the_numbers_are_written_as_json_and_plotted(tmp_path):
    confusion = confusion_matrix(*evaluated(), score_threshold=0.3)
    write_confusion_json(confusion, tmp_path / "confusion_matrix.json")
    table = json.loads((tmp_path / "confusion_matrix.json").read_text())
    assert table == confusion_to_dict(confusion)
    assert table["classes"] == ["car", "person", "background"] and table["score_threshold"] == 0.3
    assert table["matrix"] == confusion.matrix.tolist()
    assert [p.name for p in tmp_path.iterdir()] == ["confusion_matrix.json"]  # no temporary file left
    plot_confusion_matrix(table, tmp_path / "plots/confusion_matrix.png")
    assert (tmp_path / "plots/confusion_matrix.png").read_bytes().startswith(b"\x89PNG")
