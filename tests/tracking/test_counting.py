import numpy as np
import pytest

from ssdlite.tracking.counting import LineCounter, parse_line

SIZE = (360, 640)


def box_standing_at(x: float, y: float) -> list[float]:
    """A 40x30 box whose bottom centre is (x, y)."""
    return [x - 20, y - 30, x + 20, y]


def run(counter: LineCounter, points: list[tuple[float, float]], class_name: str = "car", track_id: int = 7) -> None:
    for x, y in points:
        counter.update(np.array([box_standing_at(x, y)]), np.array([track_id]), [class_name])


def test_crossing_twice_in_opposite_directions_counts_one_each_way():
    counter = LineCounter((320, 0, 320, 360), SIZE)
    there = [(200 + 20 * step, 250) for step in range(13)]  # x 200 -> 440 across x = 320
    run(counter, there + there[::-1])
    assert counter.counts() == {"car": {"in": 1, "out": 1}}


def test_directions_and_classes_are_counted_apart():
    counter = LineCounter((0, 180, 640, 180), SIZE)  # drawn left to right: "in" is moving up
    run(counter, [(100, 300 - 20 * step) for step in range(10)], "person", track_id=1)  # up
    run(counter, [(500, 100 + 20 * step) for step in range(10)], "bus", track_id=2)  # down
    run(counter, [(300, 300 - 20 * step) for step in range(10)], "bus", track_id=3)  # up
    assert counter.counts() == {"bus": {"in": 1, "out": 1}, "person": {"in": 1, "out": 0}}


def test_a_box_wavering_on_the_line_counts_once():
    counter = LineCounter((320, 0, 320, 360), SIZE)
    wavering = [(300, 250), (300, 250), (330, 250), (310, 250), (335, 250), (312, 250)]  # a hidden part shifts the box
    run(counter, wavering + [(340 + 10 * step, 250) for step in range(5)])
    assert counter.counts() == {"car": {"in": 1, "out": 0}}


def test_a_track_that_stays_on_one_side_is_not_counted():
    counter = LineCounter((320, 0, 320, 360), SIZE)
    run(counter, [(100 + 10 * step, 250) for step in range(15)])  # x 100 -> 240
    assert counter.counts() == {}


@pytest.mark.parametrize("text", ["0,270,640", "a,b,c,d", "1,2,1,2"])
def test_a_malformed_line_is_named(text):
    with pytest.raises(ValueError, match=f"--count-line '{text}'"):
        parse_line(text)


def test_a_line_outside_the_frame_is_refused():
    assert parse_line("0,270,640,270") == (0, 270, 640, 270)
    with pytest.raises(ValueError, match="--count-line 0,400,640,400 lies outside the 640x360 frame"):
        LineCounter((0, 400, 640, 400), SIZE)
