"""TensorFlow's tensor layouts and box order, turned into PyTorch's: helpers every TF converter needs."""

import torch
from torch import Tensor, nn

# TF's box coder orders each anchor's offsets (ty, tx, th, tw); ours is (dx, dy, dw, dh).
TF_TO_OUR_BOX_ORDER = (1, 0, 3, 2)


def hwio_to_oihw(weight: Tensor) -> Tensor:
    """TF conv kernel Tensor[H, W, I, O] -> PyTorch Tensor[O, I, H, W]."""
    return weight.permute(3, 2, 0, 1).contiguous()


def ohwi_to_oihw(weight: Tensor) -> Tensor:
    """TFLite CONV_2D filter Tensor[O, H, W, I] -> PyTorch Tensor[O, I, H, W]."""
    return weight.permute(0, 3, 1, 2).contiguous()


def depthwise_hwcm_to_oihw(weight: Tensor) -> Tensor:
    """TF depthwise kernel Tensor[H, W, C, M] -> PyTorch Tensor[C * M, 1, H, W] (groups = C)."""
    height, width, channels, multiplier = weight.shape
    return weight.reshape(height, width, channels * multiplier).permute(2, 0, 1).unsqueeze(1).contiguous()


def depthwise_1hwc_to_oihw(weight: Tensor) -> Tensor:
    """TFLite DEPTHWISE_CONV_2D filter Tensor[1, H, W, C * M] -> PyTorch Tensor[C * M, 1, H, W]."""
    return weight.permute(3, 0, 1, 2).contiguous()


def tf_box_order_to_ours(tensor: Tensor, num_anchors: int) -> Tensor:
    """Reorder a box predictor's output channels from TF's (ty, tx, th, tw) per anchor to our (dx, dy, dw, dh).

    Args:
        tensor: the predictor's weight Tensor[A * 4, ...] or bias Tensor[A * 4], channels anchor-major.
        num_anchors: A.

    Returns:
        The same values with channel a * 4 + k taken from a * 4 + TF_TO_OUR_BOX_ORDER[k].
    """
    if tensor.shape[0] != num_anchors * 4:
        raise ValueError(f"a box predictor for {num_anchors} anchors has {num_anchors * 4} outputs, got {tensor.shape[0]}")
    per_anchor = tensor.reshape(num_anchors, 4, *tensor.shape[1:])
    return per_anchor[:, list(TF_TO_OUR_BOX_ORDER)].reshape(tensor.shape).contiguous()


@torch.no_grad()
def identity_batchnorm_with_bias_(norm: nn.BatchNorm2d, bias: Tensor) -> None:
    """Make `norm` add `bias` and nothing else, for a conv whose batch norm TF folded into its weights.

    gamma 1, running mean 0 and running variance 1 - eps, so (x - 0) / sqrt(var + eps) = x; beta = bias.
    """
    if bias.shape != norm.bias.shape:
        raise ValueError(f"a bias of {tuple(bias.shape)} does not fit a batch norm of {norm.num_features} channels")
    norm.weight.fill_(1.0)
    norm.bias.copy_(bias)
    norm.running_mean.zero_()
    norm.running_var.fill_(1.0 - norm.eps)
