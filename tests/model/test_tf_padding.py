import torch
from torch import nn

from ssdlite.config import ModelConfig
from ssdlite.model.build import build_model
from ssdlite.model.tf_padding import TFSameConv2d, use_tf_same_padding


def test_an_even_input_is_padded_at_the_bottom_and_right_only():
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
    nn.init.ones_(conv.weight)
    use_tf_same_padding(conv)
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    # TF "SAME", 4 -> 2: no padding above or left, one row and column of zeros below and right.
    # Window of output (0, 0): rows 0-2, cols 0-2; of (1, 1): rows 2-3, cols 2-3 plus the zeros.
    top_row = [0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10, 2 + 3 + 6 + 7 + 10 + 11]
    bottom_row = [8 + 9 + 10 + 12 + 13 + 14, 10 + 11 + 14 + 15]
    expected = torch.tensor([[[top_row, bottom_row]]])
    assert torch.equal(conv(image), expected.float())


def test_an_odd_input_is_padded_on_both_sides_as_pytorch_does():
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    image = torch.randn(1, 2, 5, 7)
    expected = conv(image)
    use_tf_same_padding(conv)
    assert torch.allclose(conv(image), expected, atol=1e-6)


def test_tf_same_padding_keeps_the_weights_and_grids_of_the_paper_model():
    symmetric = build_model(ModelConfig(), num_classes=3)
    tf_same = build_model(ModelConfig(conv_padding="tf_same"), num_classes=3)
    assert symmetric.state_dict().keys() == tf_same.state_dict().keys()
    assert tf_same.grid_sizes == symmetric.grid_sizes == [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
    strided = [m for m in tf_same.backbone.modules() if isinstance(m, nn.Conv2d) and max(m.stride) > 1]
    assert strided and all(isinstance(m, TFSameConv2d) for m in strided)
    assert not any(isinstance(m, TFSameConv2d) for m in symmetric.modules())
