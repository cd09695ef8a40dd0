"""A moving road scene with tracking ground truth: the built-in clip.

A fixed road-side camera looks along the road drawn by `synthetic_drawing`. Road
users keep their identity from frame to frame and move in world coordinates,
seen in perspective: across the road at a fixed distance (cross traffic and
people crossing, entering and leaving at the sides), or along it (approaching
until they pass the camera, or driving away into the distance). Nearer ones hide
farther ones; boxes are what still shows, as in the still images. Ground truth
is MOT-format rows (`write_mot`). Deterministic for a seed.

The "close" still images are moments of the same road (`road_snapshot`), so the
demo's detector trains on the scenes its clip shows.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssdlite.config import Scene
from ssdlite.data.synthetic_drawing import CATEGORIES, ROAD_BOTTOM, SceneObject, draw_background, random_colour
from ssdlite.data.synthetic_scene import FOOTAGE_MIX, NEAR_M, check_scene, object_size, render_objects

ROAD_WIDTH_M = 14.0  # the road's width, so that bottom-row pixels convert to metres
# Scale (NEAR_M / distance) where road users appear far away: where the still scenes put
# their farthest ones. At scale 1 a road user stands on the bottom row, the nearest the
# still scenes show: one coming nearer passes the camera and is out of view.
FAR_SCALE = {"footage": NEAR_M / 50.0, "close": 0.3}
PASSED_SCALE = 1.0
# Scale range of the distances at which road users cross the road. "close": medium and large,
# short of the nearest, where a bus would fill the frame.
CROSSING_SCALE = {"footage": (0.25, 0.9), "close": (0.3, 0.75)}
ARRIVALS_PER_SECOND = {"footage": 2.5, "close": 1.2}
WARM_UP_S = 6.0  # simulated before the first frame, so the clip starts with a populated road
SNAPSHOT_FPS = 5.0  # time step of the simulation behind a still image (only its last state is drawn)
SPEED_M_S = {1: (1.0, 1.8), 2: (3.0, 6.0), 3: (5.0, 10.0), 4: (5.0, 10.0), 6: (4.0, 7.0), 8: (4.0, 8.0)}
ALONG_ROAD = 0.4  # share of road users moving along the road (the rest cross it)


@dataclass
class RoadUser:
    """One road user in world coordinates (the camera fixed, looking along the road)."""

    track_id: int  # 1, 2, ... in order of arrival
    category_id: int
    colour: tuple[int, int, int]
    facing_left: bool
    offset: float  # lateral position: pixels on the bottom row, from the vanishing point
    distance: float  # metres from the camera along the road
    lateral_speed: float  # bottom-row pixels per second, + to the right
    approach_speed: float  # metres per second towards the camera (negative: away)


def moving_scene(
    seed: int,
    *,
    image_size: tuple[int, int],
    scene: Scene,
    num_frames: int,
    fps: float,
    stop: tuple[float, float] | None = None,
) -> Iterator[tuple[np.ndarray, list[tuple[int, int, list[float], float]]]]:
    """The frames of the built-in clip, each with its ground truth.

    Args:
        stop: (start, duration) in seconds during which the road stands still, as a dash-cam
            sees it at a red light: the same picture frame after frame.

    Yields:
        (BGR image (H, W, 3) uint8, [(track_id, category_id, [x, y, w, h], visibility)]) per frame:
        boxes COCO xywh pixels of what still shows, visibility the share of the object not hidden by
        nearer ones. A road user stops being annotated while less than MIN_VISIBLE of it shows.
    """
    check_scene(scene)
    rng = np.random.default_rng([seed, 10**6])
    height, width = image_size
    background, horizon, vanish_x = draw_background(rng, height, width)
    world = _road_users(rng, horizon, vanish_x, height, width, scene, fps)
    for _ in range(int(WARM_UP_S * fps)):
        users = next(world)
    for index in range(num_frames):
        if stop is None or not stop[0] <= index / fps < stop[0] + stop[1]:
            users = next(world)
        placed = _placed_far_to_near(users, horizon, vanish_x, height)
        image, visible = render_objects(background, horizon, [obj for obj, _ in placed], scene)
        yield image, [(placed[index][1], placed[index][0].category_id, box, share) for index, box, share in visible]


def road_snapshot(
    rng: np.random.Generator, horizon: int, vanish_x: int, height: int, width: int, scene: Scene
) -> list[SceneObject]:
    """The road users of a still "close" image (`synthetic.sample_objects`): the clip's road after a random time, far to near."""
    world = _road_users(rng, horizon, vanish_x, height, width, scene, SNAPSHOT_FPS)
    for _ in range(int(rng.uniform(1, 3) * WARM_UP_S * SNAPSHOT_FPS)):
        users = next(world)
    return [obj for obj, _ in _placed_far_to_near(users, horizon, vanish_x, height)]


def _road_users(
    rng: np.random.Generator, horizon: int, vanish_x: int, height: int, width: int, scene: Scene, fps: float
) -> Iterator[list[RoadUser]]:
    """The road users in view, one time step of 1 / fps after another, from an empty road."""
    px_per_m = (ROAD_BOTTOM[1] - ROAD_BOTTOM[0]) * width / ROAD_WIDTH_M
    users: list[RoadUser] = []
    num_arrivals = 0
    while True:
        if rng.random() < ARRIVALS_PER_SECOND[scene] / fps:
            num_arrivals += 1
            users.append(_arrival(rng, num_arrivals, vanish_x, width, px_per_m, scene))
        for user in users:
            user.offset += user.lateral_speed / fps
            user.distance -= user.approach_speed / fps
        users = [user for user in users if _in_view(user, vanish_x, width, horizon, height, scene)]
        yield users


def _placed_far_to_near(users: list[RoadUser], horizon: int, vanish_x: int, height: int) -> list[tuple[SceneObject, int]]:
    """(object to draw, track id) of each road user, farthest first."""
    placed = sorted((_placed(user, horizon, vanish_x, height) + (user.track_id,) for user in users), key=lambda p: p[0])
    return [(obj, track_id) for _, obj, track_id in placed]


def write_mot(path: Path, frames: list[list[tuple[int, int, list[float], float]]]) -> Path:
    """MOT-format ground truth, one row per object and frame (MOT17's gt.txt columns):
    `frame, id, x, y, w, h, 1, class, visibility`, frames from 1, boxes xywh pixels, class the COCO
    category id, 1 meaning "scored".
    """
    with open(path, "w") as rows:
        for frame, objects in enumerate(frames, start=1):
            for track_id, category_id, (x, y, w, h), visibility in objects:
                rows.write(f"{frame},{track_id},{x:g},{y:g},{w:g},{h:g},1,{category_id},{visibility:.2f}\n")
    return path


def _placed(user: RoadUser, horizon: int, vanish_x: int, height: int) -> tuple[float, SceneObject]:
    """(ground line, the object to draw): a road user seen in perspective."""
    scale = NEAR_M / user.distance
    ground_y = horizon + scale * (height - horizon)
    return ground_y, SceneObject(user.category_id, vanish_x + scale * user.offset, ground_y, user.colour, user.facing_left)


def _in_view(user: RoadUser, vanish_x: int, width: int, horizon: int, height: int, scene: Scene) -> bool:
    """Still coming or still there: not gone into the distance, past the camera, or out at a side it moves away from."""
    scale = NEAR_M / user.distance
    if scale < FAR_SCALE[scene] or scale > PASSED_SCALE:
        return False
    _, obj = _placed(user, horizon, vanish_x, height)
    half_width = object_size(obj, horizon, height, scene)[1] / 2
    if obj.x + half_width < 0:
        return user.lateral_speed > 0
    if obj.x - half_width > width:
        return user.lateral_speed < 0
    return True


def _arrival(rng: np.random.Generator, track_id: int, vanish_x: int, width: int, px_per_m: float, scene: Scene) -> RoadUser:
    """A road user entering the view: from a side at some distance, or along the road from afar or from behind the camera."""
    if scene == "footage":
        category_id = int(rng.choice(list(FOOTAGE_MIX), p=list(FOOTAGE_MIX.values())))
    else:
        category_id = int(rng.choice([c["id"] for c in CATEGORIES]))
    speed = rng.uniform(*SPEED_M_S[category_id])
    user = RoadUser(track_id, category_id, random_colour(rng), bool(rng.random() < 0.5), 0.0, NEAR_M, 0.0, 0.0)
    left, right = (edge * width - vanish_x for edge in ROAD_BOTTOM)
    if rng.random() < ALONG_ROAD:
        # people on the pavements, vehicles in a lane; approaching from afar or leaving from beside the camera
        pavement = rng.uniform(0.02, 0.25) * width
        user.offset = (
            rng.choice([left - pavement, right + pavement]) if category_id == 1 else rng.uniform(0.8 * left, 0.8 * right)
        )
        approaching = rng.random() < 0.5
        user.approach_speed = speed if approaching else -speed
        user.distance = NEAR_M / (FAR_SCALE[scene] if approaching else PASSED_SCALE) * (1 - 1e-3 if approaching else 1 + 1e-3)
        user.facing_left = bool(user.offset < 0)
    else:
        # crossing at a distance where the still scenes place road users, from just beyond a side
        user.distance = NEAR_M / rng.uniform(*CROSSING_SCALE[scene])
        scale = NEAR_M / user.distance
        from_left = rng.random() < 0.5
        user.offset = ((-vanish_x if from_left else width - vanish_x) / scale) + (-1 if from_left else 1) * width / scale * 0.6
        user.lateral_speed = (1 if from_left else -1) * speed * px_per_m
        user.facing_left = not from_left
    return user
