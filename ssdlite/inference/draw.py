"""Drawing boxes and their captions on BGR images (OpenCV): detections, and dataset samples."""

import cv2
import numpy as np
import torch

PALETTE = [
    (56, 56, 255),
    (151, 157, 255),
    (31, 112, 255),
    (29, 178, 255),
    (49, 210, 207),
    (10, 249, 72),
    (23, 204, 146),
    (134, 219, 61),
]
CROWD_COLOUR = (128, 128, 128)


def colour_of(label: int) -> tuple[int, int, int]:
    """A fixed BGR colour per label."""
    return PALETTE[(label - 1) % len(PALETTE)]


def draw_boxes(image: np.ndarray, boxes, captions: list[str], colours: list[tuple[int, int, int]]) -> np.ndarray:
    """Draw xyxy pixel boxes with captions on a BGR uint8 image, in place; returns it."""
    thickness = max(1, round(min(image.shape[:2]) / 300))
    scale = 0.35 * thickness
    for box, caption, colour in zip(boxes, captions, colours):
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        cv2.rectangle(image, (x0, y0), (x1, y1), colour, thickness)
        (text_w, text_h), _ = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = max(0, y0 - text_h - 4)
        cv2.rectangle(image, (x0, top), (x0 + text_w + 2, top + text_h + 4), colour, -1)
        cv2.putText(image, caption, (x0 + 1, top + text_h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def draw_sample(image: torch.Tensor, target: dict, class_names: tuple[str, ...]) -> np.ndarray:
    """A BGR uint8 picture of a dataset sample: image Tensor[3, H, W] RGB in [0, 1], boxes xyxy pixels."""
    picture = (image.permute(1, 2, 0).numpy() * 255).round().clip(0, 255).astype(np.uint8)
    picture = np.ascontiguousarray(picture[:, :, ::-1])
    crowd = target.get("iscrowd", torch.zeros(len(target["labels"]), dtype=torch.bool)).tolist()
    labels = target["labels"].tolist()
    captions = [class_names[label - 1] + (" (crowd)" if is_crowd else "") for label, is_crowd in zip(labels, crowd)]
    colours = [CROWD_COLOUR if is_crowd else colour_of(label) for label, is_crowd in zip(labels, crowd)]
    return draw_boxes(picture, target["boxes"].tolist(), captions, colours)
