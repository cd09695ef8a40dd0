"""OpenVINO IR: the exported ONNX graph converted for OpenVINO's CPU runtime, and compiled.

The IR (`.xml` + `.bin`) holds the raw outputs (cls_logits, bbox_regression)
with a dynamic batch axis, and the same metadata as the ONNX file (config and
class names) in its runtime info under "ssdlite"; decoding and NMS stay in
PyTorch (`ssdlite.model.postprocess`), as for ONNX.

`openvino` is imported inside the functions, so the rest of ssdlite works
without it.
"""

import json
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor

from ssdlite.config import Config, from_dict
from ssdlite.model.detector import SSDLite
from ssdlite.model.mode import eval_mode

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
        raise ValueError(
            f"{path} has no ssdlite metadata (config, class names): it was not written by "
            "tools/export.py; export the checkpoint again"
        )
    return from_dict(json.loads(metadata["ssdlite_config"])), tuple(json.loads(metadata["ssdlite_class_names"]))


class CompiledIR:
    """An IR compiled for the CPU, called as images Tensor[B, 3, H, W] ->
    (cls_logits Tensor[B, A, C], bbox_regression Tensor[B, A, 4]).

    The IR's batch axis is dynamic; each batch size met is compiled once with
    that static shape, which OpenVINO's CPU kernels run faster than a dynamic one.
    """

    def __init__(self, core, model, properties: dict):
        self.core, self.model, self.properties = core, model, properties
        self.compiled = {}  # batch size -> compiled model

    def __call__(self, images: Tensor) -> tuple[Tensor, Tensor]:
        batch = images.shape[0]
        if batch not in self.compiled:
            self.model.reshape([batch, *images.shape[1:]])
            self.compiled[batch] = self.core.compile_model(self.model, "CPU", self.properties)
        outputs = self.compiled[batch](images.numpy())  # copies out of the request's buffers
        return torch.from_numpy(outputs[0]), torch.from_numpy(outputs[1])


def compile_ir(path: str | Path, threads: int | None = None) -> tuple[CompiledIR, Config, tuple[str, ...]]:
    """Read an IR (or a raw-output ONNX file) for the CPU: (network, config, class names).

    Latency mode with `threads` inference threads (default: torch's), fp32
    arithmetic (CPUs with bf16 would otherwise switch precision silently).
    """
    import openvino

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    core = openvino.Core()
    try:
        model = core.read_model(str(path))
    except RuntimeError as error:
        raise ValueError(f"{path} could not be read by OpenVINO: {error}") from error
    config, class_names = read_metadata(model, path)
    if tuple(output.get_any_name() for output in model.outputs) != SSDLite.OUTPUT_NAMES:
        raise ValueError(f"{path} does not have the raw outputs {SSDLite.OUTPUT_NAMES}; export it again without --nms")
    properties = {
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": threads or torch.get_num_threads(),
        "INFERENCE_PRECISION_HINT": "f32",
    }
    return CompiledIR(core, model, properties), config, class_names


def check_openvino(model: SSDLite, xml_path: str | Path, images: Tensor, atol: float = 1e-4) -> dict[str, float]:
    """The largest |PyTorch - OpenVINO| of each raw output on `images`; AssertionError above `atol`."""
    network, _, _ = compile_ir(xml_path)
    with torch.no_grad(), eval_mode(model):
        expected = model(images)
    report = {}
    for name, want, got in zip(SSDLite.OUTPUT_NAMES, expected, network(images)):
        difference = float(np.abs(want.double().numpy() - got.double().numpy()).max(initial=0.0))
        if difference > atol:
            raise AssertionError(f"{name}: OpenVINO differs from PyTorch by {difference:.2e} (allowed {atol:.0e})")
        report[name] = difference
    return report
