"""Export a checkpoint to ONNX or OpenVINO IR, check it against PyTorch, and optionally quantise it to INT8.

ssdlite export --checkpoint PATH [--format onnx|openvino] [--nms] [--dynamic-batch] [--out FILE]
ssdlite export --checkpoint PATH [--format onnx|openvino] --int8 --calibration CONFIG [--calibration-images N] [--set ...]
ssdlite export --checkpoint PATH [--format onnx|openvino] --bf16 --calibration CONFIG [--set KEY=VALUE ...]

--format openvino writes FILE.xml + FILE.bin (and the FILE.onnx it converts),
with a dynamic batch axis. --int8 quantises after calibrating on CONFIG's
training images (NNCF for OpenVINO, onnxruntime's static QDQ for ONNX), scores
floating point and INT8 on CONFIG's validation images side by side (at batch 8:
an ONNX file gets a dynamic batch axis too), and keeps the INT8 file only if it
loses at most 1.0 AP point (--accept-int8-loss keeps it anyway). --bf16 scores
the file run at bf16 (`Detector.load(..., precision="bf16")`, OpenVINO on a CPU
with bf16) against fp32 the same way, and fails if it loses more.
--nms appends the post-processing graph to an ONNX file (the runtimes append the
same graph to a raw file when they load it).
"""

import argparse
import sys
from pathlib import Path

import torch

from ssdlite.checkpoint import load_checkpoint
from ssdlite.config import DataConfig, apply_overrides, load_config
from ssdlite.data.build import build_dataset, make_builtin_data
from ssdlite.errors import reports_errors
from ssdlite.evaluation import evaluate_predict
from ssdlite.inference import Detector
from ssdlite.inference.export import check_onnx, export_onnx, export_openvino

MAX_AP_LOSS = 1.0  # AP points, for INT8 and bf16 alike


def check(model, out: Path, dynamic_batch: bool, nms: bool) -> None:
    """Compare the exported file with PyTorch on random inputs at batch 1 (and 3 with a dynamic batch)."""
    generator = torch.Generator().manual_seed(0)
    for batch_size in [1, 3] if dynamic_batch else [1]:
        images = torch.rand(batch_size, 3, *model.image_size, generator=generator)  # RGB in [0, 1]
        if out.suffix == ".xml":
            from ssdlite.inference.openvino_check import check_openvino

            report, runtime = check_openvino(model, out, images), "OpenVINO"
        else:
            report, runtime = check_onnx(model, out, images, nms=nms), "onnxruntime"
        print(f"batch {batch_size}: max |PyTorch - {runtime}| " + ", ".join(f"{k} {v:.1e}" for k, v in report.items()))


def export(args, model, config, class_names) -> Path:
    out = Path(args.out or Path(args.checkpoint).with_suffix(".xml" if args.format == "openvino" else ".onnx"))
    if args.format == "onnx":
        return export_onnx(model, config, class_names, out, nms=args.nms, dynamic_batch=args.dynamic_batch)
    onnx_path = export_onnx(model, config, class_names, out.with_suffix(".onnx"), dynamic_batch=True)
    return export_openvino(onnx_path, out)


def val_split(config, class_names, calibration: DataConfig):
    """The validation split of the calibration data, labelled as the model was trained."""
    config.data = calibration
    config.data.classes = class_names  # labels must mean what they meant in training
    make_builtin_data(config.data)
    return build_dataset(config.data, "val", config.model.image_size)


def ap_loss(name: str, fp32: Detector, other: Detector, val_set, annotations: str) -> float:
    """Score fp32 and `other` side by side on `val_set`, print both; the AP `other` loses."""
    ap = {
        key: evaluate_predict(detector.predict_tensors, val_set, batch_size=8).metrics["AP"]
        for key, detector in (("fp32", fp32), (name, other))
    }
    print(
        f"{fp32.backend} on {len(val_set)} images of {annotations}: mAP fp32 {ap['fp32']:.2f}, "
        f"{name} {ap[name]:.2f} ({ap[name] - ap['fp32']:+.2f} points)"
    )
    return ap["fp32"] - ap[name]


def int8(args, config, fp32_path: Path, val_set) -> None:
    """Quantise `fp32_path` on `config`'s (the calibration data's) training images, print both mAPs on
    its validation split `val_set`, keep or refuse."""
    from ssdlite.inference.quantize import calibration_images, quantize_onnx, quantize_openvino

    images = calibration_images(config, args.calibration_images)
    out = fp32_path.with_name(f"{fp32_path.stem}_int8{fp32_path.suffix}")
    quantize = quantize_openvino if args.format == "openvino" else quantize_onnx
    quantize(str(fp32_path), images, str(out))
    backend = args.format if args.format == "openvino" else "onnxruntime"
    loss = ap_loss(
        "INT8",
        Detector.load(fp32_path, backend=backend),
        Detector.load(out, backend=backend),
        val_set,
        config.data.val_annotations,
    )
    if loss > MAX_AP_LOSS and not args.accept_int8_loss:
        for path in (out, out.with_suffix(".bin")):
            path.unlink(missing_ok=True)
        sys.exit(
            f"INT8 loses more than {MAX_AP_LOSS:.1f} AP point: not kept; "
            "calibrate on more images, or pass --accept-int8-loss to keep it"
        )
    print(f"wrote {out}")


def bf16(config, path: Path, val_set) -> None:
    """Score `path` run at bf16 against fp32 on the calibration data's validation split; fail on a loss."""
    fp32, reduced = (Detector.load(path, backend="openvino", precision=precision) for precision in ("fp32", "bf16"))
    if ap_loss("bf16", fp32, reduced, val_set, config.data.val_annotations) > MAX_AP_LOSS:
        sys.exit(f"bf16 loses more than {MAX_AP_LOSS:.1f} AP point: run {path} at fp32")
    print(f"{path} runs at bf16 within {MAX_AP_LOSS:.1f} AP point of fp32: Detector.load(..., precision='bf16')")


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--format", choices=("onnx", "openvino"), default="onnx")
    parser.add_argument("--nms", action="store_true", help="ONNX: append the post-processing graph (decoding, NMS)")
    parser.add_argument("--dynamic-batch", action="store_true", help="ONNX: a dynamic batch axis (--int8 sets it)")
    parser.add_argument("--out", help="default: the checkpoint's path with .onnx or .xml")
    parser.add_argument("--int8", action="store_true", help="also write an INT8 copy, calibrated on --calibration")
    parser.add_argument("--calibration", metavar="CONFIG", help="config whose data calibrates and scores INT8")
    parser.add_argument("--calibration-images", type=int, default=300, help="training images to calibrate on")
    parser.add_argument("--bf16", action="store_true", help="score the file at bf16 against fp32 on --calibration")
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides of the --calibration config, e.g. data.batch_size=4"
    )
    parser.add_argument("--accept-int8-loss", action="store_true", help="keep INT8 even if it loses > 1 AP point")
    args = parser.parse_args(argv)
    if (args.int8 or args.bf16) and not args.calibration:
        parser.error("--int8 and --bf16 need --calibration CONFIG (real images of your data; never random tensors)")
    if args.int8 and args.nms:
        parser.error("--int8 quantises the raw-output graph; drop --nms")
    if args.nms and args.format == "openvino":
        parser.error("--nms is for ONNX only: the OpenVINO IR holds the raw outputs; OpenVINO appends the post-processing")
    if args.set and not args.calibration:
        parser.error("--set changes the --calibration config; give --calibration CONFIG")
    args.dynamic_batch = args.dynamic_batch or args.int8 or args.format == "openvino"  # INT8 is scored at batch 8
    calibration = apply_overrides(load_config(args.calibration), args.set).data if args.calibration else None  # before exporting
    model, config, class_names = load_checkpoint(args.checkpoint)
    out = export(args, model, config, class_names)
    try:
        check(model, out, dynamic_batch=args.dynamic_batch, nms=args.nms)
    except AssertionError as error:  # the exported file computes otherwise than PyTorch
        sys.exit(f"export check FAILED: {error}")
    print(f"wrote {out} (checked against PyTorch)")
    if args.int8 or args.bf16:
        val_set = val_split(config, class_names, calibration)  # built once for both scorings
    if args.int8:
        int8(args, config, out, val_set)
    if args.bf16:
        bf16(config, out, val_set)
