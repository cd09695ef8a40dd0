"""OpenVINO IR: the exported ONNX graph converted for OpenVINO's CPU runtime, and compiled.

The IR (`.xml` + `.bin`) holds the raw outputs (cls_logits, bbox_regression)
with a dynamic batch axis, and the same metadata as the ONNX file (config and
class names) in its runtime info under "ssdlite". For the `Detector` the model
is compiled with post-processing appended: the candidate selection (scores,
per-class top-k and the decoded boxes of the best, `Postprocessor.candidates`,
converted from PyTorch), then the score threshold and class-wise NMS (OpenVINO's
NonMaxSuppression). OpenVINO runs it all in its own kernels; what is left is
picking the kept candidates and scaling their boxes. Quantisation
(`ssdlite.inference.quantize`) sees the raw IR only, so the appended part stays
floating point.

`openvino` is imported inside the functions, so the rest of ssdlite works
without it.
"""

import copy
import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor

from ssdlite.config import Config, from_dict
from ssdlite.errors import InputError
from ssdlite.inference.postprocessing_network import kept_detections, postprocessing_inputs
from ssdlite.model.detector import SSDLite
from ssdlite.model.mode import eval_mode
from ssdlite.model.postprocess import Postprocessor

METADATA_KEYS = ("ssdlite_config", "ssdlite_class_names")  # the ONNX file's metadata_props


def export_openvino(onnx_path: str | Path, xml_path: str | Path) -> Path:
    """Convert an ONNX file of `ssdlite.inference.export.export_onnx` (raw outputs) to IR, metadata included."""
    import openvino

    metadata = onnx_metadata(onnx_path)
    model = openvino.convert_model(str(onnx_path))
    for key in METADATA_KEYS:
        model.set_rt_info(metadata[key], ["ssdlite", key])
    xml_path = Path(xml_path)
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    openvino.save_model(model, str(xml_path), compress_to_fp16=False)
    return xml_path


def onnx_metadata(path: str | Path) -> dict[str, str]:
    """The metadata_props of an ONNX file (its weights are not read)."""
    return {prop.key: prop.value for prop in onnx.load(str(path), load_external_data=False).metadata_props}


def read_metadata(model, path: str | Path) -> tuple[Config, tuple[str, ...]]:
    """(config, class names) of an `openvino.Model` read from `path`: an IR of
    `export_openvino`, or the ONNX file of `export_onnx` itself."""
    if Path(path).suffix.lower() == ".onnx":
        metadata = onnx_metadata(path)
    elif model.has_rt_info(["ssdlite", METADATA_KEYS[0]]):
        metadata = {key: model.get_rt_info(["ssdlite", key]).astype(str) for key in METADATA_KEYS}
    else:
        metadata = {}
    if any(key not in metadata for key in METADATA_KEYS):
        raise InputError(
            f"{path} has no ssdlite metadata (config, class names): it was not written by "
            "tools/export.py; export the checkpoint again"
        )
    return from_dict(json.loads(metadata["ssdlite_config"])), tuple(json.loads(metadata["ssdlite_class_names"]))


class CompiledIR:
    """An OpenVINO model compiled for the CPU, called with its inputs (images Tensor[B, 3, H, W] first)
    -> its outputs as tensors: (cls_logits Tensor[B, A, C], bbox_regression Tensor[B, A, 4]) of an IR,
    or what `with_candidates` or `with_postprocessing` append (which take more inputs).

    The batch axis is dynamic; each batch size met is compiled once with that
    static shape, which OpenVINO's CPU kernels run faster than a dynamic one.
    Latency mode with `threads` inference threads (default: torch's), fp32
    arithmetic (CPUs with bf16 would otherwise switch precision silently).
    """

    def __init__(self, model, threads: int | None = None):
        import openvino

        self.core, self.model = openvino.Core(), model
        self.properties = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads or torch.get_num_threads(),
            "INFERENCE_PRECISION_HINT": "f32",
        }
        self.compiled = {}  # batch size -> compiled model

    def __call__(self, images: Tensor, *inputs: Tensor | np.ndarray) -> tuple[Tensor, ...]:
        batch = images.shape[0]
        if batch not in self.compiled:
            self.model.reshape({self.model.inputs[0]: [batch, *images.shape[1:]]})
            self.compiled[batch] = self.core.compile_model(self.model, "CPU", self.properties)
        outputs = self.compiled[batch]([images.numpy(), *(np.asarray(value) for value in inputs)])  # copies out
        return tuple(torch.from_numpy(outputs[index]) for index in range(len(outputs)))


def read_ir(path: str | Path) -> tuple[object, Config, tuple[str, ...]]:
    """An IR (or a raw-output ONNX file) as an `openvino.Model`, with its (config, class names)."""
    import openvino

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    try:
        model = openvino.Core().read_model(str(path))
    except RuntimeError as error:
        raise InputError(f"{path} could not be read by OpenVINO: {error}") from error
    config, class_names = read_metadata(model, path)
    if tuple(output.get_any_name() for output in model.outputs) != SSDLite.OUTPUT_NAMES:
        raise InputError(f"{path} does not have the raw outputs {SSDLite.OUTPUT_NAMES}; export it again without --nms")
    return model, config, class_names


def with_candidates(model, postprocessor: Postprocessor, anchors: Tensor, image_size: tuple[int, int]):
    """`model` (an IR's raw outputs) followed by `postprocessor.candidates`: a model that takes the images and
    a "class_mask" Tensor[C-1] (`Postprocessor.class_mask`), and outputs the candidates "scores" Tensor[B, N],
    "boxes" Tensor[B, N, 4] (xyxy input pixels, clipped) and "labels" Tensor[B, N]. It shares `model`'s
    nodes: compile `model` before, not after, reshaping this one."""
    import openvino

    num_anchors, num_columns = len(anchors), model.outputs[0].get_partial_shape()[2].get_length()  # OpenVINO may leave A dynamic

    class Candidates(torch.nn.Module):
        def forward(self, cls_logits: Tensor, bbox_regression: Tensor, class_mask: Tensor) -> tuple[Tensor, ...]:
            return postprocessor.candidates(cls_logits, bbox_regression, anchors, image_size, class_mask)

    example = (torch.zeros(1, num_anchors, num_columns), torch.zeros(1, num_anchors, 4), torch.ones(num_columns - 1))
    shapes = [[-1, num_anchors, num_columns], [-1, num_anchors, 4], [num_columns - 1]]
    with warnings.catch_warnings():  # OpenVINO traces: it warns that shapes freeze, as they should for one model
        warnings.simplefilter("ignore")
        candidates = openvino.convert_model(Candidates(), example_input=example, input=shapes)
    raw_inputs, class_mask = candidates.get_parameters()[:2], candidates.get_parameters()[2]
    for parameter, raw_result in zip(raw_inputs, model.get_results()):
        for consumer in parameter.output(0).get_target_inputs():
            consumer.replace_source_output(raw_result.input_value(0))  # what feeds the result, not the result
    class_mask.output(0).get_tensor().set_names({"class_mask"})
    for output, name in zip(candidates.outputs, ("scores", "boxes", "labels")):
        output.get_tensor().set_names({name})
    return openvino.Model(candidates.get_results(), [*model.get_parameters(), class_mask], "ssdlite_candidates")


def with_postprocessing(model, postprocessor: Postprocessor, anchors: Tensor, image_size: tuple[int, int]):
    """`with_candidates`, then the score threshold and class-wise NMS in OpenVINO's NonMaxSuppression, with
    `batched_nms`'s class offsets, which keep what `Postprocessor.select` keeps. Inputs: those of
    `with_candidates`, then "score_threshold" and "nms_iou_threshold" (float32) and "max_detections" (int64),
    scalars. Outputs: the candidates, then "kept" Tensor[M, 3] int64 rows (image, 0, candidate) of the kept
    candidates, each image's best first. It shares `model`'s nodes, as `with_candidates` does."""
    import openvino
    import openvino.opset13 as ops

    candidates = with_candidates(model, postprocessor, anchors, image_size)
    scores, boxes, labels = (result.input_value(0) for result in candidates.get_results())
    score_threshold = ops.parameter([], np.float32, name="score_threshold")
    iou_threshold = ops.parameter([], np.float32, name="nms_iou_threshold")
    max_detections = ops.parameter([], np.int64, name="max_detections")
    passing = ops.select(ops.greater(scores, score_threshold), scores, np.float32(-1))  # NMS drops scores < 0
    # each class apart from the others, as batched_nms does it: boxes shifted by label x (largest coordinate + 1)
    shift = ops.multiply(ops.convert(labels, np.float32), ops.add(ops.reduce_max(boxes, [0, 1, 2], False), np.float32(1)))
    kept = ops.non_max_suppression(
        ops.add(boxes, ops.unsqueeze(shift, -1)),
        ops.unsqueeze(passing, 1),  # (B, 1, N): one "class" per image, so at most max_detections each
        max_detections,
        iou_threshold,
        np.float32(0),
        sort_result_descending=False,  # per image, best first
    ).output(0)
    kept.get_tensor().set_names({"kept"})
    results = [*candidates.get_results(), ops.result(kept)]
    parameters = [*candidates.get_parameters(), score_threshold, iou_threshold, max_detections]
    return openvino.Model(results, parameters, "ssdlite_postprocessing")


def check_openvino(model: SSDLite, xml_path: str | Path, images: Tensor, atol: float = 1e-4) -> dict[str, float]:
    """The largest |PyTorch - OpenVINO| on `images` of each raw output, of the candidates' scores and
    boxes (relative to the input size) that `with_postprocessing` appends, and of the "detections" (boxes,
    relative) its NMS keeps of those candidates against what PyTorch's `Postprocessor.select` keeps of
    them, every candidate passing; AssertionError above `atol`."""
    ir = read_ir(xml_path)[0]
    post, anchors, image_size = model.postprocessor, model.anchors, model.image_size
    every_candidate = copy.copy(post)
    every_candidate.score_threshold = 0.0  # all candidates reach NMS
    inputs = postprocessing_inputs(every_candidate, model.num_classes - 1)
    with torch.no_grad(), eval_mode(model):
        raw = model(images)
        scores, boxes, labels = post.candidates(*raw, anchors, image_size, inputs[0])
        class_scores = post.class_scores(raw[0])  # (B, A, C-1)
        last_in_top_k = class_scores.topk(min(post.topk_per_class, len(anchors)), dim=1).values[:, -1]  # (B, C-1)
    raw_ir = CompiledIR(ir)(images)
    *candidates_ir, kept = CompiledIR(with_postprocessing(ir, post, anchors, image_size))(images, *inputs)
    report = {name: _max_difference(want, got) for name, want, got in zip(SSDLite.OUTPUT_NAMES, raw, raw_ir)}
    report["scores"] = _max_difference(scores, candidates_ir[0])
    pairs = zip(zip(scores, boxes, labels), zip(*candidates_ir), last_in_top_k)  # per image
    report["boxes"] = max(_farthest_twin(want, got, last, atol) for want, got, last in pairs) / max(image_size)
    no_cut = torch.full_like(last_in_top_k[0], -float("inf"))  # NMS has no top-k cut
    report["detections"] = 0.0
    for want, got in zip(
        every_candidate.select(*candidates_ir, image_size), kept_detections(*candidates_ir, kept, image_size, None)
    ):
        if len(want["scores"]) != len(got["scores"]):
            raise AssertionError(f"detections: OpenVINO's NMS keeps {len(got['scores'])}, PyTorch's {len(want['scores'])}")
        pair = [(detections["scores"], detections["boxes"], detections["labels"]) for detections in (want, got)]
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
