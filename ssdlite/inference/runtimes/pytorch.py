"""A training checkpoint run by PyTorch, on any torch device, in fp32 or bf16 (autocast)."""

from pathlib import Path

import torch

from ssdlite.checkpoint import load_checkpoint
from ssdlite.config import Config
from ssdlite.model.detector import SSDLite
from ssdlite.model.postprocess import Limits, Outputs


class TorchRuntime:
    """`model` on `device`; with precision "bf16" its network runs under bf16 autocast (post-processing in fp32)."""

    name = "pytorch"

    def __init__(self, model: SSDLite, *, device: torch.device, precision: str = "fp32"):
        self.model, self.device, self.precision = model.to(device).eval(), device, precision

    @classmethod
    def open(cls, path: str | Path, *, device: torch.device, precision: str) -> tuple["TorchRuntime", Config, tuple[str, ...]]:
        model, config, class_names = load_checkpoint(path)  # read on the CPU, then moved whole (also to "meta")
        return cls(model, device=device, precision=precision), config, class_names

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor, limits: Limits) -> Outputs:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            cls_logits, bbox_regression = self.model(images.to(self.device))
        limits = Limits(*(value.to(self.device) for value in limits))
        return self.model.postprocessor.graph(cls_logits, bbox_regression, self.model.anchors, self.model.image_size, limits)
