import json

import av
import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from ssdlite.data.synthetic import make_image, make_synthetic_dataset, render_scene, sample_objects
from ssdlite.data.synthetic_scene import MIN_BOX_SIDE, SCENES
from ssdlite.data.synthetic_video import FAR_SCALE, road_snapshot


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return make_synthetic_dataset(
        tmp_path_factory.mktemp("a"), num_train=6, num_val=3, seed=5, scene="footage", image_size=(180, 320)
    )


def test_same_seed_same_files_other_seed_differs(generated, tmp_path):
    again = make_synthetic_dataset(tmp_path / "b", num_train=6, num_val=3, seed=5, scene="footage", image_size=(180, 320))
    assert generated["train_annotations"].read_text() == again["train_annotations"].read_text()
    first = cv2.imread(str(generated["train_images"] / "000001.jpg"))
    assert np.array_equal(first, cv2.imread(str(again["train_images"] / "000001.jpg")))


@pytest.mark.parametrize("scene", SCENES)
def test_each_scene_is_deterministic_per_seed(scene):
    image, annotations = make_image(5, 1, (180, 320), scene)
    again, same_annotations = make_image(5, 1, (180, 320), scene)
    assert np.array_equal(image, again) and annotations == same_annotations
    assert not np.array_equal(image, make_image(6, 1, (180, 320), scene)[0])


def test_close_scenes_are_mostly_medium_and_large_with_every_class():
    boxes = [
        (category_id, w * h)
        for index in range(1, 61)
        for category_id, (_, _, w, h) in make_image(0, index, (360, 640), "close")[1]
    ]
    category_ids, areas = (np.array(column) for column in zip(*boxes))
    assert (areas < 32**2).mean() <= 0.15 and (areas >= 96**2).mean() >= 0.25
    assert set(category_ids) == {1, 2, 3, 4, 6, 8}
    assert 2 <= len(boxes) / 60 <= 6


def test_close_stills_are_moments_of_the_clips_road():
    # the clip's road users: crossing at the distances of CROSSING_SCALE, or on the road seen in perspective,
    # so every still's road users stand between the horizon and the bottom row, at most as near as PASSED_SCALE
    snapshots = [road_snapshot(np.random.default_rng(seed), 150, 320, 360, 640, "close") for seed in range(40)]
    for objects in snapshots:
        assert [o.ground_y for o in objects] == sorted(o.ground_y for o in objects)  # far to near, for drawing
    ground_rows = np.array([o.ground_y for objects in snapshots for o in objects])
    assert len(ground_rows) >= 80 and (ground_rows > 150).all() and (ground_rows <= 360).all()
    scales = (ground_rows - 150) / (360 - 150)
    assert scales.min() >= FAR_SCALE["close"] - 1e-6


def test_unknown_scene_names_the_allowed_ones(tmp_path):
    with pytest.raises(ValueError, match="'far'; expected one of footage, close"):
        make_synthetic_dataset(tmp_path, num_train=1, num_val=1, seed=0, scene="far")
    assert not any(tmp_path.iterdir())


def test_footage_sizes_are_mostly_small_like_dash_cam_video():
    boxes = [
        (category_id, w, h)
        for index in range(1, 61)
        for category_id, (_, _, w, h) in make_image(0, index, (360, 640), "footage")[1]
    ]
    category_ids, widths, heights = (np.array(column) for column in zip(*boxes))
    areas = widths * heights
    small, large = (areas < 32**2).mean(), (areas >= 96**2).mean()
    assert 0.4 <= small <= 0.6 and 0.3 <= 1 - small - large <= 0.45 and 0.05 <= large <= 0.2
    assert set(category_ids) == {1, 2, 3, 4, 6, 8}
    assert 20 <= np.median(heights[category_ids == 1]) < 48
    assert min(widths.min(), heights.min()) >= MIN_BOX_SIDE["footage"]


def test_valid_coco_with_the_driving_categories(generated):
    coco = COCO(str(generated["train_annotations"]))
    assert {c["id"]: c["name"] for c in coco.dataset["categories"]} == {
        1: "person",
        2: "bicycle",
        3: "car",
        4: "motorcycle",
        6: "bus",
        8: "truck",
    }
    assert len(coco.imgs) == 6 and len(coco.anns) > 6
    for ann in coco.anns.values():
        x, y, w, h = ann["bbox"]
        assert min(w, h) >= MIN_BOX_SIDE["footage"] and x >= 0 and y >= 0 and x + w <= 320 and y + h <= 180
    val_ids = set(json.loads(generated["val_annotations"].read_text())["images"][i]["id"] for i in range(3))
    assert val_ids.isdisjoint(coco.imgs)


@pytest.mark.parametrize("scene", SCENES)
def test_boxes_are_tight_around_drawn_objects(scene):
    rng = np.random.default_rng(1)
    objects = sample_objects(rng, horizon=150, vanish_x=320, height=360, width=640, scene=scene)
    image, annotations = render_scene(np.zeros((360, 640, 3), np.uint8), 150, objects, scene)
    assert annotations
    drawn = image.any(axis=-1)
    for _, (x, y, w, h) in annotations:
        x, y, w, h = int(x), int(y), int(w), int(h)
        box = drawn[y : y + h, x : x + w]
        # every edge of the box touches the object, and the object fills a fair part of it
        assert box[0].any() and box[-1].any() and box[:, 0].any() and box[:, -1].any()
        assert box.mean() > 0.2


def test_clip_has_the_promised_frames(generated):
    with av.open(str(generated["clip"])) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert stream.codec_context.name == "h264" and stream.average_rate == 12
    assert frames == 48 and (stream.width, stream.height) == (320, 180)
