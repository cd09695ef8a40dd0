"""A trained checkpoint in each runtime this machine has: latency, throughput and COCO mAP on a config's
data, to choose what to deploy (`ssdlite benchmark`).

Variants: PyTorch (on any torch device), onnxruntime fp32 and INT8 (static QDQ), OpenVINO fp32 and INT8
(NNCF), all made here from the checkpoint; INT8 is calibrated on the data's training split as
`ssdlite export --int8` calibrates it. Inputs are validation images, preprocessed, so post-processing sees
a trained model's scores. Timing is interleaved: every round times each variant once, so drift and other
load hit all of them alike; figures are medians over rounds. onnxruntime's idle threads do not spin
(`ssdlite.inference.runtimes.onnx`).

`onnx`, `onnxruntime`, `openvino` and `nncf` (the `deploy` extra) are imported only by the variants that
need them.
"""

import dataclasses
import importlib.util
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from ssdlite.checkpoint import load_checkpoint
from ssdlite.config import Config, DataConfig
from ssdlite.data.batch import collate, original_sizes
from ssdlite.data.build import build_dataset, make_builtin_data
from ssdlite.evaluation import evaluate_predict
from ssdlite.inference.predictor import Detector
from ssdlite.model.postprocess import detections

RUNTIMES = ("pytorch", "onnxruntime", "openvino")
# Variant (a row of the results) -> (its runtime, the packages it imports beyond ssdlite's own).
VARIANTS = {
    "pytorch": ("pytorch", ()),
    "onnxruntime_fp32": ("onnxruntime", ("onnx", "onnxruntime")),
    "onnxruntime_int8": ("onnxruntime", ("onnx", "onnxruntime")),
    "openvino_fp32": ("openvino", ("onnx", "openvino")),
    "openvino_int8": ("openvino", ("onnx", "openvino", "nncf")),
}
EXTRA = "deploy"  # pyproject's extra holding every package of VARIANTS
FIGURES = ("network_b1_ms", "end_to_end_b1_ms", "postprocess_b1_ms", "throughput_b8_img_s", "mAP")
IDLE_S = 0.02  # before each timed call: the previous variant's threads stop spinning (OpenMP spins ~ms)

# (variant, figure) -> a call to time once per round
TimingFunctions = dict[tuple[str, str], Callable[[], object]]


def runnable(runtimes: Iterable[str], *, int8: bool) -> tuple[list[str], str | None]:
    """The variants of `runtimes` whose packages are installed (INT8 ones only with `int8`), and one line
    naming those left out, what they miss and how to install it (None when nothing is left out)."""
    wanted = [name for name, (runtime, _) in VARIANTS.items() if runtime in runtimes and (int8 or not name.endswith("_int8"))]
    missing = {name: [p for p in VARIANTS[name][1] if importlib.util.find_spec(p) is None] for name in wanted}
    left_out = [name for name in wanted if missing[name]]
    if not left_out:
        return wanted, None
    packages = sorted({package for name in left_out for package in missing[name]})
    line = f'skipping {", ".join(left_out)}: {", ".join(packages)} not installed; pip install "ssdlite[{EXTRA}]" installs them'
    return [name for name in wanted if not missing[name]], line


def interleaved_median_ms(fns: dict, *, warmup: int, rounds: int) -> dict[object, float]:
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


def build_detectors(
    checkpoint: str | Path,
    loaded: tuple[nn.Module, Config, tuple[str, ...]],
    variants: list[str],
    folder: Path,
    *,
    device: str,
    num_calibration: int,
) -> dict[str, Detector]:
    """Each variant of the checkpoint as a `Detector`; the exported and quantised files go to `folder`.
    `loaded` is the checkpoint as `load_checkpoint` gives it, its config's data the one that calibrates
    INT8. PyTorch and onnxruntime run on torch `device`, OpenVINO on the CPU."""
    detectors = {"pytorch": Detector.load(checkpoint, device=device)} if "pytorch" in variants else {}
    exported = [name for name in variants if name != "pytorch"]
    if not exported:
        return detectors
    from ssdlite.inference.export import export_onnx, export_openvino
    from ssdlite.inference.quantize import calibration_images, quantize_onnx, quantize_openvino

    model, config, class_names = loaded
    files = {"onnxruntime_fp32": export_onnx(model, config, class_names, folder / "model.onnx", dynamic_batch=True)}
    if any(name.startswith("openvino") for name in exported):
        files["openvino_fp32"] = export_openvino(files["onnxruntime_fp32"], folder / "model.xml")
    quantized = [name for name in exported if name.endswith("_int8")]
    if quantized:
        images = calibration_images(config, num_calibration)
        quantize = {"onnxruntime_int8": quantize_onnx, "openvino_int8": quantize_openvino}
        for name in quantized:
            fp32 = files[name.replace("_int8", "_fp32")]
            files[name] = Path(quantize[name](str(fp32), images, str(fp32.with_stem(f"{fp32.stem}_int8"))))
    for name in exported:
        runtime = VARIANTS[name][0]
        detectors[name] = Detector.load(files[name], backend=runtime, device="cpu" if runtime == "openvino" else device)
    return detectors


def run_network(detector: Detector, images: torch.Tensor):
    """The runtime's network and post-processing graph, with the model's limits, finished."""
    outputs = detector.runtime(images, detector.postprocessor.limits(len(detector.class_names)))
    if outputs.scores.is_cuda:
        torch.cuda.synchronize(outputs.scores.device)  # CUDA runs kernels asynchronously: time them, not their launch
    return outputs


def postprocessing_after_network(detector: Detector, images: torch.Tensor, sizes: list) -> float:
    """Seconds of the host's part of post-processing as `predict_tensors` runs it (picking the kept
    detections, scaling their boxes): right after the runtime, with the caches and threads it left."""
    outputs = run_network(detector, images)
    start = time.perf_counter()
    detections(outputs, detector.image_size, sizes)
    return time.perf_counter() - start


def timing_functions(detectors: dict[str, Detector], images: torch.Tensor, sizes: list) -> TimingFunctions:
    """Per variant: network at batch 1, end to end at batch 1 and 8, post-processing of batch 1 after its network."""
    one, eight = images[:1], images[:8]
    fns = {}
    for name, detector in detectors.items():
        fns |= {
            (name, "network_b1_ms"): lambda d=detector: run_network(d, one),
            (name, "end_to_end_b1_ms"): lambda d=detector: d.predict_tensors(one, sizes[:1]),
            (name, "postprocess_b1_ms"): lambda d=detector: postprocessing_after_network(d, one, sizes[:1]),
            (name, "end_to_end_b8_ms"): lambda d=detector: d.predict_tensors(eight, sizes[:8]),
        }
    return fns


def benchmark_runtimes(
    checkpoint: str | Path,
    data: DataConfig,
    *,
    variants: list[str],
    device: str = "cpu",
    num_calibration: int | None = None,
    quick: bool = False,
    more_timings: Callable[[torch.Tensor], TimingFunctions] | None = None,
) -> dict[str, dict[str, float]]:
    """Time and score the checkpoint in each of `variants` (names of `VARIANTS`, see `runnable`).

    Args:
        data: its validation split scores every variant and gives the timed images; its training
            split calibrates INT8 (`num_calibration` images; default 300, 32 when `quick`).
        device: torch device of PyTorch and onnxruntime.
        quick: few rounds: a smoke run, not figures to quote.
        more_timings: given the timed images (Tensor[8, 3, H, W] RGB in [0, 1]), other calls to time in
            the same rounds, keyed (row, figure) as `timing_functions` keys them.

    Returns:
        Per variant (and row of `more_timings`): "network_b1_ms", "end_to_end_b1_ms", "postprocess_b1_ms"
        (as it runs, right after the network), "throughput_b8_img_s" and "mAP" (COCO AP) on `data`'s
        validation split; the rows of `more_timings` have the figures they time.
    """
    model, config, class_names = load_checkpoint(checkpoint)
    config = dataclasses.replace(config, data=dataclasses.replace(data, classes=class_names))
    make_builtin_data(config.data)
    num_calibration = num_calibration or (32 if quick else 300)
    with tempfile.TemporaryDirectory() as folder, torch.inference_mode():
        detectors = build_detectors(
            checkpoint, (model, config, class_names), variants, Path(folder), device=device, num_calibration=num_calibration
        )
        val_set = build_dataset(config.data, "val", config.model.image_size)
        images, targets = collate([val_set[index % len(val_set)] for index in range(8)])
        fns = timing_functions(detectors, images, original_sizes(targets)) | (more_timings(images) if more_timings else {})
        warmup, rounds = (1, 3) if quick else (5, 40)
        results = {}
        for (name, figure), milliseconds in interleaved_median_ms(fns, warmup=warmup, rounds=rounds).items():
            if figure == "end_to_end_b8_ms":
                figure, milliseconds = "throughput_b8_img_s", 8000 / milliseconds
            results.setdefault(name, {})[figure] = milliseconds
        for name, detector in detectors.items():
            results[name]["mAP"] = evaluate_predict(detector.predict_tensors, val_set, batch_size=8).metrics["AP"]
    return results


def format_table(results: dict[str, dict[str, float]]) -> str:
    """The results as a printable table, a row per variant; a figure a row lacks is left blank."""
    width = max(len("runtime"), *map(len, results)) + 2
    lines = [f"{'runtime':<{width}}" + "".join(f"{figure:>20}" for figure in FIGURES)]
    for name, row in results.items():
        lines.append(f"{name:<{width}}" + "".join(f"{row[f]:>20.2f}" if f in row else f"{'':>20}" for f in FIGURES))
    return "\n".join(lines)
