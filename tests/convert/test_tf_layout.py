import torch
from torch import nn

from ssdlite.convert.tf_layout import (
    depthwise_1hwc_to_oihw,
    depthwise_hwcm_to_oihw,
    hwio_to_oihw,
    identity_batchnorm_with_bias_,
    ohwi_to_oihw,
    tf_box_order_to_ours,
)


def test_box_channels_go_from_ty_tx_th_tw_to_dx_dy_dw_dh_per_anchor():
    tf_bias = torch.tensor([10.0, 11, 12, 13, 20, 21, 22, 23])  # anchor 0: ty tx th tw, anchor 1: the same
    assert tf_box_order_to_ours(tf_bias, 2).tolist() == [11, 10, 13, 12, 21, 20, 23, 22]
    weight = torch.arange(8.0).reshape(8, 1, 1, 1).expand(8, 3, 1, 1)
    assert tf_box_order_to_ours(weight, 2)[:, 0, 0, 0].tolist() == [1, 0, 3, 2, 5, 4, 7, 6]


def test_kernel_layouts_become_oihw():
    assert hwio_to_oihw(torch.zeros(3, 5, 7, 11)).shape == (11, 7, 3, 5)
    assert ohwi_to_oihw(torch.zeros(11, 3, 5, 7)).shape == (11, 7, 3, 5)
    assert depthwise_hwcm_to_oihw(torch.zeros(3, 3, 8, 1)).shape == (8, 1, 3, 3)
    weight = torch.arange(2 * 3 * 4.0).reshape(1, 2, 3, 4)  # TFLite [1, H, W, C]
    assert torch.equal(depthwise_1hwc_to_oihw(weight)[2, 0], weight[0, :, :, 2])


def test_an_identity_batch_norm_adds_the_folded_bias():
    norm = nn.BatchNorm2d(3, eps=1e-3).eval()
    bias = torch.tensor([0.5, -1.0, 2.0])
    identity_batchnorm_with_bias_(norm, bias)
    x = torch.randn(2, 3, 4, 4)
    assert torch.allclose(norm(x), x + bias.view(1, 3, 1, 1), atol=1e-6)
