"""The built-in driving dataset: dash-cam-like scenes drawn with OpenCV.

Road with lanes and horizon, buildings, and the six driving classes (COCO
ids and names) in perspective, drawn far to near so nearer objects occlude
farther ones, under varied colour, light, blur and noise. Written as COCO
JSON + JPEGs, plus a short clip of a moving scene. Deterministic for a seed.

Two scenes:
- "footage": sizes as in dash-cam video. Each road user's distance is uniform
  between NEAR_M and FAR_M, and its ground line and size scale as 1 / distance,
  so most boxes are COCO-small (about half at 640x360), a third medium and a
  few large. 3-14 road users; pedestrians mostly on the pavements, some parked
  vehicles at the kerbs. Objects are drawn down to 2 px but annotated from 5 px.
- "close": the earlier look: 2-8 objects placed evenly below the horizon,
  nearly all medium or large.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path

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
SCENES = ("footage", "close")
MIN_SIDE = {"footage": 2, "close": 12}  # px: no object drawn smaller than this
# px: visible boxes with a shorter side are not annotated. People are drawn about a
# quarter as wide as tall, so 5 px keeps those from about 19 px tall.
MIN_BOX_SIDE = {"footage": 5, "close": 4}
MIN_VISIBLE = 0.25  # objects more occluded than this are drawn but not annotated
ROAD_BOTTOM = (-0.15, 1.15)  # road edges on the bottom row, as fractions of the width
# "footage": the road distance seen on the bottom row and the farthest road user, metres.
NEAR_M, FAR_M = 5.0, 50.0
FOOTAGE_MIX = {1: 0.3, 2: 0.1, 3: 0.3, 4: 0.1, 6: 0.08, 8: 0.12}  # category id: share of road users
AT_SIDE = {1: 0.8, 2: 0.3, 3: 0.3, 4: 0.2, 6: 0.1, 8: 0.2}  # share on the pavement (people) or parked (vehicles)


@dataclass
class SceneObject:
    category_id: int
    x: float  # horizontal centre, pixels
    ground_y: float  # where it touches the road, pixels
    colour: tuple[int, int, int]
    facing_left: bool


def _rand_colour(rng: np.random.Generator, low: int = 30, high: int = 230) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(low, high, 3))


def draw_background(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, int, int]:
    """Sky, buildings, road with lane markings. Returns (BGR image, horizon row, vanishing point column)."""
    horizon = int(height * rng.uniform(0.35, 0.5))
    image = np.empty((height, width, 3), np.uint8)
    sky_top, sky_bottom = np.array(_rand_colour(rng, 150, 255)), np.array(_rand_colour(rng, 120, 230))
    ramp = np.linspace(0, 1, horizon)[:, None, None]
    image[:horizon] = (sky_top * (1 - ramp) + sky_bottom * ramp).astype(np.uint8)
    image[horizon:] = _rand_colour(rng, 60, 140)  # verges
    for _ in range(rng.integers(4, 10)):  # buildings
        w, h = int(rng.uniform(0.06, 0.2) * width), int(rng.uniform(0.1, 0.35) * height)
        x = int(rng.uniform(-0.05, 0.95) * width)
        colour = _rand_colour(rng, 60, 200)
        cv2.rectangle(image, (x, horizon - h), (x + w, horizon), colour, -1)
        window = tuple(max(0, c - 60) for c in colour)
        for wy in range(horizon - h + 6, horizon - 8, 14):
            for wx in range(x + 5, x + w - 8, 12):
                cv2.rectangle(image, (wx, wy), (wx + 5, wy + 7), window, -1)
    vanish_x = int(width * rng.uniform(0.4, 0.6))
    left, right = ROAD_BOTTOM
    road = np.array([[vanish_x - 4, horizon], [vanish_x + 4, horizon], [int(width * right), height], [int(width * left), height]])
    cv2.fillPoly(image, [road], _rand_colour(rng, 70, 120))
    for lane in (-0.45, 0.0, 0.45):  # dashed lines converging on the vanishing point
        bottom_x = vanish_x + lane * width * 1.3
        for t0 in np.arange(0.05, 1.0, 0.12):
            t1 = t0 + 0.06
            p0 = (int(vanish_x + (bottom_x - vanish_x) * t0), int(horizon + (height - horizon) * t0))
            p1 = (int(vanish_x + (bottom_x - vanish_x) * t1), int(horizon + (height - horizon) * t1))
            cv2.line(image, p0, p1, (235, 235, 235), max(1, int(4 * t1)))
    return image, horizon, vanish_x


def object_size(obj: SceneObject, horizon: int, height: int, scene: str) -> tuple[int, int]:
    """(height, width) in pixels: linear in the distance below the horizon (so 1 / distance on the road)."""
    relative_height, aspect = SHAPES[obj.category_id]
    depth = (obj.ground_y - horizon) / (height - horizon)
    h = max(MIN_SIDE[scene], int(relative_height * height * depth))
    return h, max(MIN_SIDE[scene], int(h * aspect))


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
    for p, q in (((radius + 1, h - radius - 1), seat), (seat, (int(w * 0.55), h - radius - 1)), ((int(w * 0.55), h - radius - 1), bar), (bar, (w - radius - 2, h - radius - 1)), (seat, bar)):
        cv2.line(img, p, q, colour, thickness)
    cv2.line(img, (int(w * 0.36), 1 + h // 20), (int(w * 0.5), 1 + h // 20), colour, thickness)


def _motorcycle(img, h, w, colour, solid):
    radius = int(min(h * 0.3, w * 0.2))
    _wheels(img, h, w, radius, (radius + 1, w - radius - 2), colour, solid)
    body = np.array([[int(w * 0.25), int(h * 0.62)], [int(w * 0.35), int(h * 0.3)], [int(w * 0.7), int(h * 0.25)], [int(w * 0.82), int(h * 0.55)], [int(w * 0.6), int(h * 0.72)]])
    cv2.fillPoly(img, [body], colour)
    cv2.rectangle(img, (int(w * 0.3), int(h * 0.18)), (int(w * 0.55), int(h * 0.3)), colour if solid else (30, 30, 30), -1)
    cv2.line(img, (int(w * 0.78), 1), (int(w * 0.78), int(h * 0.3)), colour if solid else (40, 40, 40), max(1, h // 16))


def _car(img, h, w, colour, solid):
    radius = max(2, int(h * 0.2))
    cv2.rectangle(img, (0, int(h * 0.42)), (w - 1, h - radius), colour, -1)
    cabin = np.array([[int(w * 0.2), int(h * 0.44)], [int(w * 0.32), 0], [int(w * 0.72), 0], [int(w * 0.86), int(h * 0.44)]])
    cv2.fillPoly(img, [cabin], colour)
    if not solid:
        glass = np.array([[int(w * 0.27), int(h * 0.4)], [int(w * 0.36), int(h * 0.08)], [int(w * 0.68), int(h * 0.08)], [int(w * 0.79), int(h * 0.4)]])
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


def sample_objects(rng: np.random.Generator, horizon: int, vanish_x: int, height: int, width: int, scene: str) -> list[SceneObject]:
    """The road users of one scene (a few scenes have none), sorted far to near.

    Args:
        horizon, vanish_x: horizon row and vanishing point column from `draw_background`.
        height, width: image size, pixels.
        scene: "footage" (3-14 road users, mostly far) or "close" (2-8, mostly near).
    """
    check_scene(scene)
    if scene == "footage":
        return _footage_objects(rng, horizon, vanish_x, height, width)
    return _close_objects(rng, horizon, height, width)


def check_scene(scene: str) -> None:
    """Raise ValueError unless `scene` is one of SCENES."""
    if scene not in SCENES:
        raise ValueError(f"unknown synthetic scene {scene!r}; expected one of {', '.join(SCENES)}")


def _footage_objects(rng: np.random.Generator, horizon: int, vanish_x: int, height: int, width: int) -> list[SceneObject]:
    """Road users at distances uniform in [NEAR_M, FAR_M]: ground line and size fall as 1 / distance."""
    count = 0 if rng.random() < 0.05 else int(rng.integers(3, 15))
    objects = []
    for category_id in rng.choice(list(FOOTAGE_MIX), size=count, p=list(FOOTAGE_MIX.values())):
        scale = NEAR_M / rng.uniform(NEAR_M, FAR_M)  # 1 on the bottom row, towards 0 at the horizon
        offset = _lateral_offset(rng, int(category_id), vanish_x, width)
        objects.append(
            SceneObject(
                category_id=int(category_id),
                x=float(vanish_x + scale * offset),
                ground_y=float(horizon + scale * (height - horizon)),
                colour=_rand_colour(rng),
                facing_left=bool(rng.random() < 0.5),
            )
        )
    return sorted(objects, key=lambda o: o.ground_y)


def _lateral_offset(rng: np.random.Generator, category_id: int, vanish_x: int, width: int) -> float:
    """Horizontal offset from the vanishing point, in pixels as seen on the bottom row."""
    left, right = (edge * width - vanish_x for edge in ROAD_BOTTOM)
    if rng.random() >= AT_SIDE[category_id]:
        return float(rng.uniform(0.9 * left, 0.9 * right))  # on the road
    if category_id == 1:
        into_road = -rng.uniform(0.02, 0.3)  # people on the pavement beyond an edge
    else:
        into_road = rng.uniform(0.05, 0.2)  # vehicles parked along the kerb
    return float(left + into_road * width if rng.random() < 0.5 else right - into_road * width)


def _close_objects(rng: np.random.Generator, horizon: int, height: int, width: int) -> list[SceneObject]:
    """2-8 objects anywhere across the road, their ground lines spread evenly below the horizon."""
    count = 0 if rng.random() < 0.05 else int(rng.integers(2, 9))
    ids = [c["id"] for c in CATEGORIES]
    objects = [
        SceneObject(
            category_id=int(rng.choice(ids)),
            x=float(rng.uniform(0.05, 0.95) * width),
            ground_y=float(horizon + rng.uniform(0.12, 1.0) ** 0.8 * (height - horizon)),
            colour=_rand_colour(rng),
            facing_left=bool(rng.random() < 0.5),
        )
        for _ in range(count)
    ]
    return sorted(objects, key=lambda o: o.ground_y)


def render_scene(
    background: np.ndarray, horizon: int, objects: list[SceneObject], scene: str
) -> tuple[np.ndarray, list[tuple[int, list[float]]]]:
    """Draw objects far to near. Returns (BGR image, [(category_id, [x, y, w, h])]) of the visible ones.

    Boxes are COCO xywh in pixels, tight around what each object still shows.
    """
    image = background.copy()
    height, width = image.shape[:2]
    owner = np.zeros((height, width), np.int32)  # which object each pixel shows (0: background)
    placed = []
    for index, obj in enumerate(objects, start=1):
        h, w = object_size(obj, horizon, height, scene)
        patch, mask = draw_object(obj, h, w)
        x0, y0 = int(obj.x - w / 2), int(obj.ground_y - h)
        # clip the patch to the image
        px0, py0, px1, py1 = max(0, -x0), max(0, -y0), min(w, width - x0), min(h, height - y0)
        if px1 <= px0 or py1 <= py0:
            continue
        region = (slice(y0 + py0, y0 + py1), slice(x0 + px0, x0 + px1))
        visible_mask = mask[py0:py1, px0:px1] > 0
        image[region][visible_mask] = patch[py0:py1, px0:px1][visible_mask]
        owner[region][visible_mask] = index
        placed.append((index, obj.category_id, int(visible_mask.sum()), region))
    visible = np.bincount(owner.ravel(), minlength=len(objects) + 1)
    annotations = []
    for index, category_id, area, region in placed:
        if area == 0 or visible[index] / area < MIN_VISIBLE:
            continue
        ys, xs = np.nonzero(owner[region] == index)  # the box: tight around what is still visible
        x_min, y_min = int(xs.min()) + region[1].start, int(ys.min()) + region[0].start
        box_w, box_h = int(xs.max()) + region[1].start - x_min + 1, int(ys.max()) + region[0].start - y_min + 1
        if min(box_w, box_h) >= MIN_BOX_SIDE[scene]:
            annotations.append((category_id, [float(x_min), float(y_min), float(box_w), float(box_h)]))
    return image, annotations


def photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Global light, tint, blur and sensor noise."""
    height, width = image.shape[:2]
    gain = np.diag(rng.uniform(0.6, 1.3) * rng.uniform(0.9, 1.1, 3))
    out = cv2.transform(image, np.hstack([gain, np.full((3, 1), rng.uniform(-25, 25))]))  # saturating uint8
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
    noise = rng.normal(0, rng.uniform(1, 6), size=(height // 4, width // 4)).astype(np.int16)
    noise = cv2.resize(noise, (width, height), interpolation=cv2.INTER_NEAREST)
    return cv2.add(out, cv2.merge([noise] * 3), dtype=cv2.CV_8U)


def make_image(
    seed: int, index: int, image_size: tuple[int, int], scene: str
) -> tuple[np.ndarray, list[tuple[int, list[float]]]]:
    """One scene, determined by (seed, index, scene): (H, W, 3) BGR image, [(category_id, xywh pixels)]."""
    rng = np.random.default_rng([seed, index])
    height, width = image_size
    background, horizon, vanish_x = draw_background(rng, height, width)
    objects = sample_objects(rng, horizon, vanish_x, height, width, scene)
    image, annotations = render_scene(background, horizon, objects, scene)
    return photometric(image, rng), annotations


def write_split(
    out_dir: Path, split: str, num_images: int, seed: int, first_index: int, image_size: tuple[int, int], scene: str
) -> Path:
    """JPEGs in out_dir/split and COCO JSON in out_dir/annotations/split.json."""
    (out_dir / split).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for offset in range(num_images):
        image_id = first_index + offset
        image, objects = make_image(seed, image_id, image_size, scene)
        file_name = f"{image_id:06d}.jpg"
        cv2.imwrite(str(out_dir / split / file_name), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        images.append({"id": image_id, "file_name": file_name, "height": image_size[0], "width": image_size[1]})
        for category_id, bbox in objects:
            annotations.append(
                {"id": len(annotations) + 1, "image_id": image_id, "category_id": category_id, "bbox": bbox, "area": bbox[2] * bbox[3], "iscrowd": 0}
            )
    path = out_dir / "annotations" / f"{split}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": list(CATEGORIES)}))
    return path


def write_clip(
    path: Path, seed: int, image_size: tuple[int, int], scene: str, num_frames: int = 48, fps: int = 12
) -> Path:
    """An MP4 of objects approaching on a fixed road (mp4v codec)."""
    rng = np.random.default_rng([seed, 10**6])
    height, width = image_size
    background, horizon, vanish_x = draw_background(rng, height, width)
    objects = sample_objects(rng, horizon, vanish_x, height, width, scene) or [SceneObject(3, width / 2, horizon + 40, (40, 40, 200), False)]
    speeds = rng.uniform(-3, 3, len(objects))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for frame in range(num_frames):
        moved = [
            SceneObject(o.category_id, o.x + s * frame, min(height - 1.0, o.ground_y + frame * (o.ground_y - horizon) * 0.012), o.colour, o.facing_left)
            for o, s in zip(objects, speeds)
        ]
        image, _ = render_scene(background, horizon, sorted(moved, key=lambda o: o.ground_y), scene)
        writer.write(image)
    writer.release()
    return path


def make_synthetic_dataset(
    out_dir: str | Path, num_train: int, num_val: int, seed: int = 0, image_size: tuple[int, int] = (360, 640), scene: str = "footage"
) -> dict[str, Path]:
    """Generate the built-in driving dataset.

    Args:
        out_dir: where train/, val/, annotations/{train,val}.json and clip.mp4 go.
        num_train, num_val: images per split.
        seed: the same seed gives the same files.
        image_size: (H, W) of every image and of the clip.
        scene: "footage" (dash-cam sizes: mostly small, far road users) or "close" (mostly large).

    Returns:
        Paths: "train_images", "train_annotations", "val_images", "val_annotations", "clip".
    """
    check_scene(scene)  # before any file is written
    out_dir = Path(out_dir)
    return {
        "train_images": out_dir / "train",
        "train_annotations": write_split(out_dir, "train", num_train, seed, 1, image_size, scene),
        "val_images": out_dir / "val",
        "val_annotations": write_split(out_dir, "val", num_val, seed, 1 + num_train, image_size, scene),
        "clip": write_clip(out_dir / "clip.mp4", seed, image_size, scene),
    }


def images_per_second(
    num_images: int = 100, seed: int = 0, image_size: tuple[int, int] = (360, 640), scene: str = "footage"
) -> float:
    """Generation speed including JPEG encoding, on this process's one core."""
    start = time.perf_counter()
    for index in range(num_images):
        image, _ = make_image(seed, index, image_size, scene)
        cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return num_images / (time.perf_counter() - start)
