"""An OpenVINO IR from `ssdlite.inference.export.export_openvino` (or an ONNX file of `export_onnx`)
compiled for the CPU. A raw-output model gets the post-processing graph appended at load, converted
from the same ONNX graph onnxruntime runs, so OpenVINO computes the candidates and NMS in its own
kernels; INT8 models (`ssdlite.inference.quantize`) are raw, so the appended part stays floating point.

`openvino` is imported inside the functions, so the rest of ssdlite works without it.
"""

import io
from pathlib import Path

import numpy as np
import torch

from ssdlite.config import Config
from ssdlite.inference.graphs import LIMIT_NAMES, config_postprocessing_onnx, is_raw
from ssdlite.inference.metadata import METADATA_KEYS, onnx_metadata, parse_metadata
from ssdlite.model.detector import SSDLite
from ssdlite.model.postprocess import Limits, Outputs

PRECISION_HINTS = {"fp32": "f32", "bf16": "bf16"}  # CPUs with bf16 would otherwise switch precision silently


class OpenVINORuntime:
    """An `openvino.Model` whose outputs are `Outputs`, compiled for the CPU in latency mode with
    `threads` inference threads (default: torch's).

    The batch axis is dynamic; each batch size met is compiled once with that static shape,
    which OpenVINO's CPU kernels run faster than a dynamic one.
    """

    name = "openvino"

    def __init__(self, model, *, precision: str = "fp32", threads: int | None = None):
        import openvino

        self.core, self.model = openvino.Core(), model
        if precision == "bf16" and "BF16" not in self.core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            raise ValueError("this CPU has no bf16 arithmetic (OpenVINO's CPU capabilities lack BF16): use --precision fp32")
        self.properties = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads or torch.get_num_threads(),
            "INFERENCE_PRECISION_HINT": PRECISION_HINTS[precision],
        }
        self.compiled = {}  # batch size -> compiled model

    @classmethod
    def open(cls, path: str | Path, *, device: torch.device, precision: str) -> tuple["OpenVINORuntime", Config, tuple[str, ...]]:
        if device.type != "cpu":
            raise ValueError(
                f"device {device}: OpenVINO runs on the CPU here; use --device cpu, or a .ckpt or .onnx file on {device}"
            )
        model, config, class_names = read_model(path)
        if is_raw(tuple(output.get_any_name() for output in model.outputs), path):
            model = with_postprocessing(model, config_postprocessing_onnx(config.model, len(class_names) + 1))
        return cls(model, precision=precision), config, class_names

    def __call__(self, images: torch.Tensor, limits: Limits) -> Outputs:
        return Outputs(*self.run(images, *limits))

    def run(self, images: torch.Tensor, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The model's outputs for its inputs (images Tensor[B, 3, H, W] first), as tensors."""
        batch = images.shape[0]
        if batch not in self.compiled:
            self.model.reshape({self.model.inputs[0]: [batch, *images.shape[1:]]})
            self.compiled[batch] = self.core.compile_model(self.model, "CPU", self.properties)
        outputs = self.compiled[batch]([images.numpy(), *(np.asarray(value) for value in inputs)])  # copies out
        return tuple(torch.from_numpy(outputs[index]) for index in range(len(outputs)))


def read_model(path: str | Path) -> tuple[object, Config, tuple[str, ...]]:
    """An IR (or an ONNX file) as an `openvino.Model`, with its (config, class names)."""
    import openvino

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        model = openvino.Core().read_model(str(path))
    except RuntimeError as error:
        raise ValueError(f"{path} could not be read by OpenVINO: {error}") from error
    if path.suffix.lower() == ".onnx":
        values = onnx_metadata(path)
    else:
        values = {
            key: model.get_rt_info(["ssdlite", key]).astype(str) for key in METADATA_KEYS if model.has_rt_info(["ssdlite", key])
        }
    return model, *parse_metadata(values, path)


def with_postprocessing(model, postprocessing):
    """`model` (raw outputs) feeding the ONNX graph `postprocessing` (`ssdlite.inference.graphs.postprocessing_onnx`),
    as one `openvino.Model` taking the images and the `Limits`, giving `Outputs`. It shares `model`'s nodes:
    compile `model` before, not after, reshaping this one."""
    import openvino

    appended = openvino.convert_model(io.BytesIO(postprocessing.SerializeToString()))
    parameters = {parameter.get_friendly_name(): parameter for parameter in appended.get_parameters()}
    for name, raw_result in zip(SSDLite.OUTPUT_NAMES, model.get_results()):
        for consumer in parameters[name].output(0).get_target_inputs():
            consumer.replace_source_output(raw_result.input_value(0))  # what feeds the result, not the result
    limits = [parameters[name] for name in LIMIT_NAMES]
    return openvino.Model(appended.get_results(), [*model.get_parameters(), *limits], "ssdlite_postprocessing")
