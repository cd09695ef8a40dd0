import logging

import pytest
import torch
from torchvision.models import mobilenet_v2

from ssdlite.config import ConfigError, ModelConfig
from ssdlite.model.build import build_backbone


def test_feature_maps_channels_and_strides():
    backbone = build_backbone(ModelConfig()).eval()
    maps = backbone(torch.zeros(1, 3, 300, 300))
    assert [m.shape[1] for m in maps] == [576, 1280, 512, 256, 256, 128] == backbone.out_channels
    assert [m.shape[-1] for m in maps] == [19, 10, 5, 3, 2, 1]


def test_width_multiplier_scales_every_map():
    backbone = build_backbone(ModelConfig(width_mult=0.5))
    assert backbone.out_channels == [288, 1280, 256, 128, 128, 64]


def test_bn_settings_of_the_tf_reference():
    bns = [m for m in build_backbone(ModelConfig()).modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert {(m.eps, m.momentum) for m in bns} == {(1e-3, 0.03)}


def test_loads_a_torchvision_state_dict(tmp_path, caplog):
    torch.manual_seed(0)
    reference = mobilenet_v2()
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(reference.state_dict(), path)
    with caplog.at_level(logging.INFO, logger="ssdlite.model.backbone"):
        backbone = build_backbone(ModelConfig(pretrained_backbone=str(path)))
    assert "loaded 314 tensors" in caplog.text
    first_conv = backbone.stride16[0][0].weight
    assert torch.equal(first_conv, reference.features[0][0].weight)
    assert torch.equal(backbone.stride32[-1][0].weight, reference.features[18][0].weight)


def test_missing_keys_are_reported(tmp_path, caplog):
    state_dict = mobilenet_v2().state_dict()
    del state_dict["features.18.0.weight"]
    path = tmp_path / "partial.pth"
    torch.save(state_dict, path)
    with caplog.at_level(logging.WARNING, logger="ssdlite.model.backbone"):
        build_backbone(ModelConfig(pretrained_backbone=str(path)))
    assert "1 missing keys" in caplog.text and "features.18.0.weight" in caplog.text


def test_wrong_weights_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a file nor a torchvision weights name"):
        build_backbone(ModelConfig(pretrained_backbone=str(tmp_path / "nope.pth")))
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="not a torchvision MobileNetV2 state_dict"):
        build_backbone(ModelConfig(pretrained_backbone=str(path)))
    wide = tmp_path / "wide.pth"
    torch.save(mobilenet_v2(width_mult=1.4).state_dict(), wide)
    with pytest.raises(ValueError, match="width_mult"):
        build_backbone(ModelConfig(pretrained_backbone=str(wide)))


def test_the_stride8_map_is_the_expansion_output_of_the_block_into_stride16():
    backbone = build_backbone(ModelConfig(stride8_map=True)).eval()
    maps = backbone(torch.zeros(1, 3, 300, 300))
    assert [m.shape[1] for m in maps] == [192, 576, 1280, 512, 256, 256, 128] == backbone.out_channels
    assert [m.shape[-1] for m in maps] == [38, 19, 10, 5, 3, 2, 1]
    # the same tensors under the same names as without the map: checkpoints stay compatible
    assert build_backbone(ModelConfig()).state_dict().keys() == backbone.state_dict().keys()
    # and the other maps are unchanged
    plain = build_backbone(ModelConfig()).eval()
    plain.load_state_dict(backbone.state_dict())
    for with_map, without in zip(maps[1:], plain(torch.zeros(1, 3, 300, 300))):
        assert torch.equal(with_map, without)


def test_frozen_blocks_keep_their_weights_and_statistics_through_training(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(mobilenet_v2().state_dict(), path)
    backbone = build_backbone(ModelConfig(pretrained_backbone=str(path), frozen_backbone_blocks=4)).train()
    frozen, trained = backbone.stride16[:4], backbone.stride16[4:]
    before = {k: v.clone() for k, v in frozen.state_dict().items()}
    stats_before = trained[0].conv[0][1].running_mean.clone()
    sum(m.sum() for m in backbone(torch.rand(2, 3, 96, 96))).backward()
    assert all(p.grad is None and not p.requires_grad for p in frozen.parameters())
    assert all(p.grad is not None for p in trained.parameters())
    assert all(torch.equal(before[k], v) for k, v in frozen.state_dict().items())  # BN statistics too
    assert not torch.equal(stats_before, trained[0].conv[0][1].running_mean)


def test_frozen_blocks_must_end_before_stride_32():
    with pytest.raises(ConfigError, match="frozen_backbone_blocks = 15"):
        build_backbone(ModelConfig(pretrained_backbone=None, frozen_backbone_blocks=15))
