"""What an exported file says about itself: the config and class names it was exported with."""

import json
from pathlib import Path

import onnx

from ssdlite.config import Config, from_dict, to_dict

METADATA_KEYS = ("ssdlite_config", "ssdlite_class_names")  # ONNX metadata_props; OpenVINO rt_info under "ssdlite"


def metadata(config: Config, class_names: tuple[str, ...]) -> dict[str, str]:
    """The metadata an exported file carries, by key of `METADATA_KEYS`."""
    return {"ssdlite_config": json.dumps(to_dict(config)), "ssdlite_class_names": json.dumps(list(class_names))}


def onnx_metadata(model: str | Path | onnx.ModelProto) -> dict[str, str]:
    """The metadata_props of an ONNX file (its weights are not read) or model."""
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model), load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}


def set_onnx_metadata(model: onnx.ModelProto, values: dict[str, str]) -> None:
    """Replace the metadata_props of `model` by `values`."""
    del model.metadata_props[:]
    for key, value in values.items():
        model.metadata_props.add(key=key, value=value)


def parse_metadata(values: dict[str, str], path: str | Path) -> tuple[Config, tuple[str, ...]]:
    """(config, class names) of the metadata of the file at `path`; ValueError naming it when they are missing."""
    if any(key not in values for key in METADATA_KEYS):
        raise ValueError(
            f"{path} has no ssdlite metadata (config, class names): it was not written by "
            "tools/export.py; export the checkpoint again"
        )
    return from_dict(json.loads(values["ssdlite_config"])), tuple(json.loads(values["ssdlite_class_names"]))
