import torch

from ssdlite.model.matcher import BACKGROUND, IGNORE, box_ioa, match_anchors

ANCHORS = torch.tensor(
    [
        [0.0, 0.0, 10.0, 10.0],
        [0.0, 0.0, 11.0, 10.0],  # IoU 10/11 with box 0
        [50.0, 50.0, 60.0, 60.0],
        [100.0, 100.0, 140.0, 140.0],
        [200.0, 200.0, 210.0, 210.0],
    ]
)


def test_threshold_and_forced_match():
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [52.0, 52.0, 80.0, 80.0]])  # box 1: best IoU 64/1048 < 0.5
    matched = match_anchors(ANCHORS, gt, torch.tensor([False, False]), 0.5, 0.5)
    assert matched.tolist() == [0, 0, 1, BACKGROUND, BACKGROUND]


def test_no_ground_truth_is_all_background():
    matched = match_anchors(ANCHORS, torch.zeros(0, 4), torch.zeros(0, dtype=torch.bool), 0.5, 0.5)
    assert matched.tolist() == [BACKGROUND] * 5


def test_crowd_never_positive_and_ignores_anchors_inside():
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [95.0, 95.0, 150.0, 150.0]])
    matched = match_anchors(ANCHORS, gt, torch.tensor([False, True]), 0.5, 0.5)
    # anchor 3 lies wholly in the crowd region: ignored, never matched to it
    assert matched.tolist() == [0, 0, BACKGROUND, IGNORE, BACKGROUND]


def test_crowd_only_image():
    gt = torch.tensor([[95.0, 95.0, 150.0, 150.0]])
    matched = match_anchors(ANCHORS, gt, torch.tensor([True]), 0.5, 0.5)
    assert matched.tolist() == [BACKGROUND, BACKGROUND, BACKGROUND, IGNORE, BACKGROUND]


def test_box_ioa():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    regions = torch.tensor([[5.0, 0.0, 20.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    assert box_ioa(boxes, regions).tolist() == [[0.5, 0.0]]
