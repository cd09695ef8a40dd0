"""Counting tracked objects that cross a line, per class and direction (supervision's `LineZone`)."""

import numpy as np
import supervision as sv

from ssdlite.errors import InputError

DIRECTIONS = ("in", "out")


def parse_line(text: str) -> tuple[float, float, float, float]:
    """'x1,y1,x2,y2' (pixels) -> (x1, y1, x2, y2); InputError naming --count-line otherwise."""
    try:
        values = tuple(float(value) for value in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise InputError(f"--count-line {text!r}: expected x1,y1,x2,y2 in pixels, e.g. 0,270,640,270")
    if values[:2] == values[2:]:
        raise InputError(f"--count-line {text!r}: the two ends are the same point")
    return values


class LineCounter:
    """Counts the tracks whose box bottom centre (where an object stands) crosses a line.

    A track counts once each time it moves to the other side and stays there for
    `minimum_frames` frames in a row, and only while it is beside the segment (between
    the perpendiculars through its ends). The wait keeps a box that wavers on the line
    (a bus half hidden by a passing car) from counting each time it shifts.
    Directions, looking from the line's first point to its second: "in" is a crossing
    from the right-hand side to the left-hand side, "out" the reverse. For a line
    drawn left to right across the image, "in" is moving up the image.

    Args:
        line: (x1, y1, x2, y2) pixels of the frame.
        image_size: (height, width) of the frames; the line must lie inside them.
        minimum_frames: frames on the new side before a crossing counts (supervision's
            `minimum_crossing_threshold`).
    """

    def __init__(self, line: tuple[float, float, float, float], image_size: tuple[int, int], minimum_frames: int = 3):
        height, width = image_size
        x1, y1, x2, y2 = line
        if not all(0 <= x <= width for x in (x1, x2)) or not all(0 <= y <= height for y in (y1, y2)):
            raise InputError(f"--count-line {','.join(f'{v:g}' for v in line)} lies outside the {width}x{height} frame")
        self.line = line
        self.zone = sv.LineZone(
            start=sv.Point(x1, y1),
            end=sv.Point(x2, y2),
            triggering_anchors=(sv.Position.BOTTOM_CENTER,),
            minimum_crossing_threshold=minimum_frames,
        )
        self.class_names: list[str] = []  # class id given to the zone -> name

    def update(self, boxes: np.ndarray, track_ids: np.ndarray, class_names: list[str]) -> None:
        """One frame's tracked objects: boxes (K, 4) xyxy pixels, track ids (K,), class names (K,)."""
        for name in class_names:
            if name not in self.class_names:
                self.class_names.append(name)
        class_ids = np.array([self.class_names.index(name) for name in class_names], int)
        self.zone.trigger(
            sv.Detections(
                xyxy=np.asarray(boxes, np.float32).reshape(-1, 4), class_id=class_ids, tracker_id=np.asarray(track_ids, int)
            )
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """{class name: {"in": n, "out": m}} for the classes that crossed, by name."""
        per_direction = dict(zip(DIRECTIONS, (self.zone.in_count_per_class, self.zone.out_count_per_class)))
        crossed = sorted({self.class_names[class_id] for counts in per_direction.values() for class_id in counts})
        return {
            name: {direction: counts.get(self.class_names.index(name), 0) for direction, counts in per_direction.items()}
            for name in crossed
        }
