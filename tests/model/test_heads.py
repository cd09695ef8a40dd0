import torch
from torch import nn
from torchvision.models.detection.ssdlite import SSDLiteHead

from ssdlite.config import Config, ModelConfig, from_dict, to_dict
from ssdlite.model.build import build_model
from ssdlite.model.heads import SSDConvHead


def test_the_default_head_is_still_ssdlite():
    assert ModelConfig().head == "ssdlite"
    model = build_model(ModelConfig(), num_classes=3)
    assert isinstance(model.head, SSDLiteHead)
    assert not any(isinstance(m, SSDConvHead) for m in model.modules())
    # SSDLite's extra blocks: 1x1, 3x3 depthwise stride 2, 1x1.
    assert [conv.groups > 1 for conv in model.backbone.extra[0].modules() if isinstance(conv, nn.Conv2d)] == [False, True, False]


def test_the_ssd_head_has_regular_extra_convs_and_one_1x1_conv_per_predictor():
    model = build_model(ModelConfig(head="ssd"), num_classes=24)
    assert isinstance(model.head, SSDConvHead)
    assert model.backbone.out_channels == [576, 1280, 512, 256, 256, 128]
    extra_convs = [
        [(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.groups) for c in block.modules() if isinstance(c, nn.Conv2d)]
        for block in model.backbone.extra
    ]
    assert extra_convs[0] == [(1280, 256, (1, 1), (1, 1), 1), (256, 512, (3, 3), (2, 2), 1)]
    assert extra_convs[3] == [(256, 64, (1, 1), (1, 1), 1), (64, 128, (3, 3), (2, 2), 1)]
    cls_convs = [level[-1] for level in model.head.classification_head.module_list]
    box_convs = [level[-1] for level in model.head.regression_head.module_list]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in cls_convs][:2] == [
        (576, 3 * 24, (1, 1)),
        (1280, 6 * 24, (1, 1)),
    ]
    assert [c.out_channels for c in box_convs] == [3 * 4] + [6 * 4] * 5
    assert all(c.bias is not None for c in cls_convs + box_convs)


def test_the_ssd_head_outputs_one_row_per_anchor():
    model = build_model(ModelConfig(head="ssd"), num_classes=24).eval()
    cls_logits, bbox_regression = model(torch.zeros(2, 3, 300, 300))
    assert cls_logits.shape == (2, 1917, 24)
    assert bbox_regression.shape == (2, 1917, 4)
    assert model.anchors.shape == (1917, 4)


def test_a_config_saved_before_the_head_setting_loads_as_ssdlite():
    saved = to_dict(Config())
    del saved["model"]["head"], saved["model"]["head_kernel_size"]
    assert from_dict(saved).model.head == "ssdlite"
