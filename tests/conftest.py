"""Fixtures shared across test folders."""

import pytest

from ssdlite.assets import AssetError
from ssdlite.convert.tf_ssdlite import installed_person_graph


@pytest.fixture(scope="session")
def tf_ssdlite_graph():
    """The TF OD API SSDLite-MobileNetV2 person detector's frozen graph (an MIT package), or a skip."""
    try:
        return installed_person_graph()
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
