"""ONNX export of small untrained models: the raw graph is the model's forward, and
onnxruntime's `Detector` rebuilds anchors and post-processing from the config alone."""

import dataclasses
import json

import onnx
import pytest
import torch

from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, Config, LossConfig, ModelConfig, PostprocessConfig, from_dict
from ssdlite.inference import Detector
from ssdlite.inference.export import check_onnx, export_onnx
from ssdlite.inference.graphs import LIMIT_NAMES, postprocessing_onnx
from ssdlite.inference.metadata import onnx_metadata
from ssdlite.model.build import build_anchors, build_model, build_postprocessor
from ssdlite.model.postprocess import Outputs, detections

CLASSES = ("car", "person")


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"stride8_map": True},
        {"loss": LossConfig(cls_loss="focal")},
        {"image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD},
        # the layout of the converted TF detectors: regular-convolution SSD head, TF's "SAME" padding
        {"head": "ssd", "conv_padding": "tf_same", "loss": LossConfig(cls_loss="focal")},
    ],
    ids=["paper", "stride8", "focal", "imagenet", "tf_ssd"],
)
def test_onnx_detector_has_the_anchors_and_post_processing_of_the_model(tmp_path, settings):
    config = Config(model=ModelConfig(image_size=(96, 160), width_mult=0.35, **settings))
    torch.manual_seed(0)
    model = build_model(config.model, len(CLASSES) + 1).eval()
    path = export_onnx(model, config, CLASSES, tmp_path / "model.onnx", dynamic_batch=True)

    report = check_onnx(model, path, torch.rand(1, 3, 96, 160), nms=False)  # the graph normalises as the model does
    assert report["cls_logits"] < 1e-4 and report["bbox_regression"] < 1e-4
    detector = Detector.load(path, backend="onnxruntime")
    assert detector.postprocessor.settings == model.postprocessor.settings
    assert detector.postprocessor.score_activation == model.postprocessor.score_activation
    assert detector.postprocessor.box_coder.weights == model.box_coder.weights
    assert detector.class_names == CLASSES and detector.image_size == (96, 160)
    # the runtimes append post-processing with the anchors of the config in the file (the stride-8 map's too)
    assert torch.equal(build_anchors(from_dict(json.loads(onnx_metadata(path)["ssdlite_config"])).model), model.anchors)


def test_onnx_metadata_is_the_config_and_the_class_names(tmp_path):
    config = Config(model=ModelConfig(image_size=(96, 160), width_mult=0.35))
    path = export_onnx(build_model(config.model, len(CLASSES) + 1), config, CLASSES, tmp_path / "model.onnx")
    assert {prop.key for prop in onnx.load(str(path)).metadata_props} == {"ssdlite_config", "ssdlite_class_names"}


def test_the_exported_postprocessing_graph_keeps_what_pytorch_keeps():
    """`postprocessing_onnx` against `Postprocessor.__call__`, on random outputs of three images at once,
    with the limits as inputs: the per-image cap, a class mask and a threshold change per call."""
    import onnxruntime

    config = ModelConfig(
        image_size=(96, 160),
        loss=LossConfig(cls_loss="softmax"),
        postprocess=PostprocessConfig(topk_per_class=40, max_candidates_per_image=100, max_detections_per_image=30),
    )
    post = build_postprocessor(config)
    generator = torch.Generator().manual_seed(0)
    top_left = torch.rand(500, 2, generator=generator) * torch.tensor([140.0, 80.0])
    anchors = torch.cat([top_left, top_left + 5 + torch.rand(500, 2, generator=generator) * 40], dim=1)
    cls_logits, bbox_regression = torch.randn(3, 500, 5, generator=generator) * 3, torch.randn(3, 500, 4, generator=generator)
    session = onnxruntime.InferenceSession(postprocessing_onnx(post, anchors, (96, 160), 5).SerializeToString())
    for masked in (post, dataclasses.replace(post, labels_to_keep=frozenset({2, 4}))):
        for settings in ({}, {"score_threshold": 0.3, "max_detections_per_image": 5}):
            changed = dataclasses.replace(masked, settings=dataclasses.replace(config.postprocess, **settings))
            inputs = dict(zip(["cls_logits", "bbox_regression", *LIMIT_NAMES], (cls_logits, bbox_regression, *changed.limits(4))))
            got = detections(
                Outputs(*map(torch.from_numpy, session.run(None, {k: v.numpy() for k, v in inputs.items()}))), (96, 160), None
            )
            for want, have in zip(changed(cls_logits, bbox_regression, anchors, (96, 160)), got):
                assert len(want["labels"]) > 0 and torch.equal(want["labels"], have["labels"])
                torch.testing.assert_close(have["boxes"], want["boxes"], atol=1e-4, rtol=0)
                torch.testing.assert_close(have["scores"], want["scores"], atol=1e-6, rtol=0)
                assert set(have["labels"].tolist()) <= (changed.labels_to_keep or {1, 2, 3, 4})
                assert len(have["labels"]) <= changed.settings.max_detections_per_image
