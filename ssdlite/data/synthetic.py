"""The built-in driving dataset: dash-cam-like scenes drawn with OpenCV.

Road with lanes and horizon, buildings, and the six driving classes (COCO
ids and names) in perspective, drawn far to near so nearer objects occlude
farther ones, under varied colour, light, blur and noise. Written as COCO
JSON + JPEGs, plus a clip of a moving scene with its tracking ground truth
(`ssdlite.data.synthetic_video`). Deterministic for a seed.

Two scenes:
- "footage": sizes as in dash-cam video. Each road user's distance is uniform
  between NEAR_M and FAR_M, and its ground line and size scale as 1 / distance,
  so most boxes are COCO-small (about half at 640x360), a third medium and a
  few large. 3-14 road users; pedestrians mostly on the pavements, some parked
  vehicles at the kerbs. Objects are drawn down to 2 px but annotated from 5 px.
- "close": the demo's look, nearly all medium or large: each image is a moment
  of the road the built-in clip shows (`synthetic_video.road_snapshot`), cross
  traffic and road users coming and going along the road, so a detector
  trained on the images has seen the clip's scenes.
"""

import json
import time
from pathlib import Path

import cv2
import numpy as np

from ssdlite.config import Scene
from ssdlite.data.synthetic_drawing import CATEGORIES, ROAD_BOTTOM, SceneObject, draw_background, random_colour
from ssdlite.data.synthetic_scene import FAR_M, FOOTAGE_MIX, NEAR_M, check_scene, render_objects
from ssdlite.data.synthetic_video import moving_scene, road_snapshot, write_mot
from ssdlite.video import open_video_writer

AT_SIDE = {1: 0.8, 2: 0.3, 3: 0.3, 4: 0.2, 6: 0.1, 8: 0.2}  # share on the pavement (people) or parked (vehicles)


def sample_objects(
    rng: np.random.Generator, horizon: int, vanish_x: int, height: int, width: int, scene: Scene
) -> list[SceneObject]:
    """The road users of one scene (a few scenes have none), sorted far to near.

    Args:
        horizon, vanish_x: horizon row and vanishing point column from `draw_background`.
        height, width: image size, pixels.
        scene: "footage" (3-14 road users, mostly far) or "close" (a moment of the clip's road, mostly near).
    """
    check_scene(scene)
    if scene == "footage":
        return _footage_objects(rng, horizon, vanish_x, height, width)
    return road_snapshot(rng, horizon, vanish_x, height, width, scene)


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
                colour=random_colour(rng),
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


def render_scene(
    background: np.ndarray, horizon: int, objects: list[SceneObject], scene: Scene
) -> tuple[np.ndarray, list[tuple[int, list[float]]]]:
    """Draw objects far to near. Returns (BGR image, [(category_id, [x, y, w, h])]) of the visible ones.

    Boxes are COCO xywh in pixels, tight around what each object still shows.
    """
    image, visible = render_objects(background, horizon, objects, scene)
    return image, [(objects[index].category_id, box) for index, box, _ in visible]


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
    seed: int, index: int, image_size: tuple[int, int], scene: Scene
) -> tuple[np.ndarray, list[tuple[int, list[float]]]]:
    """One scene, determined by (seed, index, scene): (H, W, 3) BGR image, [(category_id, xywh pixels)]."""
    rng = np.random.default_rng([seed, index])
    height, width = image_size
    background, horizon, vanish_x = draw_background(rng, height, width)
    objects = sample_objects(rng, horizon, vanish_x, height, width, scene)
    image, annotations = render_scene(background, horizon, objects, scene)
    return photometric(image, rng), annotations


def write_split(
    out_dir: Path, split: str, num_images: int, seed: int, first_index: int, image_size: tuple[int, int], scene: Scene
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
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category_id,
                    "bbox": bbox,
                    "area": bbox[2] * bbox[3],
                    "iscrowd": 0,
                }
            )
    path = out_dir / "annotations" / f"{split}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": list(CATEGORIES)}))
    return path


def write_clip(path: Path, *, seed: int, image_size: tuple[int, int], scene: Scene, num_frames: int = 48, fps: int = 12) -> Path:
    """An MP4 of a moving road scene (H.264 where there is an encoder, see `ssdlite.video`) and its
    MOT ground truth gt.txt beside it (`ssdlite.data.synthetic_video`: road users that keep their
    identity, move in perspective, hide one another and leave the view)."""
    height, width = image_size
    ground_truth = []
    writer = open_video_writer(path, fps, (width, height))
    for image, objects in moving_scene(seed, image_size=image_size, scene=scene, num_frames=num_frames, fps=fps):
        writer.write(image)
        ground_truth.append(objects)
    writer.release()
    write_mot(path.with_name("gt.txt"), ground_truth)
    return path


def make_synthetic_dataset(
    out_dir: str | Path,
    *,
    num_train: int,
    num_val: int,
    seed: int,
    scene: Scene,
    image_size: tuple[int, int] = (360, 640),
    clip_frames: int = 48,
    clip_fps: int = 12,
) -> dict[str, Path]:
    """Generate the built-in driving dataset.

    Args:
        out_dir: where train/, val/, annotations/{train,val}.json, clip.mp4 and its gt.txt go.
        num_train, num_val: images per split.
        seed: the same seed gives the same files.
        image_size: (H, W) of every image and of the clip.
        scene: "footage" (dash-cam sizes: mostly small, far road users) or "close" (mostly large).
        clip_frames, clip_fps: length and frame rate of the clip (300 at 25 for the tracking benchmark).

    Returns:
        Paths: "train_images", "train_annotations", "val_images", "val_annotations", "clip", "clip_ground_truth".
    """
    check_scene(scene)  # before any file is written
    out_dir = Path(out_dir)
    return {
        "train_images": out_dir / "train",
        "train_annotations": write_split(out_dir, "train", num_train, seed, 1, image_size, scene),
        "val_images": out_dir / "val",
        "val_annotations": write_split(out_dir, "val", num_val, seed, 1 + num_train, image_size, scene),
        "clip": write_clip(
            out_dir / "clip.mp4", seed=seed, image_size=image_size, scene=scene, num_frames=clip_frames, fps=clip_fps
        ),
        "clip_ground_truth": out_dir / "gt.txt",
    }


def images_per_second(num_images: int, *, seed: int, scene: Scene, image_size: tuple[int, int] = (360, 640)) -> float:
    """Generation speed including JPEG encoding, on this process's one core."""
    start = time.perf_counter()
    for index in range(num_images):
        image, _ = make_image(seed, index, image_size, scene)
        cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return num_images / (time.perf_counter() - start)
