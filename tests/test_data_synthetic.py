import json

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from ssdlite.data.synthetic import make_image, make_synthetic_dataset, render_scene, sample_objects


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return make_synthetic_dataset(tmp_path_factory.mktemp("a"), num_train=6, num_val=3, seed=5, image_size=(180, 320))


def test_same_seed_same_files_other_seed_differs(generated, tmp_path):
    again = make_synthetic_dataset(tmp_path / "b", num_train=6, num_val=3, seed=5, image_size=(180, 320))
    assert generated["train_annotations"].read_text() == again["train_annotations"].read_text()
    first = cv2.imread(str(generated["train_images"] / "000001.jpg"))
    assert np.array_equal(first, cv2.imread(str(again["train_images"] / "000001.jpg")))
    other, _ = make_image(6, 1, (180, 320))
    assert not np.array_equal(make_image(5, 1, (180, 320))[0], other)


def test_valid_coco_with_the_driving_categories(generated):
    coco = COCO(str(generated["train_annotations"]))
    assert {c["id"]: c["name"] for c in coco.dataset["categories"]} == {1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 6: "bus", 8: "truck"}
    assert len(coco.imgs) == 6 and len(coco.anns) > 6
    for ann in coco.anns.values():
        x, y, w, h = ann["bbox"]
        assert w >= 4 and h >= 4 and x >= 0 and y >= 0 and x + w <= 320 and y + h <= 180
    val_ids = set(json.loads(generated["val_annotations"].read_text())["images"][i]["id"] for i in range(3))
    assert val_ids.isdisjoint(coco.imgs)


def test_boxes_are_tight_around_drawn_objects():
    rng = np.random.default_rng(1)
    objects = sample_objects(rng, horizon=150, height=360, width=640)
    image, annotations = render_scene(np.zeros((360, 640, 3), np.uint8), 150, objects)
    assert annotations
    drawn = image.any(axis=-1)
    for _, (x, y, w, h) in annotations:
        x, y, w, h = int(x), int(y), int(w), int(h)
        box = drawn[y : y + h, x : x + w]
        # every edge of the box touches the object, and the object fills a fair part of it
        assert box[0].any() and box[-1].any() and box[:, 0].any() and box[:, -1].any()
        assert box.mean() > 0.2


def test_clip_has_the_promised_frames(generated):
    capture = cv2.VideoCapture(str(generated["clip"]))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 48 and capture.get(cv2.CAP_PROP_FPS) == 12
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (320, 180)
