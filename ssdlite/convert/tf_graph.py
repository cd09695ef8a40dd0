"""Reading a TensorFlow frozen graph (`GraphDef` protobuf) without TensorFlow.

A frozen graph holds its weights as `Const` nodes, each a `TensorProto`: a dtype, a
shape, and the values either packed little-endian in `tensor_content` or listed in a
typed `*_val` field (one value there fills the whole shape). TensorBoard ships the
protobuf classes, so parsing needs neither TensorFlow nor its 500 MB install.
"""

from pathlib import Path

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.tensor_pb2 import TensorProto

from ssdlite.errors import SsdliteError

# TF DataType enum -> (numpy dtype, the TensorProto field listing values when there is no tensor_content)
DTYPES = {
    1: (np.float32, "float_val"),
    2: (np.float64, "double_val"),
    3: (np.int32, "int_val"),
    4: (np.uint8, "int_val"),
    5: (np.int16, "int_val"),
    6: (np.int8, "int_val"),
    9: (np.int64, "int64_val"),
    10: (np.bool_, "bool_val"),
    19: (np.float16, "half_val"),  # half_val holds the bit patterns
}


class TFGraphError(SsdliteError, ValueError):
    """A file that is no usable TF frozen graph, or a graph of another architecture; the message names the file and the fix."""


def read_graph_def(path: str | Path) -> GraphDef:
    """Parse a frozen graph file.

    Raises:
        TFGraphError: the file is missing, truncated, or no `GraphDef` (e.g. a SavedModel or a checkpoint).
    """
    path = Path(path)
    if not path.is_file():
        raise TFGraphError(f"{path} does not exist; give the frozen_inference_graph.pb of an exported TF model")
    graph_def = GraphDef()
    try:
        graph_def.ParseFromString(path.read_bytes())
    except (DecodeError, RuntimeError) as error:  # RuntimeError: protobuf's C++ parser on some damaged files
        raise TFGraphError(
            f"{path} is not a complete TF GraphDef ({error}): the file is truncated or of another format; "
            "download or export frozen_inference_graph.pb again"
        ) from error
    if not any(node.op == "Const" for node in graph_def.node):
        raise TFGraphError(
            f"{path} holds no TF graph constants: give a frozen graph (frozen_inference_graph.pb), not a SavedModel or checkpoint"
        )
    return graph_def


def decode_tensor(tensor: TensorProto) -> np.ndarray | None:
    """The values of a `TensorProto` as a numpy array of its shape; None for dtypes without numbers (strings)."""
    if tensor.dtype not in DTYPES:
        return None
    dtype, field = DTYPES[tensor.dtype]
    shape = tuple(dim.size for dim in tensor.tensor_shape.dim)
    if tensor.tensor_content:
        return np.frombuffer(tensor.tensor_content, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)
    values = np.asarray(getattr(tensor, field))
    if tensor.dtype == 19:
        values = values.astype(np.uint16).view(np.float16)
    values = values.astype(dtype)
    if values.size == 0:
        return np.zeros(shape, dtype)
    return np.broadcast_to(values[-1], shape).copy() if values.size < np.prod(shape) else values.reshape(shape)


def graph_constants(graph_def: GraphDef) -> dict[str, np.ndarray]:
    """Node name -> value of every numeric `Const` node of the graph."""
    constants = {}
    for node in graph_def.node:
        if node.op == "Const":
            value = decode_tensor(node.attr["value"].tensor)
            if value is not None:
                constants[node.name] = value
    return constants
