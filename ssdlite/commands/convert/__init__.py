"""ssdlite convert: other datasets' labels to COCO JSON, other frameworks' detectors to ssdlite checkpoints.

Each converter is the code its script in tools/convert/ runs; `ssdlite convert NAME --help` gives its arguments.
"""

from ssdlite.commands import dispatch
from ssdlite.data.converters import write_json

CONVERTERS = {
    "bdd100k": ("ssdlite.commands.convert.bdd100k", "BDD100K detection labels (Scalabel JSON) to COCO JSON"),
    "kitti": ("ssdlite.commands.convert.kitti", "KITTI object labels to COCO JSON"),
    "tf-ssdlite": ("ssdlite.commands.convert.tf_ssdlite", "a TF Object Detection API SSDLite frozen graph to a checkpoint"),
    "oidv4": ("ssdlite.commands.convert.oidv4", "MediaPipe's Open Images V4 SSD-MobileNetV2 (TFLite) to a checkpoint"),
}


def main(argv: list[str] | None = None) -> None:
    dispatch("ssdlite convert", __doc__, CONVERTERS, argv)


def write_coco(coco: dict, out: str) -> None:
    """Write a converted COCO file whole (write then rename) and say what it holds."""
    write_json(coco, out)
    print(f"wrote {out}: {len(coco['images'])} images, {len(coco['annotations'])} boxes")
