"""An exported OpenVINO IR checked against PyTorch: its raw outputs, and the post-processing appended
to it (`ssdlite.inference.runtimes.openvino`) against `Postprocessor.graph`."""

import dataclasses
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ssdlite.inference.graphs import postprocessing_onnx
from ssdlite.inference.runtimes.openvino import OpenVINORuntime, read_model, with_postprocessing
from ssdlite.model.detector import SSDLite
from ssdlite.model.mode import eval_mode
from ssdlite.model.postprocess import Outputs, detections


def check_openvino(model: SSDLite, xml_path: str | Path, images: Tensor, atol: float = 1e-4) -> dict[str, float]:
    """The largest |PyTorch - OpenVINO| on `images` of each raw output, of the candidates' scores and
    boxes (relative to the input size) that the appended post-processing gives, and of the "detections"
    (boxes, relative) its NMS keeps of those candidates against what PyTorch's `Postprocessor.keep`
    keeps of them, every candidate passing; AssertionError above `atol`."""
    ir = read_model(xml_path)[0]
    post, anchors, image_size = model.postprocessor, model.anchors, model.image_size
    every_candidate = dataclasses.replace(post, settings=dataclasses.replace(post.settings, score_threshold=0.0))
    limits = every_candidate.limits(model.num_classes - 1)  # all candidates reach NMS
    with torch.no_grad(), eval_mode(model):
        raw = model(images)
        scores, boxes, labels = post.candidates(*raw, anchors, image_size, limits.class_mask)
        class_scores = post.class_scores(raw[0])  # (B, A, C-1)
        last_in_top_k = class_scores.topk(min(post.settings.topk_per_class, len(anchors)), dim=1).values[:, -1]  # (B, C-1)
    raw_ir = OpenVINORuntime(ir).run(images)  # compiled before the appended model reshapes the shared nodes
    appended = with_postprocessing(ir, postprocessing_onnx(post, anchors, image_size, model.num_classes))
    got = OpenVINORuntime(appended)(images, limits)
    report = {name: _max_difference(want, have) for name, want, have in zip(SSDLite.OUTPUT_NAMES, raw, raw_ir)}
    report["scores"] = _max_difference(scores, got.scores)
    pairs = zip(zip(scores, boxes, labels), zip(got.scores, got.boxes, got.labels), last_in_top_k)  # per image
    report["boxes"] = max(_farthest_twin(want, have, last, atol) for want, have, last in pairs) / max(image_size)
    pytorch_nms = Outputs(*got[:3], every_candidate.keep(*got[:3], image_size, limits))
    no_cut = torch.full_like(last_in_top_k[0], -float("inf"))  # NMS has no top-k cut
    report["detections"] = 0.0
    for want, have in zip(detections(pytorch_nms, image_size, None), detections(got, image_size, None)):
        if len(want["scores"]) != len(have["scores"]):
            raise AssertionError(f"detections: OpenVINO's NMS keeps {len(have['scores'])}, PyTorch's {len(want['scores'])}")
        pair = [(found["scores"], found["boxes"], found["labels"]) for found in (want, have)]
        report["detections"] = max(report["detections"], _farthest_twin(*pair, no_cut, atol) / max(image_size))
    for name, difference in report.items():
        if difference > atol:
            raise AssertionError(f"{name}: OpenVINO differs from PyTorch by {difference:.2e} (allowed {atol:.0e})")
    return report


def _farthest_twin(
    want: tuple[Tensor, Tensor, Tensor], got: tuple[Tensor, Tensor, Tensor], last_in_top_k: Tensor, atol: float
) -> float:
    """Of one image's candidates (scores [N], boxes [N, 4], labels [N]) from PyTorch (`want`) and OpenVINO
    (`got`): the largest box difference from a PyTorch candidate to its nearest OpenVINO twin (same label,
    score within `atol`); inf if one has none. Where scores (nearly) tie the runtimes may order the
    candidates differently, and a candidate within `atol` of a cut (the lowest candidate, or the last
    of its class's top-k, `last_in_top_k` Tensor[C-1]) may be another in the other runtime: not compared."""
    (scores, boxes, labels), (scores_ir, boxes_ir, labels_ir) = want, got
    twins = (labels[:, None] == labels_ir) & ((scores[:, None] - scores_ir).abs() <= atol)  # (N, N)
    distances = (boxes[:, None] - boxes_ir).abs().amax(dim=-1).masked_fill(~twins, float("inf"))  # (N, N)
    inside = (scores > scores.min() + atol) & (scores > last_in_top_k[labels - 1] + atol)  # cannot be displaced
    nearest = distances.amin(dim=1)[inside]
    return float(nearest.max()) if len(nearest) else 0.0


def _max_difference(expected: Tensor, got: Tensor) -> float:
    return float(np.abs(expected.double().numpy() - got.double().numpy()).max(initial=0.0))
