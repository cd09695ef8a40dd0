"""MediaPipe's Open Images V4 SSD-MobileNetV2 (a TFLite file inside npm's @mediapipe/objectron) as an ssdlite model.

The file is TF Object Detection API `ssd_mobilenet_v2` at 300x300: regular 3x3 extra layers and 1x1
box predictors (`model.head="ssd"`), TF "SAME" padding, batch norm folded into the conv biases,
float16 weights. MediaPipe's graph around it (ObjectDetectionOidV4Subgraph, compiled into the
package's wasm) scales the stretched 300x300 RGB image to [-1, 1], makes SSD anchors with aspect
ratios (1, 2, 0.5, 3, 0.3333), and decodes with a sigmoid per class (column 0, "???", is background)
and the (10, 10, 5, 5) box scales.
"""

import dataclasses
import re
import tarfile
from pathlib import Path

import torch
from torch import nn

from ssdlite.assets import shared_file
from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import TF_MEAN, TF_STD, Config, ModelConfig
from ssdlite.config_groups import AnchorConfig, LossConfig
from ssdlite.convert.tf_layout import identity_batchnorm_with_bias_, tf_box_order_to_ours
from ssdlite.convert.tflite_graph import Conv, SSDGraph, TFLiteError, read_ssd_graph
from ssdlite.model.build import build_model
from ssdlite.model.detector import SSDLite

OBJECTRON_PACKAGE = "@mediapipe/objectron@0.4.1675468480"
OBJECTRON_TARBALL = "mediapipe-objectron-0.4.1675468480.tgz"
PACKED_ASSETS = "package/objectron_solution_packed_assets.data"
ASSETS_LOADER = "package/objectron_solution_packed_assets_loader.js"  # lists each file's byte range in PACKED_ASSETS
TFLITE_NAME = "object_detection_ssd_mobilenetv2_oidv4_fp16.tflite"
LABELMAP_NAME = "object_detection_oidv4_labelmap.txt"
# The Open Images names our driving classes have; the others keep their own name, lower-cased.
# "Vehicle" is Open Images' parent of car, bus, truck, motorcycle and more: no one class of ours.
PROJECT_NAMES = {"Person": "person", "Bicycle": "bicycle", "Car": "car"}


def oidv4_model_config() -> ModelConfig:
    """The settings under which our model computes what the TFLite file and MediaPipe's graph compute."""
    return ModelConfig(
        image_size=(300, 300),
        head="ssd",
        head_kernel_size=1,
        extra_channels=(512, 256, 256, 128),
        conv_padding="tf_same",
        image_mean=TF_MEAN,  # MediaPipe's output_tensor_float_range -1..1
        image_std=TF_STD,
        # TF's ssd configs write 1/3 as 0.3333, and MediaPipe's anchor options carry the same.
        anchors=AnchorConfig(min_scale=0.2, max_scale=0.95, aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333)),
        box_coder_weights=(10.0, 10.0, 5.0, 5.0),
        loss=LossConfig(cls_loss="focal"),  # sigmoid scores, column 0 (background) dropped
    )


def installed_objectron() -> Path:
    """The npm tarball `make install` fetched into `<env>/share/ssdlite`."""
    return shared_file(OBJECTRON_TARBALL, f"run `make install`, or `npm pack {OBJECTRON_PACKAGE}` into that folder")


def read_objectron(tarball: str | Path) -> tuple[bytes, list[str]]:
    """The OIDv4 detector's .tflite bytes and its label map (line 0 is background) from the npm tarball.

    Raises:
        TFLiteError: the tarball lacks the packed assets, or they do not hold the files where its loader says.
    """
    fix = f"pass the tarball of `npm pack {OBJECTRON_PACKAGE}`"
    try:
        with tarfile.open(tarball) as archive:
            loader = archive.extractfile(ASSETS_LOADER).read().decode()
            packed = archive.extractfile(PACKED_ASSETS).read()
    except (tarfile.TarError, KeyError, AttributeError, OSError, EOFError) as error:
        reason = " ".join(str(error).split())  # tarfile lists every method it tried, one a line
        raise TFLiteError(f"{tarball} is not a readable {OBJECTRON_PACKAGE} tarball ({reason}); {fix}") from error
    ranges = {
        Path(name).name: (int(start), int(end))
        for name, start, end in re.findall(r'"filename": "([^"]+)", "start": (\d+), "end": (\d+)', loader)
    }
    if TFLITE_NAME not in ranges or LABELMAP_NAME not in ranges:
        raise TFLiteError(f"{tarball}: its asset loader lists no {TFLITE_NAME} and {LABELMAP_NAME}; {fix}")
    start, end = ranges[TFLITE_NAME]
    tflite_bytes = packed[start:end]
    if len(tflite_bytes) != end - start or tflite_bytes[4:8] != b"TFL3":
        raise TFLiteError(f"{tarball}: bytes {start}-{end} of {PACKED_ASSETS} are not a TFLite file; {fix}")
    labels = packed[slice(*ranges[LABELMAP_NAME])].decode().splitlines()
    return tflite_bytes, labels


def class_names(labels: list[str]) -> tuple[str, ...]:
    """Our names for label map lines 1.. (line 0 is background): driving classes by our name, others lower-cased."""
    return tuple(PROJECT_NAMES.get(label, label.lower()) for label in labels[1:])


def convert(tflite_bytes: bytes, labels: list[str], source: str) -> tuple[SSDLite, Config, tuple[str, ...]]:
    """Our model holding the TFLite file's weights, in eval mode, with its config and class names.

    Args:
        tflite_bytes: the .tflite file.
        labels: its label map, background first.
        source: the file's name, for errors.

    Raises:
        TFLiteError: the file is no TFLite, is damaged, or is another model.
    """
    graph = read_ssd_graph(tflite_bytes, source)
    model_config = oidv4_model_config()
    expected_input = (1, *model_config.image_size, 3)
    if graph.input_shape != expected_input:
        raise TFLiteError(f"{source} takes {graph.input_shape}, not {expected_input}: another model; convert {TFLITE_NAME}")
    if len(labels) != graph.num_classes:
        raise TFLiteError(
            f"{source} has {graph.num_classes} class outputs but its label map {len(labels)} lines; use the matching label map"
        )
    model = build_model(model_config, num_classes=graph.num_classes).eval()
    load_weights(model, graph, source)
    return model, Config(model=model_config), class_names(labels)


def load_weights(model: SSDLite, graph: SSDGraph, source: str) -> None:
    """Copy the graph's convs into `model` (built from `oidv4_model_config`), in graph order."""
    convs = [m for m in model.backbone.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    if len(graph.features) != len(convs):
        raise TFLiteError(
            f"{source} has {len(graph.features)} feature convolutions, SSD-MobileNetV2 has {len(convs)}: "
            f"another model; convert {TFLITE_NAME}"
        )
    for index, (ours, theirs, norm) in enumerate(zip(convs, graph.features, norms)):
        _copy_conv(ours, theirs, source, index)
        # TF folded each batch norm into its conv: ours passes the folded shift through.
        identity_batchnorm_with_bias_(norm, theirs.bias)
    head = model.head
    for level, (box, cls) in enumerate(zip(graph.box_predictors, graph.class_predictors)):
        num_anchors = box.weight.shape[0] // 4
        box = dataclasses.replace(
            box, weight=tf_box_order_to_ours(box.weight, num_anchors), bias=tf_box_order_to_ours(box.bias, num_anchors)
        )
        _copy_conv(head.regression_head.module_list[level][-1], box, source, f"box predictor {level}", bias=True)
        _copy_conv(head.classification_head.module_list[level][-1], cls, source, f"class predictor {level}", bias=True)


@torch.no_grad()
def _copy_conv(ours: nn.Conv2d, theirs: Conv, source: str, where: int | str, *, bias: bool = False) -> None:
    if theirs.weight.shape != ours.weight.shape or theirs.stride != ours.stride or theirs.padding != "SAME":
        raise TFLiteError(
            f"{source}: convolution {where} ({theirs.name.split(';')[-1]}) is {tuple(theirs.weight.shape)} "
            f"stride {theirs.stride} {theirs.padding}, SSD-MobileNetV2 has {tuple(ours.weight.shape)} stride {ours.stride} "
            f"SAME: another model; convert {TFLITE_NAME}"
        )
    ours.weight.copy_(theirs.weight)
    if bias:
        ours.bias.copy_(theirs.bias)


def convert_to_checkpoint(tflite_bytes: bytes, labels: list[str], source: str, out: str | Path) -> tuple[str, ...]:
    """Convert and write an ssdlite checkpoint atomically (nothing is written when conversion fails); returns the class names."""
    model, config, names = convert(tflite_bytes, labels, source)
    save_checkpoint(out, model, config, names)
    return names
