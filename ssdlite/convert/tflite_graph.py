"""The convolutions of a TFLite SSD graph, read with the `tflite` flatbuffer package, weights as float32.

A TF Object Detection API SSD exported to TFLite ends in two raw outputs (box encodings and
class predictions), each a CONCATENATION of one RESHAPEd predictor conv per feature map.
Everything else that convolves is the feature extractor, in graph order. Float16 weights
reach their convs through DEQUANTIZE ops, which are followed here.
"""

import struct
from dataclasses import dataclass

import numpy as np
import tflite
import torch
from torch import Tensor

from ssdlite.convert.tf_layout import depthwise_1hwc_to_oihw, ohwi_to_oihw
from ssdlite.errors import SsdliteError

MAGIC = b"TFL3"  # the flatbuffer file identifier, at bytes 4-8
WEIGHT_TYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16}
OP_NAMES = {code: name for name, code in vars(tflite.BuiltinOperator).items() if not name.startswith("_")}
PADDING_NAMES = {code: name for name, code in vars(tflite.Padding).items() if not name.startswith("_")}


class TFLiteError(SsdliteError, ValueError):
    """A file that is not the TFLite model expected; the message names the file and the fix."""


@dataclass
class Conv:
    """One CONV_2D or DEPTHWISE_CONV_2D of the graph.

    Attributes:
        name: its output tensor's name (TFLite joins the fused TF op names with ';').
        weight: Tensor[O, I / groups, kH, kW] float32.
        bias: Tensor[O] float32 (the folded batch norm's shift for feature-extractor convs).
        stride: (sH, sW).
        depthwise: a DEPTHWISE_CONV_2D (groups = channels).
        padding: "SAME" or "VALID".
    """

    name: str
    weight: Tensor
    bias: Tensor
    stride: tuple[int, int]
    depthwise: bool
    padding: str


@dataclass
class SSDGraph:
    """A TFLite SSD split into its parts.

    Attributes:
        features: the feature extractor's convs, in graph order.
        box_predictors, class_predictors: one conv per feature map, finest first.
        num_classes: columns of the class output, background included.
        input_shape: (B, H, W, 3) of the input tensor.
    """

    features: list[Conv]
    box_predictors: list[Conv]
    class_predictors: list[Conv]
    num_classes: int
    input_shape: tuple[int, ...]


def read_ssd_graph(data: bytes, source: str) -> SSDGraph:
    """Parse a TFLite SSD from its bytes.

    Args:
        data: the .tflite file's bytes.
        source: what to call the file in errors.

    Raises:
        TFLiteError: not a TFLite file, a truncated one, or not an SSD of this layout.
    """
    if len(data) < 8 or data[4:8] != MAGIC:
        raise TFLiteError(f"{source} is not a TFLite file (no {MAGIC.decode()} identifier at byte 4); pass a .tflite model")
    try:
        return _read(data, source)
    except TFLiteError:
        raise
    except (IndexError, ValueError, TypeError, AttributeError, KeyError, struct.error) as error:
        raise TFLiteError(f"{source} could not be read as a TFLite model ({error}); is it truncated? fetch it again") from error


def _read(data: bytes, source: str) -> SSDGraph:
    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    codes = [_op_name(model.OperatorCodes(i)) for i in range(model.OperatorCodesLength())]
    ops = [graph.Operators(i) for i in range(graph.OperatorsLength())]
    kinds = [codes[op.OpcodeIndex()] for op in ops]
    producer = {int(t): index for index, op in enumerate(ops) for t in op.OutputsAsNumpy()}
    constants = _constants(model, graph, ops, kinds)
    outputs = {graph.Tensors(int(t)).Name().decode(): int(t) for t in graph.OutputsAsNumpy()}
    box_output = next((t for name, t in outputs.items() if "box" in name), None)
    class_output = next((t for name, t in outputs.items() if "class" in name), None)
    if box_output is None or class_output is None:
        raise TFLiteError(
            f"{source} is not a TF Object Detection API SSD with raw outputs (its outputs are {sorted(outputs)}, "
            "expected box encodings and class predictions); convert the matching model"
        )
    box_ops = _predictor_ops(box_output, producer, ops, kinds, source)
    class_ops = _predictor_ops(class_output, producer, ops, kinds, source)
    head = set(box_ops) | set(class_ops)
    convolutions = [i for i, kind in enumerate(kinds) if kind in ("CONV_2D", "DEPTHWISE_CONV_2D") and i not in head]

    def conv(index: int) -> Conv:
        return _conv(ops[index], kinds[index], graph, constants)

    return SSDGraph(
        features=[conv(i) for i in convolutions],
        box_predictors=[conv(i) for i in box_ops],
        class_predictors=[conv(i) for i in class_ops],
        num_classes=int(graph.Tensors(class_output).ShapeAsNumpy()[-1]),
        input_shape=tuple(int(d) for d in graph.Tensors(int(graph.InputsAsNumpy()[0])).ShapeAsNumpy()),
    )


def _op_name(code: "tflite.OperatorCode") -> str:
    # Files from newer converters put builtin codes above 127 in BuiltinCode, older ones in the deprecated byte.
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == tflite.BuiltinOperator.CUSTOM:
        return code.CustomCode().decode()
    return OP_NAMES.get(builtin, str(builtin))


def _constants(model, graph, ops, kinds) -> dict[int, np.ndarray]:
    """float32 values of the constant tensors, and of the DEQUANTIZE outputs that upcast float16 ones."""
    constants = {}
    for index in range(graph.TensorsLength()):
        tensor = graph.Tensors(index)
        raw = model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(raw, np.ndarray) and raw.size and tensor.Type() in WEIGHT_TYPES:
            shape = tuple(int(d) for d in tensor.ShapeAsNumpy())
            constants[index] = np.frombuffer(raw.tobytes(), WEIGHT_TYPES[tensor.Type()]).reshape(shape).astype(np.float32)
    for op, kind in zip(ops, kinds):
        source = int(op.InputsAsNumpy()[0])
        if kind == "DEQUANTIZE" and source in constants:
            constants[int(op.OutputsAsNumpy()[0])] = constants[source]
    return constants


def _predictor_ops(output: int, producer, ops, kinds, source: str) -> list[int]:
    """Indices of the convs whose reshaped outputs are concatenated into graph output `output`, in order."""

    def through_reshapes(tensor: int) -> int:
        index = producer[tensor]
        while kinds[index] == "RESHAPE":
            index = producer[int(ops[index].InputsAsNumpy()[0])]
        return index

    concat = through_reshapes(output)
    predictors = [through_reshapes(int(t)) for t in ops[concat].InputsAsNumpy()] if kinds[concat] == "CONCATENATION" else []
    if not predictors or any(kinds[i] != "CONV_2D" for i in predictors):
        raise TFLiteError(
            f"{source}: its outputs are not concatenated predictor convolutions, as a TF SSD's are; convert the matching model"
        )
    return predictors


def _conv(op, kind: str, graph, constants: dict[int, np.ndarray]) -> Conv:
    inputs = [int(t) for t in op.InputsAsNumpy()]
    weight = torch.from_numpy(constants[inputs[1]].copy())
    options_type = tflite.Conv2DOptions if kind == "CONV_2D" else tflite.DepthwiseConv2DOptions
    options = options_type()
    options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
    depthwise = kind == "DEPTHWISE_CONV_2D"
    weight = depthwise_1hwc_to_oihw(weight) if depthwise else ohwi_to_oihw(weight)
    bias = torch.from_numpy(constants[inputs[2]].copy()) if len(inputs) > 2 and inputs[2] >= 0 else torch.zeros(weight.shape[0])
    return Conv(
        name=graph.Tensors(int(op.OutputsAsNumpy()[0])).Name().decode(),
        weight=weight,
        bias=bias,
        stride=(options.StrideH(), options.StrideW()),
        depthwise=depthwise,
        padding=PADDING_NAMES.get(options.Padding(), str(options.Padding())),
    )
