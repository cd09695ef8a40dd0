"""A trained checkpoint in every runtime, in one process: latency, throughput and COCO mAP.

Runtimes: PyTorch eager, onnxruntime fp32 and INT8 (static QDQ), OpenVINO fp32
and INT8 (NNCF), all made from the checkpoint here, and torchvision's
`ssdlite320_mobilenet_v3_large` eager (random weights) as the reference.
Inputs are validation images of a config, preprocessed, so post-processing
sees a trained model's scores. Timing is interleaved: every round times each
runtime once, so drift and other load hit all of them alike; figures are
medians over rounds. onnxruntime's idle threads do not spin (`ssdlite.inference.runtimes.onnx`).
"""

import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ssdlite.checkpoint import load_checkpoint
from ssdlite.config import DataConfig
from ssdlite.data.batch import collate, original_sizes
from ssdlite.data.build import build_dataset
from ssdlite.evaluation import evaluate_predict
from ssdlite.inference.export import export_onnx, export_openvino
from ssdlite.inference.predictor import Detector
from ssdlite.inference.quantize import calibration_images, quantize_onnx, quantize_openvino
from ssdlite.model.postprocess import detections
from torchvision_reference import NAME, build_reference

IDLE_S = 0.02  # before each timed call: the previous runtime's threads stop spinning (OpenMP spins ~ms)


def interleaved_median_ms(fns: dict[str, Callable[[], object]], warmup: int, rounds: int) -> dict[str, float]:
    """Median milliseconds of each function, timed one after another within each round. A function
    that returns a float has timed the part of its work that counts: those seconds are taken."""
    times = {name: [] for name in fns}
    for round_index in range(warmup + rounds):
        for name, fn in fns.items():
            time.sleep(IDLE_S)
            start = time.perf_counter()
            measured = fn()
            if round_index >= warmup:
                times[name].append(measured if isinstance(measured, float) else time.perf_counter() - start)
    return {name: 1000 * statistics.median(values) for name, values in times.items()}


def build_detectors(checkpoint: str, model, config, class_names, folder: Path, num_calibration: int) -> dict[str, Detector]:
    """The checkpoint (`model`, as loaded) as a `Detector` in each runtime; the exported and quantised files go to `folder`."""
    onnx_path = export_onnx(model, config, class_names, folder / "model.onnx", dynamic_batch=True)
    xml_path = export_openvino(onnx_path, folder / "model.xml")
    images = calibration_images(config, num_calibration)
    quantize_onnx(str(onnx_path), images, str(folder / "model_int8.onnx"))
    quantize_openvino(str(xml_path), images, str(folder / "model_int8.xml"))
    return {
        "pytorch_eager": Detector.load(checkpoint),
        "onnxruntime_fp32": Detector.load(onnx_path, backend="onnxruntime"),
        "onnxruntime_int8": Detector.load(folder / "model_int8.onnx", backend="onnxruntime"),
        "openvino_fp32": Detector.load(xml_path),
        "openvino_int8": Detector.load(folder / "model_int8.xml"),
    }


def run_network(detector: Detector, images: torch.Tensor):
    """The runtime's network and post-processing graph, with the model's limits."""
    return detector.runtime(images, detector.postprocessor.limits(len(detector.class_names)))


def postprocessing_after_network(detector: Detector, images: torch.Tensor, sizes: list) -> float:
    """Seconds of the host's part of post-processing as `predict_tensors` runs it (picking the kept
    detections, scaling their boxes): right after the runtime, with the caches and threads it left."""
    outputs = run_network(detector, images)
    start = time.perf_counter()
    detections(outputs, detector.image_size, sizes)
    return time.perf_counter() - start


def timing_functions(detectors: dict[str, Detector], images: torch.Tensor, sizes: list) -> dict[str, Callable]:
    """Per runtime: network at batch 1, end to end at batch 1 and 8, post-processing of batch 1 after its network."""
    one, eight = images[:1], images[:8]
    fns = {}
    for name, detector in detectors.items():
        fns |= {
            (name, "network_b1_ms"): lambda d=detector: run_network(d, one),
            (name, "end_to_end_b1_ms"): lambda d=detector: d.predict_tensors(one, sizes[:1]),
            (name, "postprocess_b1_ms"): lambda d=detector: postprocessing_after_network(d, one, sizes[:1]),
            (name, "end_to_end_b8_ms"): lambda d=detector: d.predict_tensors(eight, sizes[:8]),
        }
    reference = build_reference().eval()
    one_list, eight_list = list(one), list(eight)  # it takes [0, 1], as ours, and resizes itself
    fns[(NAME, "end_to_end_b1_ms")] = lambda: reference(one_list)
    fns[(NAME, "end_to_end_b8_ms")] = lambda: reference(eight_list)
    return fns


def run_deployment_benchmark(
    checkpoint: str, data: DataConfig, *, threads: int | None = None, quick: bool = False
) -> dict[str, dict[str, float]]:
    """Figures per runtime: "network_b1_ms", "end_to_end_b1_ms", "postprocess_b1_ms" (as it runs, right
    after the network), "throughput_b8_img_s" and "mAP" on `data`'s validation split, whose training
    split calibrates INT8 (torchvision: speed only)."""
    if threads:
        torch.set_num_threads(threads)
    model, config, class_names = load_checkpoint(checkpoint)
    config = dataclasses.replace(config, data=dataclasses.replace(data, classes=class_names))
    with tempfile.TemporaryDirectory() as folder, torch.inference_mode():
        detectors = build_detectors(checkpoint, model, config, class_names, Path(folder), 32 if quick else 300)
        val_set = build_dataset(config.data, "val", config.model.image_size)  # built-in data: made by calibration
        images, targets = collate([val_set[i] for i in range(8)])
        timings = interleaved_median_ms(
            timing_functions(detectors, images, original_sizes(targets)), *((1, 3) if quick else (5, 40))
        )
        results = {name: {} for name in [*detectors, NAME]}
        for (name, figure), milliseconds in timings.items():
            if figure == "end_to_end_b8_ms":
                results[name]["throughput_b8_img_s"] = 8000 / milliseconds
            else:
                results[name][figure] = milliseconds
        for name, detector in detectors.items():
            results[name]["mAP"] = evaluate_predict(detector.predict_tensors, val_set, batch_size=8).metrics["AP"]
    return results


def format_deployment_table(results: dict[str, dict[str, float]]) -> str:
    figures = ["network_b1_ms", "end_to_end_b1_ms", "postprocess_b1_ms", "throughput_b8_img_s", "mAP"]
    reference = results[NAME]["end_to_end_b1_ms"]
    lines = [f"{'runtime':<42}" + "".join(f"{f:>20}" for f in figures) + f"{'e2e b1 / torchvision':>22}"]
    for name, row in results.items():
        cells = "".join(f"{row[f]:>20.2f}" if f in row else f"{'':>20}" for f in figures)
        lines.append(f"{name:<42}{cells}{row['end_to_end_b1_ms'] / reference:>22.2f}")
    return "\n".join(lines)
