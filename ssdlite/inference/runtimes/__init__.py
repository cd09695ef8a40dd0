"""What runs a detector's network and post-processing: PyTorch, onnxruntime or OpenVINO, one module
each, all called alike: `runtime(images Tensor[B, 3, H, W] RGB in [0, 1], limits) -> Outputs`
(`ssdlite.model.postprocess`), each computing the same `Postprocessor.graph` after the network."""

import importlib.util
from pathlib import Path
from typing import Literal, Protocol

import torch

from ssdlite.config import Config
from ssdlite.model.postprocess import Limits, Outputs

Backend = Literal["auto", "onnxruntime", "openvino"]  # what runs an ONNX file
# Arithmetic of the network: "int8" is a file (`tools/export.py --int8`), run at "fp32" settings.
Precision = Literal["fp32", "bf16"]
PRECISIONS = ("fp32", "bf16")


class DeviceError(ValueError):
    """A device that is unknown, or not on this machine."""


class Runtime(Protocol):
    name: str  # "pytorch", "onnxruntime" or "openvino"

    def __call__(self, images: torch.Tensor, limits: Limits) -> Outputs: ...


def open_runtime(
    path: str | Path, *, backend: Backend = "auto", device: str = "cpu", precision: Precision = "fp32"
) -> tuple[Runtime, Config, tuple[str, ...]]:
    """The runtime for a `.ckpt` (PyTorch), `.onnx` or OpenVINO `.xml` file, with the file's (config, class names).

    backend "auto" runs an ONNX file in OpenVINO on the CPU when `openvino` is installed (the fastest
    CPU path), else in onnxruntime; "onnxruntime" or "openvino" choose for ONNX files.

    Raises:
        ValueError: an unknown or unavailable device or precision, naming the fix.
    """
    device = torch_device(device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: give one of {', '.join(PRECISIONS)} (int8: tools/export.py --int8)")
    suffix = Path(path).suffix.lower()
    if suffix == ".onnx" and backend == "auto":
        fastest = device.type == "cpu" and importlib.util.find_spec("openvino") is not None
        backend = "openvino" if fastest else "onnxruntime"
    if suffix == ".xml" or (suffix == ".onnx" and backend == "openvino"):
        from ssdlite.inference.runtimes.openvino import OpenVINORuntime

        return OpenVINORuntime.open(path, device=device, precision=precision)
    if suffix == ".onnx":
        from ssdlite.inference.runtimes.onnx import OnnxRuntime

        return OnnxRuntime.open(path, device=device, precision=precision)
    from ssdlite.inference.runtimes.pytorch import TorchRuntime

    return TorchRuntime.open(path, device=device, precision=precision)


def torch_device(device: str | torch.device) -> torch.device:
    """`device` as a torch device; `DeviceError` naming it when it is unknown or not on this machine."""
    try:
        device = torch.device(device)
    except RuntimeError as error:
        raise DeviceError(f"device {device!r} is unknown: give cpu, cuda or cuda:N ({error})") from error
    if device.type == "cuda" and not (torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()):
        raise DeviceError(
            f"device {device} is not available on this machine ({torch.cuda.device_count()} CUDA devices): use --device cpu"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("device mps is not available on this machine: use --device cpu")
    return device
