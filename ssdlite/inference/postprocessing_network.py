"""A network that ends with post-processing (`openvino_ir.with_postprocessing`): what it takes after
the images, and the detections from what it returns."""

import numpy as np
import torch

from ssdlite.model.postprocess import Postprocessor, scale_boxes


def postprocessing_inputs(post: Postprocessor, num_classes: int) -> tuple[torch.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    """What the network takes after the images: the class mask Tensor[num_classes], then `post`'s score
    threshold and NMS IoU threshold (float32) and max detections (int64)."""
    limits = np.float32(post.score_threshold), np.float32(post.nms_iou_threshold), np.int64(post.max_detections_per_image)
    return post.class_mask(num_classes), *limits


def kept_detections(
    scores: torch.Tensor,
    boxes: torch.Tensor,
    labels: torch.Tensor,
    kept: torch.Tensor,
    image_size: tuple[int, int],
    orig_sizes: list[tuple[int, int]] | None,
) -> list[dict[str, torch.Tensor]]:
    """Detections per image, as `Postprocessor.select` gives them, from the network's
    candidates (scores [B, N], boxes [B, N, 4], labels [B, N]) at the rows of `kept` [M, 3] (image, 0, candidate)."""
    detections = []
    for index in range(len(scores)):
        rows = kept[kept[:, 0] == index, 2]
        detection = {"boxes": boxes[index, rows], "scores": scores[index, rows], "labels": labels[index, rows]}
        if orig_sizes is not None:
            detection["boxes"] = scale_boxes(detection["boxes"], image_size, orig_sizes[index])
        detections.append(detection)
    return detections
