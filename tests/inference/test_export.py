"""ONNX export of small untrained models: the raw graph is the model's forward, and
onnxruntime's `Detector` rebuilds anchors and post-processing from the config alone."""

import onnx
import pytest
import torch

from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, Config, ModelConfig
from ssdlite.inference import Detector
from ssdlite.inference.export import check_onnx, export_onnx
from ssdlite.model.build import build_model

CLASSES = ("car", "person")


@pytest.mark.parametrize(
    "settings",
    [{}, {"stride8_map": True}, {"cls_loss": "focal"}, {"image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD}],
    ids=["paper", "stride8", "focal", "imagenet"],
)
def test_onnx_detector_has_the_anchors_and_post_processing_of_the_model(tmp_path, settings):
    config = Config(model=ModelConfig(image_size=(96, 160), width_mult=0.35, **settings))
    torch.manual_seed(0)
    model = build_model(config.model, len(CLASSES) + 1).eval()
    path = export_onnx(model, config, CLASSES, tmp_path / "model.onnx")

    report = check_onnx(model, path, torch.rand(1, 3, 96, 160), nms=False)  # the graph normalises as the model does
    assert report["cls_logits"] < 1e-4 and report["bbox_regression"] < 1e-4
    detector = Detector.load(path, backend="onnxruntime")
    assert detector.postprocessor.settings == model.postprocessor.settings
    assert detector.postprocessor.score_activation == model.postprocessor.score_activation
    assert detector.postprocessor.box_coder.weights == model.box_coder.weights
    assert detector.class_names == CLASSES and detector.image_size == (96, 160)
    images, sizes = torch.rand(2, 3, 96, 160), [(96, 160), (192, 320)]
    with torch.no_grad():
        expected = model.predict(images, sizes)
    # the boxes land where the model's do: the same anchors (the stride-8 map's too) and decoding
    for want, got in zip(expected, detector.predict_tensors(images, sizes)):
        assert len(want["scores"]) > 10 and torch.equal(want["labels"], got["labels"])
        torch.testing.assert_close(got["boxes"], want["boxes"], atol=1e-3, rtol=0)
        torch.testing.assert_close(got["scores"], want["scores"], atol=1e-4, rtol=0)


def test_onnx_metadata_is_the_config_and_the_class_names(tmp_path):
    config = Config(model=ModelConfig(image_size=(96, 160), width_mult=0.35))
    path = export_onnx(build_model(config.model, len(CLASSES) + 1), config, CLASSES, tmp_path / "model.onnx")
    assert {prop.key for prop in onnx.load(str(path)).metadata_props} == {"ssdlite_config", "ssdlite_class_names"}
