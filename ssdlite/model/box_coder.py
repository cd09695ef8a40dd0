"""Box regression targets relative to anchors (Faster R-CNN parametrisation).

With anchor centre (xa, ya) and size (wa, ha), a box (x, y, w, h) encodes as
(wx (x - xa) / wa, wy (y - ya) / ha, ww log(w / wa), wh log(h / ha)).
The TF SSD weights (10, 10, 5, 5) bring the targets to roughly unit variance.
"""

import math

import torch
from torch import Tensor
from torchvision.ops import box_convert

# exp() of a size offset above this would blow boxes up past 1000x the anchor
# (and overflow float16); the same bound torchvision uses.
MAX_SIZE_OFFSET = math.log(1000.0 / 16)


class BoxCoder:
    """Encodes boxes as offsets from anchors and decodes them back.

    Args:
        weights: (wx, wy, ww, wh) multipliers of the four offsets, e.g. TF SSD's (10, 10, 5, 5).
    """

    def __init__(self, weights: tuple[float, float, float, float]):
        self.weights = tuple(float(w) for w in weights)

    def encode(self, boxes: Tensor, anchors: Tensor) -> Tensor:
        """Offsets of `boxes` from `anchors`.

        Args:
            boxes: Tensor[..., 4] xyxy pixels, with positive width and height.
            anchors: Tensor[..., 4] xyxy pixels, same shape.

        Returns:
            Tensor[..., 4]: (dx, dy, dw, dh), weighted.
        """
        wx, wy, ww, wh = self.weights
        x, y, w, h = box_convert(boxes, "xyxy", "cxcywh").unbind(-1)
        xa, ya, wa, ha = box_convert(anchors, "xyxy", "cxcywh").unbind(-1)
        return torch.stack([wx * (x - xa) / wa, wy * (y - ya) / ha, ww * torch.log(w / wa), wh * torch.log(h / ha)], dim=-1)

    def decode(self, offsets: Tensor, anchors: Tensor) -> Tensor:
        """Boxes from offsets; the inverse of `encode`.

        Args:
            offsets: Tensor[..., 4] (dx, dy, dw, dh), weighted.
            anchors: Tensor[..., 4] xyxy pixels, broadcastable to `offsets`.

        Returns:
            Tensor[..., 4] xyxy pixels. Size offsets are clamped at
            `MAX_SIZE_OFFSET`, so the result is finite for any finite input.
        """
        # centres and sizes as (x, y) pairs: a few ops on whole tensors, as it runs on every frame
        anchor_sizes = anchors[..., 2:] - anchors[..., :2]  # (..., 2) wa, ha
        anchor_centres = anchors[..., :2] + 0.5 * anchor_sizes  # (..., 2) xa, ya
        offsets = offsets / offsets.new_tensor(self.weights)
        centres = offsets[..., :2] * anchor_sizes + anchor_centres
        half_sizes = offsets[..., 2:].clamp(max=MAX_SIZE_OFFSET).exp() * (0.5 * anchor_sizes)
        return torch.cat([centres - half_sizes, centres + half_sizes], dim=-1)
