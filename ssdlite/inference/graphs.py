"""The post-processing graph, exported from its PyTorch definition (`Postprocessor.graph`), and a
network's graph with it appended: what onnxruntime and OpenVINO run (`ssdlite.inference.runtimes`)
and what `tools/export.py --nms` writes."""

import io
import warnings
from pathlib import Path

import onnx
import torch
from torch import Tensor, nn

from ssdlite.config import ModelConfig
from ssdlite.model.build import build_anchors, build_postprocessor
from ssdlite.model.detector import SSDLite
from ssdlite.model.postprocess import Limits, Outputs, Postprocessor

OPSET = 17
LIMIT_NAMES = Limits._fields  # inputs after the network's "images"
OUTPUT_NAMES = Outputs._fields  # of a graph with post-processing


class PostprocessingGraph(nn.Module):
    """`Postprocessor.graph` as a module: (cls_logits, bbox_regression, *limits) -> `Outputs`."""

    def __init__(self, postprocessor: Postprocessor, anchors: Tensor, image_size: tuple[int, int]):
        super().__init__()
        self.postprocessor, self.image_size = postprocessor, tuple(image_size)
        self.register_buffer("anchors", anchors)

    def forward(self, cls_logits: Tensor, bbox_regression: Tensor, *limits: Tensor) -> Outputs:
        return self.postprocessor.graph(cls_logits, bbox_regression, self.anchors, self.image_size, Limits(*limits))


def postprocessing_onnx(
    postprocessor: Postprocessor, anchors: Tensor, image_size: tuple[int, int], num_classes: int
) -> onnx.ModelProto:
    """The ONNX graph of `PostprocessingGraph` for `num_classes` columns (with background), any batch size."""
    num_anchors = len(anchors)
    example = (
        torch.zeros(2, num_anchors, num_classes),
        torch.zeros(2, num_anchors, 4),
        *postprocessor.limits(num_classes - 1),
    )
    dynamic_axes = {name: {0: "batch"} for name in (*SSDLite.OUTPUT_NAMES, *OUTPUT_NAMES[:3])} | {"kept": {0: "kept"}}
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the tracer warns that Python numbers freeze: the settings do, as they should
        warnings.simplefilter("ignore")
        torch.onnx.export(
            PostprocessingGraph(postprocessor, anchors.cpu().float(), image_size),
            example,
            buffer,
            input_names=[*SSDLite.OUTPUT_NAMES, *LIMIT_NAMES],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return onnx.load_from_string(buffer.getvalue())


def with_postprocessing(network: onnx.ModelProto, postprocessing: onnx.ModelProto) -> onnx.ModelProto:
    """`network` (raw outputs) feeding `postprocessing` (`postprocessing_onnx`): one graph that takes the
    images and the limits and gives `Outputs`; `network`'s metadata kept."""
    postprocessing = onnx.compose.add_prefix(postprocessing, "postprocessing/", rename_inputs=False, rename_outputs=False)
    postprocessing.ir_version = network.ir_version  # a quantised network may carry another; the ops are the same
    network_opsets = {opset.domain: opset.version for opset in network.opset_import}
    del postprocessing.opset_import[:]
    postprocessing.opset_import.extend(onnx.helper.make_opsetid(d, v) for d, v in network_opsets.items() if d in ("", "ai.onnx"))
    joined = onnx.compose.merge_models(network, postprocessing, io_map=[(name, name) for name in SSDLite.OUTPUT_NAMES])
    del joined.metadata_props[:]
    joined.metadata_props.extend(network.metadata_props)
    return joined


def is_raw(outputs: tuple[str, ...], path: str | Path) -> bool:
    """Whether a file with these output names holds the raw network (True) or has the post-processing
    appended (False); ValueError naming the file for any other graph."""
    if outputs not in (SSDLite.OUTPUT_NAMES, OUTPUT_NAMES):
        raise ValueError(f"{path} has outputs {', '.join(outputs)}, not ssdlite's: export the checkpoint again")
    return outputs == SSDLite.OUTPUT_NAMES


def config_postprocessing_onnx(cfg: ModelConfig, num_classes: int) -> onnx.ModelProto:
    """`postprocessing_onnx` of an exported file's model config, its post-processor and anchors built as
    `build_model` builds them, for `num_classes` columns (with background)."""
    post = build_postprocessor(cfg)
    return postprocessing_onnx(post, build_anchors(cfg), cfg.image_size, num_classes)
