"""ONNX export, checked against PyTorch on the same inputs.

Two graphs: raw outputs (cls_logits, bbox_regression; anchors and settings in
the file's metadata, for `Detector.from_onnx`), or with decoding, scores and
NMS inside (batch 1; outputs boxes in input pixels, scores, labels).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor, nn
from torchvision.ops import clip_boxes_to_image

from ssdlite.config import Config, to_dict
from ssdlite.model.detector import SSDLite

OPSET = 17


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """`model` in eval mode inside the block; each submodule's own mode restored after it."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


class RawOutputs(nn.Module):
    """The network without input checks, so tracing records only tensor operations."""

    def __init__(self, model: SSDLite):
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        outputs = self.model.head(self.model.backbone(images))
        return outputs["cls_logits"], outputs["bbox_regression"]


class WithPostprocess(nn.Module):
    """Network, decoding, scores, top-k, threshold and class-wise NMS for one image."""

    def __init__(self, model: SSDLite):
        super().__init__()
        self.raw = RawOutputs(model)
        self.model = model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        cls_logits, bbox_regression = self.raw(images)
        post = self.model.postprocessor
        boxes = clip_boxes_to_image(post.box_coder.decode(bbox_regression[0], self.model.anchors), self.model.image_size)
        detections = post.select(boxes, post.class_scores(cls_logits[0]))
        return detections["boxes"], detections["scores"], detections["labels"]


def export_onnx(
    model: SSDLite, config: Config, class_names: tuple[str, ...], path: str | Path, nms: bool = False, dynamic_batch: bool = False
) -> Path:
    """Write `model` as ONNX with its config, class names and grid sizes in the metadata."""
    if nms and dynamic_batch:
        raise ValueError("the graph with NMS takes one image at a time; drop --dynamic-batch or --nms")
    example = torch.zeros(1, 3, *model.image_size)
    module = WithPostprocess(model) if nms else RawOutputs(model)
    output_names = ["boxes", "scores", "labels"] if nms else ["cls_logits", "bbox_regression"]
    dynamic_axes = {"images": {0: "batch"}, "cls_logits": {0: "batch"}, "bbox_regression": {0: "batch"}} if dynamic_batch else None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), eval_mode(model):
        torch.onnx.export(
            module, (example,), str(path), input_names=["images"], output_names=output_names,
            dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False,
        )
    graph = onnx.load(str(path))
    metadata = {
        "ssdlite_config": json.dumps(to_dict(config)),
        "ssdlite_class_names": json.dumps(list(class_names)),
        "ssdlite_grid_sizes": json.dumps([list(g) for g in model.grid_sizes]),
        "ssdlite_score_activation": model.postprocessor.score_activation,
        "ssdlite_nms": "1" if nms else "0",
    }
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, str(path))
    return path


def check_onnx(model: SSDLite, path: str | Path, images: Tensor, nms: bool, atol: float = 1e-4) -> dict[str, float]:
    """Run `images` through PyTorch and onnxruntime and compare.

    Returns:
        The largest absolute differences: "cls_logits" and "bbox_regression" for raw
        graphs, or "boxes" and "scores" (plus "labels_equal", 1 or 0) with NMS.

    Raises:
        AssertionError: when a difference exceeds `atol` (1e-3 for boxes in pixels),
            or the detections differ in number or labels.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad(), eval_mode(model):
        if nms:
            expected = WithPostprocess(model)(images)
            names, tolerances = ("boxes", "scores", "labels"), (1e-3, atol, 0)
        else:
            expected = RawOutputs(model)(images)
            names, tolerances = ("cls_logits", "bbox_regression"), (atol, atol)
    actual = session.run(None, {"images": images.numpy()})
    report = {}
    for name, tolerance, want, got in zip(names, tolerances, expected, actual):
        want = want.numpy()
        if want.shape != got.shape:
            raise AssertionError(f"{name}: ONNX gives shape {got.shape}, PyTorch {want.shape}")
        difference = float(np.abs(want.astype(np.float64) - got.astype(np.float64)).max(initial=0.0))
        if difference > tolerance:
            raise AssertionError(f"{name}: ONNX differs from PyTorch by {difference:.2e} (allowed {tolerance:.0e})")
        report[name] = difference
    return report
