"""tools/convert/tf_ssdlite_to_ckpt.py: a checkpoint from the TF graph, and one-line errors for bad graphs and labels."""

from pathlib import Path

import pytest
from tool_process import error_line, run_tool

from ssdlite.checkpoint import load_checkpoint
from ssdlite.convert.labels import LabelMapError, read_class_names

TOOL = "tools/convert/tf_ssdlite_to_ckpt.py"
COCO_LABEL_MAP = """item {
  name: "/m/01g317"
  id: 1
  display_name: "person"
}
item { name: "/m/0199g" id: 2 display_name: 'bicycle' }
item { id: 4 name: "motorcycle" }
"""


def test_label_map_names_with_gaps(tmp_path):
    label_map = tmp_path / "coco.pbtxt"
    label_map.write_text(COCO_LABEL_MAP)
    assert read_class_names(str(label_map), 4) == ("person", "bicycle", "class_3", "motorcycle")
    with pytest.raises(LabelMapError, match="ids 1..4 but the graph has 90 object classes"):
        read_class_names(str(label_map), 90)


def test_names_file_and_list(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("person\ncar\n\n")
    assert read_class_names(str(names), 2) == ("person", "car")
    assert read_class_names("person, car", 2) == ("person", "car")
    with pytest.raises(LabelMapError, match="1 names but the graph has 2 object classes"):
        read_class_names("person", 2)


@pytest.mark.slow  # each case starts a Python that imports torch
def test_converts_the_graph(tf_ssdlite_graph, tmp_path):
    label_map = tmp_path / "person.pbtxt"
    label_map.write_text('item { id: 1 name: "person" }\n')
    result = run_tool(TOOL, tf_ssdlite_graph, "--labels", label_map, "--out", tmp_path / "person.ckpt")
    assert result.returncode == 0, result.stderr
    model, config, class_names = load_checkpoint(tmp_path / "person.ckpt")
    assert class_names == ("person",) and config.model.conv_padding == "tf_same" and config.model.loss.cls_loss == "focal"
    assert model.anchors.shape == (1917, 4)


@pytest.fixture(scope="module")
def bad_graphs(tf_ssdlite_graph, tmp_path_factory) -> dict[str, Path]:
    """Files that are no SSDLite graph: text, half a graph, five predictors, regular-convolution predictors, VALID padding."""
    from tensorboard.compat.proto.graph_pb2 import GraphDef

    folder = tmp_path_factory.mktemp("bad_graphs")
    data = tf_ssdlite_graph.read_bytes()
    graphs = {"text.pb": b"not a graph\n" * 100, "truncated.pb": data[: len(data) // 2]}
    for name, dropped in (("five_predictors.pb", "BoxPredictor_5/"), ("regular_conv.pb", "Predictor_depthwise")):
        graph_def = GraphDef()
        graph_def.ParseFromString(data)
        kept = [node for node in graph_def.node if dropped not in node.name]
        del graph_def.node[:]
        graph_def.node.extend(kept)
        graphs[name] = graph_def.SerializeToString()
    graph_def = GraphDef()
    graph_def.ParseFromString(data)
    next(node for node in graph_def.node if node.op == "Conv2D").attr["padding"].s = b"VALID"
    graphs["valid_padding.pb"] = graph_def.SerializeToString()
    for name, content in graphs.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in graphs}


@pytest.mark.slow
@pytest.mark.parametrize(
    "graph, labels, message",
    [
        ("text.pb", "person", "not a complete TF GraphDef"),
        ("truncated.pb", "person", "not a complete TF GraphDef"),
        ("five_predictors.pb", "person", "predictors BoxPredictor_[0, 1, 2, 3, 4]"),
        ("regular_conv.pb", "person", "regular-convolution SSD"),
        ("valid_padding.pb", "person", "convolutions padded ['SAME', 'VALID']"),
        ("graph", "person,car", "2 names but the graph has 1 object classes"),
    ],
)
def test_bad_input_is_one_line(bad_graphs, tf_ssdlite_graph, tmp_path, graph, labels, message):
    path = tf_ssdlite_graph if graph == "graph" else bad_graphs[graph]
    out = tmp_path / "model.ckpt"
    result = run_tool(TOOL, path, "--labels", labels, "--out", out, timeout=300)
    error_line(result, *([] if graph == "graph" else [path]), message)
    assert not out.exists() and not list(tmp_path.glob(".model.ckpt*"))
