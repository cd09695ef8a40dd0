import numpy as np
import pytest
import torch

from ssdlite.config import AugmentConfig
from ssdlite.data.transforms import MinIoURandomCrop, ZoomOut, train_transform, val_transform

COLOURS = np.array([[230, 30, 30], [30, 230, 30], [30, 30, 230]], dtype=np.uint8)


def scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grey 240x320 image with three solid rectangles side by side, one per colour; boxes xyxy."""
    rng = np.random.default_rng(seed)
    image = np.full((240, 320, 3), 128, np.uint8)
    boxes = []
    for index, colour in enumerate(COLOURS):
        x, y = index * 106 + rng.integers(0, 26), rng.integers(0, 170)
        w, h = rng.integers(30, 80), rng.integers(30, 70)
        image[y : y + h, x : x + w] = colour
        boxes.append([x, y, x + w, y + h])
    return image, np.array(boxes, dtype=np.float32), np.array([1, 2, 3])


def to_pixels(tensor) -> np.ndarray:
    return (tensor.permute(1, 2, 0).numpy() * 255).round().astype(np.int32)


@pytest.mark.parametrize("seed", range(12))
def test_augmented_boxes_stay_inside_and_on_their_objects(seed):
    transform = train_transform((150, 200), AugmentConfig(photometric=False, zoom_out_max=4.0, min_iou_crop=True, hflip=True))
    transform.set_random_seed(seed)
    image, boxes, labels = scene(seed)
    out = transform(image=image, bboxes=boxes, labels=labels, iscrowd=np.zeros(3, bool))
    pixels = to_pixels(out["image"])
    assert out["image"].shape == (3, 150, 200)
    for box, label in zip(np.asarray(out["bboxes"]).reshape(-1, 4), out["labels"]):
        x0, y0, x1, y1 = box
        assert 0 <= x0 < x1 <= 200 and 0 <= y0 < y1 <= 150
        inner = pixels[int(np.ceil(y0)) : int(y1), int(np.ceil(x0)) : int(x1)]
        if inner.size == 0:
            continue
        # the object's colour, but for resampling at its edges
        close = (np.abs(inner - COLOURS[label - 1]).max(axis=-1) < 40).mean()
        assert close > 0.8, (seed, box, label, close)


def test_crop_that_removes_every_box_gives_empty_targets():
    image = np.full((200, 200, 3), 128, np.uint8)
    boxes = np.array([[0, 0, 20, 20]], dtype=np.float32)
    crop = MinIoURandomCrop(p=1.0)
    out = crop.apply_to_bboxes(
        np.array([[0, 0, 0.1, 0.1, 1]], dtype=np.float32), crop_coords=(100, 100, 200, 200), shape=(200, 200)
    )
    assert out.shape[0] == 0
    transform = val_transform((100, 100))
    empty = transform(image=image, bboxes=np.zeros((0, 4), np.float32), labels=np.zeros(0, int), iscrowd=np.zeros(0, bool))
    assert np.asarray(empty["bboxes"]).reshape(-1, 4).shape == (0, 4) and len(empty["labels"]) == 0
    assert boxes.shape == (1, 4)


def test_min_iou_crop_keeps_boxes_whose_centre_is_inside():
    boxes = np.array([[0.1, 0.1, 0.3, 0.3, 7], [0.6, 0.6, 0.9, 0.9, 8]], dtype=np.float32)  # normalised + label column
    out = MinIoURandomCrop().apply_to_bboxes(boxes, crop_coords=(0, 0, 120, 120), shape=(200, 200))
    assert out[:, 4].tolist() == [7]
    assert out[0, :4] * 120 == pytest.approx([20, 20, 60, 60])


def test_zoom_out_places_the_image_on_a_mean_canvas():
    zoom = ZoomOut(max_scale=2.0, fill=(1, 2, 3), p=1.0)
    image = np.full((10, 20, 3), 200, np.uint8)
    out = zoom.apply(image, canvas=(20, 40), offset=(5, 10))
    assert out.shape == (20, 40, 3) and (out[5:15, 10:30] == 200).all() and out[0, 0].tolist() == [1, 2, 3]
    boxes = zoom.apply_to_bboxes(np.array([[0.0, 0.0, 1.0, 1.0]]), canvas=(20, 40), offset=(5, 10), shape=(10, 20))
    assert boxes[0].tolist() == pytest.approx([0.25, 0.25, 0.75, 0.75])


def test_val_transform_only_resizes_and_scales_to_unit_range():
    image, boxes, labels = scene(0)
    out = val_transform((120, 160))(image=image, bboxes=boxes, labels=labels, iscrowd=np.zeros(3, bool))
    assert np.asarray(out["bboxes"]) == pytest.approx(boxes / 2)
    assert out["image"].dtype == torch.float32 and out["image"].min() >= 0 and out["image"].max() <= 1
    assert out["image"][:, 0, 0].tolist() == [np.float32(128 / 255)] * 3  # no mean or std: the model applies them
    assert to_pixels(out["image"])[0, 0].tolist() == [128, 128, 128]
