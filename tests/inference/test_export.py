"""ONNX export of small untrained models: the raw graph is the model's forward, and
`Detector.from_onnx` rebuilds anchors and post-processing from the config alone."""

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
    detector = Detector.from_onnx(path)
    assert torch.equal(detector.anchors, model.anchors)  # the stride-8 map's anchors too
    # the same post-processing: the same detections from the same network outputs. Spread scores, mostly
    # background: every setting (score threshold, top-k, candidates, NMS IoU, detection cap) changes them.
    cls_logits = torch.randn(2, len(model.anchors), len(CLASSES) + 1) * 4 + torch.tensor([10.0, 0, 0])
    outputs = cls_logits, torch.randn(2, len(model.anchors), 4)
    sizes = [(120, 200), (96, 160)]
    want = model.postprocessor(*outputs, model.anchors, (96, 160), sizes)
    for got, expected in zip(detector.postprocessor(*outputs, detector.anchors, detector.image_size, sizes), want):
        assert all(torch.equal(got[key], expected[key]) for key in ("boxes", "scores", "labels")), settings
    assert detector.class_names == CLASSES and detector.image_size == (96, 160)


def test_onnx_metadata_is_the_config_and_the_class_names(tmp_path):
    config = Config(model=ModelConfig(image_size=(96, 160), width_mult=0.35))
    path = export_onnx(build_model(config.model, len(CLASSES) + 1), config, CLASSES, tmp_path / "model.onnx")
    assert {prop.key for prop in onnx.load(str(path)).metadata_props} == {"ssdlite_config", "ssdlite_class_names"}
