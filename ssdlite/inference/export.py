"""ONNX export, checked against PyTorch on the same inputs.

Two graphs, both traced from the model itself: its raw `forward` (cls_logits,
bbox_regression; `Detector.from_onnx` rebuilds anchors and post-processing
from the config in the file's metadata), or `predict` for one image, with the
model's own decoding, scores and NMS inside (outputs boxes in input pixels,
scores, labels).
"""

import json
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor, nn

from ssdlite.config import Config, to_dict
from ssdlite.errors import InputError
from ssdlite.model.detector import SSDLite
from ssdlite.model.mode import eval_mode

OPSET = 17
RAW_OUTPUTS = SSDLite.OUTPUT_NAMES  # the model's forward
NMS_OUTPUTS = ("boxes", "scores", "labels")


class OneImagePredict(nn.Module):
    """`model.predict` on a batch of one image, as a module the exporter can trace."""

    def __init__(self, model: SSDLite):
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        (detection,) = self.model.predict(images)
        return detection["boxes"], detection["scores"], detection["labels"]


def export_onnx(
    model: SSDLite, config: Config, class_names: tuple[str, ...], path: str | Path, nms: bool = False, dynamic_batch: bool = False
) -> Path:
    """Write `model` as ONNX, with its config and class names in the metadata.

    Args:
        nms: the graph of `predict` (decoding, scores, NMS) for one image, instead of
            the raw outputs.
        dynamic_batch: a dynamic batch axis (raw outputs only).
    """
    if nms and dynamic_batch:
        raise InputError("the graph with NMS takes one image at a time; drop --dynamic-batch or --nms")
    example = torch.zeros(1, 3, *model.image_size)
    output_names = NMS_OUTPUTS if nms else RAW_OUTPUTS
    dynamic_axes = {name: {0: "batch"} for name in ("images", *RAW_OUTPUTS)} if dynamic_batch else None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), eval_mode(model):
        torch.onnx.export(
            OneImagePredict(model) if nms else model,
            (example,),
            str(path),
            input_names=["images"],
            output_names=list(output_names),
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            dynamo=False,
        )
    graph = onnx.load(str(path))
    metadata = {"ssdlite_config": json.dumps(to_dict(config)), "ssdlite_class_names": json.dumps(list(class_names))}
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
            expected = OneImagePredict(model)(images)
            names, tolerances = NMS_OUTPUTS, (1e-3, atol, 0)
        else:
            expected = model(images)
            names, tolerances = RAW_OUTPUTS, (atol, atol)
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
