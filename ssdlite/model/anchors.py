"""Anchor boxes of the TF Object Detection API's multiple-grid generator.

SSD paper section 2.2 / TF `create_ssd_anchors`: feature map k of n gets the
scale s_k = min + (max - min) k / (n - 1); every aspect ratio at s_k, plus one
aspect-1 box at sqrt(s_k s_{k+1}) (s_n = 1). The lowest map, which sees small
objects at high resolution, keeps only (0.1, 1), (s_0, 2) and (s_0, 1/2).
An optional stride-8 map before them (ours, for small objects) gets the same
three-box set at half that size: (s/2, 1), (s, 2), (s, 1/2) with s = `AnchorConfig.stride8_anchor_scale`.

A box's width is a fraction of the input's width and its height of the input's height,
so on a 16:9 input an aspect-1 box is 16:9 in pixels. TF's generator sizes both from the
shorter side instead; on 16:9 footage that scored lower (docs/benchmarks.md), so ours
keeps the per-side sizes. Square inputs: the same.
"""

import math

import torch
from torch import Tensor

from ssdlite.config_groups import AnchorConfig


class AnchorGenerator:
    """Makes anchors for a list of feature-map grids.

    Args:
        config: scales of the first and last map, the aspect ratios (width / height) of every
            map but the first, and the scale of the stride-8 map's set.
        stride8_map: the first map is an extra stride-8 map with the small 3-box set at
            `config.stride8_anchor_scale`; the TF specs follow for the rest.
    """

    def __init__(self, config: AnchorConfig, *, stride8_map: bool = False):
        if not 0 < config.min_scale <= config.max_scale <= 1:
            raise ValueError(f"need 0 < min_scale <= max_scale <= 1, got {config.min_scale}, {config.max_scale}")
        if not config.aspect_ratios or any(ratio <= 0 for ratio in config.aspect_ratios):
            raise ValueError(f"aspect_ratios must be positive, got {config.aspect_ratios}")
        self.min_scale = config.min_scale
        self.max_scale = config.max_scale
        self.aspect_ratios = tuple(config.aspect_ratios)
        self.stride8_scale = config.stride8_anchor_scale if stride8_map else None

    def box_specs(self, num_maps: int) -> list[list[tuple[float, float]]]:
        """(scale, aspect ratio) pairs for each of `num_maps` feature maps, in anchor order."""
        if self.stride8_scale is not None:
            s = self.stride8_scale
            return [[(s / 2, 1.0), (s, 2.0), (s, 0.5)]] + self._tf_box_specs(num_maps - 1)
        return self._tf_box_specs(num_maps)

    def _tf_box_specs(self, num_maps: int) -> list[list[tuple[float, float]]]:
        if num_maps == 1:
            scales = [self.min_scale, 1.0]
        else:
            step = (self.max_scale - self.min_scale) / (num_maps - 1)
            scales = [self.min_scale + step * k for k in range(num_maps)] + [1.0]
        specs = []
        for k in range(num_maps):
            if k == 0:  # TF's reduce_boxes_in_lowest_layer
                specs.append([(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)])
                continue
            layer = [(scales[k], ratio) for ratio in self.aspect_ratios]
            layer.append((math.sqrt(scales[k] * scales[k + 1]), 1.0))
            specs.append(layer)
        return specs

    def num_anchors_per_location(self, num_maps: int) -> list[int]:
        return [len(layer) for layer in self.box_specs(num_maps)]

    def __call__(self, grid_sizes: list[tuple[int, int]], image_size: tuple[int, int]) -> Tensor:
        """Anchors for feature maps of the given (rows, cols), in the head's output order.

        Args:
            grid_sizes: (H_k, W_k) of each feature map.
            image_size: (H, W) of the network input in pixels.

        Returns:
            Tensor[A, 4]: xyxy boxes in input pixels, ordered by map, then row,
            then column, then box spec (the order of `SSDLiteHead`'s outputs).
            Not clipped to the image, as in the TF reference.
        """
        image_h, image_w = image_size
        anchors = []
        for (rows, cols), layer in zip(grid_sizes, self.box_specs(len(grid_sizes))):
            scales = torch.tensor([s for s, _ in layer], dtype=torch.float64)
            ratios = torch.tensor([r for _, r in layer], dtype=torch.float64)
            widths = scales * ratios.sqrt() * image_w  # (S,)
            heights = scales / ratios.sqrt() * image_h  # (S,)
            center_y = (torch.arange(rows, dtype=torch.float64) + 0.5) / rows * image_h
            center_x = (torch.arange(cols, dtype=torch.float64) + 0.5) / cols * image_w
            cy, cx = torch.meshgrid(center_y, center_x, indexing="ij")  # (rows, cols)
            cx = cx.reshape(-1, 1).expand(-1, len(layer))  # (rows*cols, S)
            cy = cy.reshape(-1, 1).expand(-1, len(layer))
            boxes = torch.stack([cx - widths / 2, cy - heights / 2, cx + widths / 2, cy + heights / 2], dim=-1)
            anchors.append(boxes.reshape(-1, 4))
        return torch.cat(anchors).float()
