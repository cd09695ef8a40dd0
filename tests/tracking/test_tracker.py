import numpy as np

from ssdlite.inference.predictor import Detections
from ssdlite.tracking import Tracker

SIZE = (360, 640)


def frame_detections(boxes: list[list[float]], score: float = 0.9) -> Detections:
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    return Detections(boxes, np.full(len(boxes), score), np.full(len(boxes), 3), ["car"] * len(boxes), "clip", SIZE)


def car_at(frame: int) -> list[float]:
    """A 60x40 car driving right at 8 px a frame."""
    x = 20 + 8 * frame
    return [x, 200, x + 60, 240]


def test_an_object_keeps_its_id_through_a_three_frame_occlusion():
    tracker = Tracker(frame_rate=25)
    hidden = {12, 13, 14}  # fully occluded: no detection at all
    ids = {}
    for frame in range(30):
        tracks = tracker.update(frame_detections([] if frame in hidden else [car_at(frame)]), frame)
        if frame in hidden:
            assert len(tracks.track_ids) == 0
        elif frame >= 1:  # a track is confirmed on its second matched frame
            assert len(tracks.track_ids) == 1
            ids[frame] = int(tracks.track_ids[0])
    assert len(set(ids.values())) == 1, ids
    assert {11, 15} <= set(ids)


def test_a_second_object_gets_another_id():
    tracker = Tracker(frame_rate=25)
    for frame in range(5):
        tracks = tracker.update(frame_detections([car_at(frame), [400, 100, 450, 180]]), frame)
    assert len(set(tracks.track_ids.tolist())) == 2


def test_frames_between_detections_are_predicted_not_frozen():
    tracker = Tracker(frame_rate=25)
    every = 3
    for frame in range(13):
        if frame % every == 0:
            tracks = tracker.update(frame_detections([car_at(frame)]), frame)
            assert not tracks.predicted.any()
        else:
            tracks = tracker.predict(frame_detections([]), frame)
            if frame > every:  # once the filter has seen the motion
                assert tracks.predicted.all() and len(tracks.track_ids) == 1
                x0 = tracks.boxes[0, 0]
                assert abs(x0 - car_at(frame)[0]) < 4, (frame, x0)  # where the car is, not where it was last seen
                assert tracks.class_names == ["car"] and tracks.scores[0] > 0.8


def test_tracks_record_their_ids():
    tracker = Tracker(frame_rate=25)
    tracker.update(frame_detections([car_at(0)]), 0)
    record = tracker.update(frame_detections([car_at(1)]), 1).to_dict()
    assert record["frame"] == 1 and record["track_ids"] == [0] and record["predicted"] == [False]
    assert record["class_names"] == ["car"] and len(record["boxes"]) == 1


def test_a_track_keeps_the_class_its_detections_voted_for():
    tracker = Tracker(frame_rate=25)
    for frame in range(8):
        truck_frame = frame == 5  # one frame where the detector calls the bus a truck
        name, label, score = ("truck", 6, 0.6) if truck_frame else ("bus", 5, 0.8)
        box = np.array([car_at(frame)], np.float32)
        tracks = tracker.update(Detections(box, np.array([score]), np.array([label]), [name], "clip", SIZE), frame)
        if frame >= 1:
            assert tracks.class_names == ["bus"] and tracks.labels.tolist() == [5], frame
    assert tracks.scores[0] == np.float32(0.8)  # the score is the latest detection's


def test_one_road_user_detected_as_two_classes_is_one_track():
    tracker = Tracker(frame_rate=25)
    for frame in range(5):
        box = car_at(frame)
        boxes = np.array([box, [box[0] + 2, box[1], box[2] + 2, box[3]]], np.float32)  # the same car, twice
        both = Detections(boxes, np.array([0.9, 0.7]), np.array([3, 6]), ["car", "truck"], "clip", SIZE)
        tracks = tracker.update(both, frame)
    assert len(tracks.track_ids) == 1 and tracks.class_names == ["car"]
