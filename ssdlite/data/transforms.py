"""SSD augmentation as albumentations pipelines (boxes: pascal_voc = xyxy pixels).

Training follows the SSD paper (section 2.2, "data augmentation") and the
reference implementations: photometric distortion, zoom-out onto a
mean-filled canvas, min-IoU random crop, horizontal flip, resize, scale to
[0, 1] (the model applies its own mean and std, `ModelConfig.image_mean`).
`AugmentConfig` (`data.augment`) switches the steps.
The two SSD-specific steps albumentations lacks are written here as
albumentations transforms, so they compose with the rest.
"""

from typing import Any

import albumentations as A
import numpy as np
from albumentations.augmentations.crops.transforms import BaseCrop
from albumentations.core.transforms_interface import DualTransform
from albumentations.pytorch import ToTensorV2

from ssdlite.config_groups import AugmentConfig

# ImageNet mean in RGB, the fill of zoom-out canvases (SSD, torchvision, mmdetection).
MEAN_PIXEL = (124, 116, 104)
# uint8 pixels -> float32 x / 255, the model's input range; `Detector.preprocess` computes the same.
TO_UNIT_RANGE = A.ToFloat(max_value=255)


def _box_iou(boxes: np.ndarray, crop: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) xyxy boxes with one xyxy crop."""
    top_left = np.maximum(boxes[:, :2], crop[:2])
    bottom_right = np.minimum(boxes[:, 2:4], crop[2:])
    intersection = np.clip(bottom_right - top_left, 0, None).prod(axis=1)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    crop_area = (crop[2] - crop[0]) * (crop[3] - crop[1])
    return intersection / (areas + crop_area - intersection)


class ZoomOut(DualTransform):
    """Place the image at a random spot of a canvas up to `max_scale` times larger, filled with `fill`.

    Makes objects smaller, so the detector sees more small objects (SSD's "expand").
    """

    def __init__(self, max_scale: float, fill: tuple[int, int, int] = MEAN_PIXEL, p: float = 0.5):
        super().__init__(p=p)
        self.max_scale = max_scale
        self.fill = fill

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        scale = self.py_random.uniform(1.0, self.max_scale)
        canvas_h, canvas_w = int(height * scale), int(width * scale)
        top = self.py_random.randint(0, canvas_h - height)
        left = self.py_random.randint(0, canvas_w - width)
        return {"canvas": (canvas_h, canvas_w), "offset": (top, left)}

    def apply(self, img: np.ndarray, canvas: tuple[int, int], offset: tuple[int, int], **params) -> np.ndarray:
        out = np.empty((*canvas, img.shape[2]), dtype=img.dtype)
        out[:] = np.asarray(self.fill, dtype=img.dtype)
        top, left = offset
        out[top : top + img.shape[0], left : left + img.shape[1]] = img
        return out

    def apply_to_bboxes(self, bboxes: np.ndarray, canvas: tuple[int, int], offset: tuple[int, int], **params) -> np.ndarray:
        # Normalised xyxy in the image -> normalised xyxy in the canvas.
        height, width = params["shape"][:2]
        (canvas_h, canvas_w), (top, left) = canvas, offset
        out = bboxes.copy()
        out[:, [0, 2]] = (bboxes[:, [0, 2]] * width + left) / canvas_w
        out[:, [1, 3]] = (bboxes[:, [1, 3]] * height + top) / canvas_h
        return out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("max_scale", "fill")


class MinIoURandomCrop(BaseCrop):
    """The SSD random crop: a patch whose IoU with some box reaches a random minimum.

    Each try picks a minimum IoU from `min_ious` (or no crop at all), then up to
    `max_trials` patches of 0.3-1 of each side with aspect ratio 1/2-2. A patch
    is accepted when some box overlaps it that much and some box centre lies in
    it; boxes whose centre falls outside the patch are removed. An image
    without boxes is cropped freely.
    """

    def __init__(self, min_ious: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9), max_trials: int = 50, p: float = 1.0):
        super().__init__(p=p)
        self.min_ious = min_ious
        self.max_trials = max_trials

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        bboxes = np.asarray(data.get("bboxes", np.zeros((0, 4))))[:, :4] * [width, height, width, height]
        for _ in range(self.max_trials):
            mode = self.py_random.choice((None, *self.min_ious))
            if mode is None:
                return {"crop_coords": (0, 0, width, height)}
            crop_w = int(self.py_random.uniform(0.3, 1.0) * width)
            crop_h = int(self.py_random.uniform(0.3, 1.0) * height)
            if not 0.5 <= crop_h / max(crop_w, 1) <= 2 or crop_w < 1 or crop_h < 1:
                continue
            left = self.py_random.randint(0, width - crop_w)
            top = self.py_random.randint(0, height - crop_h)
            crop = np.array([left, top, left + crop_w, top + crop_h], dtype=np.float32)
            if len(bboxes) == 0:
                return {"crop_coords": tuple(int(v) for v in crop)}
            if _box_iou(bboxes, crop).max() < mode or not _centres_inside(bboxes, crop).any():
                continue
            return {"crop_coords": tuple(int(v) for v in crop)}
        return {"crop_coords": (0, 0, width, height)}

    def apply_to_bboxes(self, bboxes: np.ndarray, crop_coords: tuple[int, int, int, int], **params) -> np.ndarray:
        height, width = params["shape"][:2]
        inside = _centres_inside(bboxes[:, :4] * [width, height, width, height], np.asarray(crop_coords))
        return super().apply_to_bboxes(bboxes[inside], crop_coords, **params)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("min_ious", "max_trials")


def _centres_inside(boxes: np.ndarray, crop: np.ndarray) -> np.ndarray:
    centres = (boxes[:, :2] + boxes[:, 2:4]) / 2
    return (centres > crop[:2]).all(axis=1) & (centres < crop[2:]).all(axis=1)


def _bbox_params() -> A.BboxParams:
    return A.BboxParams(format="pascal_voc", label_fields=["labels", "iscrowd"], clip=True, filter_invalid_bboxes=True)


def train_transform(image_size: tuple[int, int], augment: AugmentConfig) -> A.Compose:
    """The SSD training pipeline, ending in an RGB Tensor[3, H, W] in [0, 1] at `image_size` (H, W).

    Args:
        augment: `photometric`, `min_iou_crop`, `hflip` include that step; `zoom_out_max` is the
            largest zoom-out canvas, in image sides (1 leaves zoom-out out).
    """
    steps = []
    if augment.photometric:
        # SSD's distortion: brightness +-32/255, contrast and saturation 0.5-1.5, hue +-18 degrees.
        steps.append(A.ColorJitter(brightness=0.125, contrast=0.5, saturation=0.5, hue=0.05, p=0.5))
    if augment.zoom_out_max > 1.0:
        steps.append(ZoomOut(augment.zoom_out_max, p=0.5))
    if augment.min_iou_crop:
        steps.append(MinIoURandomCrop())
    if augment.hflip:
        steps.append(A.HorizontalFlip(p=0.5))
    steps += [A.Resize(*image_size), TO_UNIT_RANGE, ToTensorV2()]
    return A.Compose(steps, bbox_params=_bbox_params())


def val_transform(image_size: tuple[int, int]) -> A.Compose:
    """Resize to `image_size` (H, W) and scale to [0, 1]: an RGB Tensor[3, H, W]; boxes map back by the size ratio."""
    return A.Compose([A.Resize(*image_size), TO_UNIT_RANGE, ToTensorV2()], bbox_params=_bbox_params())
