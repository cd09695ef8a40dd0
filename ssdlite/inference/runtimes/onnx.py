"""An ONNX file from `ssdlite.inference.export.export_onnx` run by onnxruntime: a raw-output file gets
the post-processing graph appended at load, a `--nms` file has it. CUDA's provider first on a CUDA device."""

from pathlib import Path

import onnx
import torch

from ssdlite.config import Config
from ssdlite.inference.graphs import LIMIT_NAMES, config_postprocessing_onnx, is_raw, with_postprocessing
from ssdlite.inference.metadata import onnx_metadata, parse_metadata
from ssdlite.model.postprocess import Limits, Outputs


class OnnxRuntime:
    """An onnxruntime session of a graph with post-processing, with torch's thread count."""

    name = "onnxruntime"

    def __init__(self, graph: onnx.ModelProto, *, device: torch.device):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        # Idle threads sleep instead of spinning: they would take the cores from the
        # decoding, drawing or tracking that runs between two calls.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: quantised graphs log every unused initializer
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda":
            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise ValueError(
                    f"device {device}: this onnxruntime has no CUDA provider; install onnxruntime-gpu or use --device cpu"
                )
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device.index or 0}))
        self.session = onnxruntime.InferenceSession(graph.SerializeToString(), options, providers=providers)

    @classmethod
    def open(cls, path: str | Path, *, device: torch.device, precision: str) -> tuple["OnnxRuntime", Config, tuple[str, ...]]:
        if precision != "fp32":
            raise ValueError(f"onnxruntime runs fp32 here, not {precision}: use --backend openvino or a .ckpt for bf16")
        if device.type not in ("cpu", "cuda"):
            raise ValueError(f"device {device}: onnxruntime runs on cpu or cuda")
        graph = onnx.load(str(path))
        config, class_names = parse_metadata(onnx_metadata(graph), path)
        if is_raw(tuple(output.name for output in graph.graph.output), path):
            graph = with_postprocessing(graph, config_postprocessing_onnx(config.model, len(class_names) + 1))
        return cls(graph, device=device), config, class_names

    def __call__(self, images: torch.Tensor, limits: Limits) -> Outputs:
        inputs = {"images": images.numpy()} | {name: value.numpy() for name, value in zip(LIMIT_NAMES, limits)}
        return Outputs(*(torch.from_numpy(value) for value in self.session.run(None, inputs)))
