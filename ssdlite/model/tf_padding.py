"""TensorFlow's "SAME" padding for strided convolutions, so converted TF weights compute what TF computes.

PyTorch pads a 3x3 stride-2 convolution by one pixel on every side. TF's "SAME" pads
only as much as the output size ceil(in / stride) needs, and puts the odd pixel at the
bottom and right: on an even-sized input it pads (0, 1), so every output pixel looks at
a window half a pixel further down and right than PyTorch's. Stride-1 convolutions pad
the same way in both.
"""

import math

import torch.nn.functional as F
from torch import Tensor, nn


class TFSameConv2d(nn.Conv2d):
    """A `Conv2d` padded as TF's "SAME" (extra row and column at the bottom and right); same weights and keys."""

    def forward(self, x: Tensor) -> Tensor:
        pads = []
        for size, kernel, stride, dilation in zip(x.shape[-2:], self.kernel_size, self.stride, self.dilation):
            total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def use_tf_same_padding(module: nn.Module) -> None:
    """Make every strided `Conv2d` inside `module` pad as TF's "SAME" (in place; parameters are kept)."""
    for layer in module.modules():
        if type(layer) is nn.Conv2d and max(layer.stride) > 1:
            layer.__class__ = TFSameConv2d  # the same parameters and state_dict keys, another forward
