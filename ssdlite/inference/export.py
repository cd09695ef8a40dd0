"""Writing exported files, each checked against PyTorch on the same inputs: ONNX (the raw network, or
with the post-processing graph appended: `--nms`) and OpenVINO IR. Running them is
`ssdlite.inference.runtimes`' work.

The raw graph is the model's `forward` (cls_logits, bbox_regression); the runtimes rebuild anchors and
post-processing from the config in the file's metadata and append the graph of `Postprocessor.graph`
(`ssdlite.inference.graphs`). A `--nms` file has it appended already.
"""

from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor

from ssdlite.assets import write_atomically
from ssdlite.config import Config
from ssdlite.inference.graphs import OPSET, postprocessing_onnx, with_postprocessing
from ssdlite.inference.metadata import METADATA_KEYS, metadata, onnx_metadata, set_onnx_metadata
from ssdlite.model.detector import SSDLite
from ssdlite.model.mode import eval_mode
from ssdlite.model.postprocess import Outputs, detections

RAW_OUTPUTS = SSDLite.OUTPUT_NAMES  # the model's forward


def export_onnx(
    model: SSDLite,
    config: Config,
    class_names: tuple[str, ...],
    path: str | Path,
    *,
    nms: bool = False,
    dynamic_batch: bool = False,
) -> Path:
    """Write `model` as ONNX, with its config and class names in the metadata.

    Args:
        nms: append the post-processing graph (inputs "images" and the `Limits`, outputs `Outputs`).
        dynamic_batch: a dynamic batch axis.
    """
    path = Path(path)
    dynamic_axes = {name: {0: "batch"} for name in ("images", *RAW_OUTPUTS)} if dynamic_batch else None

    def write(temporary: Path) -> None:
        with torch.no_grad(), eval_mode(model):
            example = (torch.zeros(1, 3, *model.image_size, device=model.anchors.device),)
            torch.onnx.export(
                model, example, str(temporary), input_names=["images"], output_names=list(RAW_OUTPUTS),
                dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False,
            )  # fmt: skip
        graph = onnx.load(str(temporary))
        set_onnx_metadata(graph, metadata(config, class_names))
        if nms:
            graph = with_postprocessing(
                graph, postprocessing_onnx(model.postprocessor, model.anchors, model.image_size, model.num_classes)
            )
        onnx.save(graph, str(temporary))

    write_atomically(path, write)
    return path


def export_openvino(onnx_path: str | Path, xml_path: str | Path) -> Path:
    """Convert an ONNX file of `export_onnx` (raw outputs) to IR (`.xml` + `.bin`), metadata included."""
    import openvino

    values = onnx_metadata(onnx_path)
    model = openvino.convert_model(str(onnx_path))
    for key in METADATA_KEYS:
        model.set_rt_info(values[key], ["ssdlite", key])
    xml_path = Path(xml_path)
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    openvino.save_model(model, str(xml_path), compress_to_fp16=False)
    return xml_path


def check_onnx(model: SSDLite, path: str | Path, images: Tensor, nms: bool, atol: float = 1e-4) -> dict[str, float]:
    """Run `images` through PyTorch and onnxruntime and compare.

    Returns:
        The largest absolute differences: "cls_logits" and "bbox_regression" for raw
        graphs; with NMS, of the detections' "boxes", "scores" and "labels".

    Raises:
        AssertionError: when a difference exceeds `atol` (1e-3 for boxes in pixels),
            or the detections differ in number.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    limits = model.postprocessor.limits(model.num_classes - 1)
    with torch.no_grad(), eval_mode(model):
        raw = model(images)
        if nms:
            expected = detections(
                model.postprocessor.graph(*raw, model.anchors, model.image_size, limits), model.image_size, None
            )
    inputs = {"images": images.numpy()} | ({name: value.numpy() for name, value in limits._asdict().items()} if nms else {})
    actual = session.run(None, inputs)
    if not nms:
        return _differences(dict(zip(RAW_OUTPUTS, raw)), dict(zip(RAW_OUTPUTS, actual)), {name: atol for name in RAW_OUTPUTS})
    got = detections(Outputs(*(torch.from_numpy(value) for value in actual)), model.image_size, None)
    report = {}
    for index, (want, have) in enumerate(zip(expected, got)):
        if len(want["scores"]) != len(have["scores"]):
            raise AssertionError(f"image {index}: ONNX keeps {len(have['scores'])} detections, PyTorch {len(want['scores'])}")
        differences = _differences(want, have, {"boxes": 1e-3, "scores": atol, "labels": 0})
        report = {name: max(report.get(name, 0.0), value) for name, value in differences.items()}
    return report


def _differences(expected: dict, actual: dict, tolerances: dict[str, float]) -> dict[str, float]:
    """The largest |expected - actual| of each name of `tolerances`; AssertionError above its tolerance."""
    report = {}
    for name, tolerance in tolerances.items():
        want, got = np.asarray(expected[name]), np.asarray(actual[name])
        if want.shape != got.shape:
            raise AssertionError(f"{name}: ONNX gives shape {got.shape}, PyTorch {want.shape}")
        difference = float(np.abs(want.astype(np.float64) - got.astype(np.float64)).max(initial=0.0))
        if difference > tolerance:
            raise AssertionError(f"{name}: ONNX differs from PyTorch by {difference:.2e} (allowed {tolerance:.0e})")
        report[name] = difference
    return report
