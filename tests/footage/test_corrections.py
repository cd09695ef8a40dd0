"""Counting the corrections that turn pre-labels into final labels, on boxes worked out by hand."""

import pytest

from ssdlite.footage.corrections import Corrections, count_corrections

CAR, TRUCK = 3, 8
GT = [[0, 0, 10, 10], [100, 100, 120, 140]]


def test_pre_labels_equal_to_the_final_labels_need_nothing():
    corrections = count_corrections(GT, [CAR, TRUCK], GT, [CAR, TRUCK])
    assert corrections == Corrections(final_boxes=2) and corrections.fraction == 0


def test_no_pre_labels_means_drawing_every_box():
    corrections = count_corrections([], [], GT, [CAR, TRUCK])
    assert (corrections.added, corrections.total, corrections.fraction) == (2, 2, 1.0)


def test_a_box_half_off_is_moved_and_one_off_any_object_is_removed():
    # [5, 0, 15, 10] against [0, 0, 10, 10]: IoU 50 / 150 = 1/3, the same object but under 0.5
    # [300, 300, 310, 310] overlaps nothing: removed, and the truck is drawn anew
    corrections = count_corrections([[5, 0, 15, 10], [300, 300, 310, 310]], [CAR, TRUCK], GT, [CAR, TRUCK])
    assert (corrections.moved, corrections.removed, corrections.added, corrections.relabelled) == (1, 1, 1, 0)
    assert corrections.fraction == 3 / 2


def test_a_barely_overlapping_box_is_no_box_of_the_object():
    # [9, 9, 19, 19] against [0, 0, 10, 10]: IoU 1 / 199, below SAME_OBJECT_IOU
    corrections = count_corrections([[9, 9, 19, 19]], [CAR], GT[:1], [CAR])
    assert (corrections.removed, corrections.added, corrections.moved) == (1, 1, 0)


def test_boxes_pair_by_the_largest_total_overlap():
    # objects [0, 0, 10, 10] and [6, 0, 16, 10]; pre-label [4, 0, 14, 10] overlaps them 60/140 and
    # 80/120, pre-label [6, 0, 16, 10] 40/160 and 1. Taking each pre-label's best in turn would move
    # both; the pairing of largest total overlap moves only the first
    gt = [[0, 0, 10, 10], [6, 0, 16, 10]]
    corrections = count_corrections([[4, 0, 14, 10], [6, 0, 16, 10]], [CAR, TRUCK], gt, [CAR, TRUCK])
    assert corrections == Corrections(moved=1, fixed=1, final_boxes=2)


def test_a_well_placed_box_of_the_wrong_class_is_relabelled():
    assert count_corrections(GT, [CAR, CAR], GT, [CAR, TRUCK]) == Corrections(relabelled=1, fixed=1, final_boxes=2)


def test_a_box_moved_and_relabelled_is_one_box_to_fix():
    # [5, 0, 15, 10] against the car [0, 0, 10, 10]: IoU 1/3, and called a truck
    corrections = count_corrections([[5, 0, 15, 10]], [TRUCK], GT[:1], [CAR])
    assert (corrections.moved, corrections.relabelled, corrections.fixed, corrections.total) == (1, 1, 1, 1)


def test_frames_add_up_and_an_image_without_objects_counts_its_removals():
    empty = count_corrections([[0, 0, 5, 5]], [CAR], [], [])
    assert (empty.removed, empty.fraction) == (1, 1.0)
    total = empty + count_corrections([], [], GT, [CAR, TRUCK])
    assert total.to_dict() == pytest.approx(
        {"added": 2, "removed": 1, "moved": 0, "relabelled": 0, "fixed": 0, "final_boxes": 2, "total": 3, "fraction": 1.5}
    )
