"""What the built-in driving scenes are drawn with (OpenCV, BGR): sky, buildings and a
road with lanes, and the six driving classes in side view (COCO ids and names).

How large a road user is where it stands: `ssdlite.data.synthetic_scene`; where each stands:
`ssdlite.data.synthetic` (still scenes) and `ssdlite.data.synthetic_video` (the clip).
"""

from dataclasses import dataclass

import cv2
import numpy as np

CATEGORIES = (
    {"id": 1, "name": "person", "supercategory": "person"},
    {"id": 2, "name": "bicycle", "supercategory": "vehicle"},
    {"id": 3, "name": "car", "supercategory": "vehicle"},
    {"id": 4, "name": "motorcycle", "supercategory": "vehicle"},
    {"id": 6, "name": "bus", "supercategory": "vehicle"},
    {"id": 8, "name": "truck", "supercategory": "vehicle"},
)
# Height as a fraction of the image height for an object at the bottom edge, and width / height.
SHAPES = {1: (0.50, 0.38), 2: (0.30, 1.6), 3: (0.32, 1.9), 4: (0.34, 1.7), 6: (0.62, 2.4), 8: (0.58, 2.1)}
ROAD_BOTTOM = (-0.15, 1.15)  # road edges on the bottom row, as fractions of the width


@dataclass
class SceneObject:
    """A road user of a scene, before it is drawn."""

    category_id: int
    x: float  # horizontal centre, pixels
    ground_y: float  # where it touches the road, pixels
    colour: tuple[int, int, int]
    facing_left: bool


def random_colour(rng: np.random.Generator, low: int = 30, high: int = 230) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(low, high, 3))


def draw_background(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, int, int]:
    """Sky, buildings, road with lane markings. Returns (BGR image, horizon row, vanishing point column)."""
    horizon = int(height * rng.uniform(0.35, 0.5))
    image = np.empty((height, width, 3), np.uint8)
    sky_top, sky_bottom = np.array(random_colour(rng, 150, 255)), np.array(random_colour(rng, 120, 230))
    ramp = np.linspace(0, 1, horizon)[:, None, None]
    image[:horizon] = (sky_top * (1 - ramp) + sky_bottom * ramp).astype(np.uint8)
    image[horizon:] = random_colour(rng, 60, 140)  # verges
    for _ in range(rng.integers(4, 10)):  # buildings
        w, h = int(rng.uniform(0.06, 0.2) * width), int(rng.uniform(0.1, 0.35) * height)
        x = int(rng.uniform(-0.05, 0.95) * width)
        colour = random_colour(rng, 60, 200)
        cv2.rectangle(image, (x, horizon - h), (x + w, horizon), colour, -1)
        window = tuple(max(0, c - 60) for c in colour)
        for wy in range(horizon - h + 6, horizon - 8, 14):
            for wx in range(x + 5, x + w - 8, 12):
                cv2.rectangle(image, (wx, wy), (wx + 5, wy + 7), window, -1)
    vanish_x = int(width * rng.uniform(0.4, 0.6))
    left, right = ROAD_BOTTOM
    road = np.array([[vanish_x - 4, horizon], [vanish_x + 4, horizon], [int(width * right), height], [int(width * left), height]])
    cv2.fillPoly(image, [road], random_colour(rng, 70, 120))
    for lane in (-0.45, 0.0, 0.45):  # dashed lines converging on the vanishing point
        bottom_x = vanish_x + lane * width * 1.3
        for t0 in np.arange(0.05, 1.0, 0.12):
            t1 = t0 + 0.06
            p0 = (int(vanish_x + (bottom_x - vanish_x) * t0), int(horizon + (height - horizon) * t0))
            p1 = (int(vanish_x + (bottom_x - vanish_x) * t1), int(horizon + (height - horizon) * t1))
            cv2.line(image, p0, p1, (235, 235, 235), max(1, int(4 * t1)))
    return image, horizon, vanish_x


def draw_object(obj: SceneObject, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """A (h, w) BGR patch and its mask for one object, side view."""
    patch = np.zeros((h, w, 3), np.uint8)
    mask = np.zeros((h, w), np.uint8)
    for canvas, fill in ((patch, None), (mask, 255)):
        _DRAW[obj.category_id](canvas, h, w, obj.colour if fill is None else (fill,) * 3, fill is not None)
    if obj.facing_left:
        patch, mask = patch[:, ::-1].copy(), mask[:, ::-1].copy()
    return patch, mask


def _wheels(img, h, w, radius, xs, colour, solid):
    for x in xs:
        cv2.circle(img, (int(x), h - radius - 1), radius, colour if solid else (20, 20, 20), -1)
        if not solid:
            cv2.circle(img, (int(x), h - radius - 1), max(1, radius // 2), (150, 150, 150), -1)


def _person(img, h, w, colour, solid):
    skin = colour if solid else (140, 170, 210)
    head = max(2, h // 9)
    cv2.circle(img, (w // 2, head + 1), head, skin, -1)
    cv2.rectangle(img, (w // 5, 2 * head + 1), (4 * w // 5, int(h * 0.58)), colour, -1)
    legs = colour if solid else tuple(c // 2 for c in colour)
    cv2.rectangle(img, (w // 4, int(h * 0.58)), (w // 2 - 1, h - 1), legs, -1)
    cv2.rectangle(img, (w // 2 + 1, int(h * 0.58)), (3 * w // 4, h - 1), legs, -1)


def _bicycle(img, h, w, colour, solid):
    radius = int(min(h * 0.36, w * 0.22))
    thickness = max(1, radius // 4)
    for x in (radius + 1, w - radius - 2):
        cv2.circle(img, (x, h - radius - 1), radius, colour if solid else (25, 25, 25), thickness)
    seat, bar = (int(w * 0.42), int(h * 0.3)), (int(w * 0.72), int(h * 0.18))
    for p, q in (
        ((radius + 1, h - radius - 1), seat),
        (seat, (int(w * 0.55), h - radius - 1)),
        ((int(w * 0.55), h - radius - 1), bar),
        (bar, (w - radius - 2, h - radius - 1)),
        (seat, bar),
    ):
        cv2.line(img, p, q, colour, thickness)
    cv2.line(img, (int(w * 0.36), 1 + h // 20), (int(w * 0.5), 1 + h // 20), colour, thickness)


def _motorcycle(img, h, w, colour, solid):
    radius = int(min(h * 0.3, w * 0.2))
    _wheels(img, h, w, radius, (radius + 1, w - radius - 2), colour, solid)
    body = np.array(
        [
            [int(w * 0.25), int(h * 0.62)],
            [int(w * 0.35), int(h * 0.3)],
            [int(w * 0.7), int(h * 0.25)],
            [int(w * 0.82), int(h * 0.55)],
            [int(w * 0.6), int(h * 0.72)],
        ]
    )
    cv2.fillPoly(img, [body], colour)
    cv2.rectangle(img, (int(w * 0.3), int(h * 0.18)), (int(w * 0.55), int(h * 0.3)), colour if solid else (30, 30, 30), -1)
    cv2.line(img, (int(w * 0.78), 1), (int(w * 0.78), int(h * 0.3)), colour if solid else (40, 40, 40), max(1, h // 16))


def _car(img, h, w, colour, solid):
    radius = max(2, int(h * 0.2))
    cv2.rectangle(img, (0, int(h * 0.42)), (w - 1, h - radius), colour, -1)
    cabin = np.array([[int(w * 0.2), int(h * 0.44)], [int(w * 0.32), 0], [int(w * 0.72), 0], [int(w * 0.86), int(h * 0.44)]])
    cv2.fillPoly(img, [cabin], colour)
    if not solid:
        glass = np.array(
            [
                [int(w * 0.27), int(h * 0.4)],
                [int(w * 0.36), int(h * 0.08)],
                [int(w * 0.68), int(h * 0.08)],
                [int(w * 0.79), int(h * 0.4)],
            ]
        )
        cv2.fillPoly(img, [glass], (90, 60, 40))
        cv2.rectangle(img, (w - 4, int(h * 0.48)), (w - 1, int(h * 0.6)), (30, 30, 220), -1)
    _wheels(img, h, w, radius, (w * 0.2, w * 0.8), colour, solid)


def _bus(img, h, w, colour, solid):
    radius = max(2, int(h * 0.12))
    cv2.rectangle(img, (0, 0), (w - 1, h - radius), colour, -1)
    if not solid:
        for x in range(int(w * 0.04), int(w * 0.92), max(4, w // 9)):
            cv2.rectangle(img, (x, int(h * 0.12)), (x + max(2, w // 12), int(h * 0.45)), (100, 70, 50), -1)
        cv2.rectangle(img, (int(w * 0.9), int(h * 0.12)), (w - 3, int(h * 0.8)), (60, 50, 40), -1)
    _wheels(img, h, w, radius, (w * 0.15, w * 0.82), colour, solid)


def _truck(img, h, w, colour, solid):
    radius = max(2, int(h * 0.13))
    cargo = colour if solid else (205, 205, 205)
    cv2.rectangle(img, (0, 0), (int(w * 0.7), h - 2 * radius), cargo, -1)
    cv2.rectangle(img, (int(w * 0.72), int(h * 0.3)), (w - 1, h - radius), colour, -1)
    if not solid:
        cv2.rectangle(img, (int(w * 0.8), int(h * 0.36)), (w - 4, int(h * 0.55)), (90, 60, 40), -1)
    _wheels(img, h, w, radius, (w * 0.12, w * 0.55, w * 0.86), colour, solid)


_DRAW = {1: _person, 2: _bicycle, 3: _car, 4: _motorcycle, 6: _bus, 8: _truck}
