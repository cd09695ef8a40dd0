"""COCO mAP of a checkpoint: python tools/eval.py [CONFIG] --checkpoint PATH [--out DIR]

The checkpoint carries its config and class names; CONFIG (optional) only
replaces the data section, to evaluate on other data. Writes metrics.json,
detections.json and a confusion matrix (confusion_matrix.png and .json).
"""

import argparse
import json
import sys
from pathlib import Path

from ssdlite.checkpoint import CheckpointError, load_checkpoint
from ssdlite.config import ConfigError, apply_overrides, load_config
from ssdlite.confusion import DEFAULT_SCORE_THRESHOLD, confusion_matrix, confusion_to_dict, write_confusion_json
from ssdlite.data.build import build_dataset
from ssdlite.data.coco import DatasetError
from ssdlite.evaluation import CocoEvaluator, evaluate_model, summary_table
from ssdlite.inference.runtimes import DeviceError, torch_device
from ssdlite.training.plots import plot_confusion_matrix


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", nargs="?", help="config whose data section to evaluate on (default: the checkpoint's)")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="data overrides, e.g. data.batch_size=8")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, ...")
    parser.add_argument("--out", help="where the metrics, detections and confusion matrix go (default: beside the checkpoint)")
    parser.add_argument(
        "--confusion-score",
        type=float,
        default=DEFAULT_SCORE_THRESHOLD,
        help="detections scoring at least this count in the confusion matrix (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        device = torch_device(args.device)
        model, config, class_names = load_checkpoint(args.checkpoint, map_location=device)
        if args.config:
            config.data = load_config(args.config).data
        config = apply_overrides(config, args.set)
        config.data.classes = class_names  # labels must mean what they meant in training
        dataset = build_dataset(config.data, "val", config.model.image_size)
        evaluation = evaluate_model(model, dataset, config.data.batch_size, config.data.num_workers)
    except (CheckpointError, ConfigError, DatasetError, DeviceError) as error:
        sys.exit(f"error: {' '.join(str(error).split())}")  # one line, though torch.load's reasons span several
    print(summary_table(evaluation.metrics))
    skipped = evaluation.skipped_image_ids
    if skipped:
        more = ", ..." if len(skipped) > 5 else ""
        print(
            f"scored {evaluation.num_images} of {len(dataset)} images: skipped {len(skipped)} unreadable or damaged "
            f"(image ids {skipped[:5]}{more}; each named above), so this is not the full split's score"
        )
    out = Path(args.out) if args.out else Path(args.checkpoint).parent
    out.mkdir(parents=True, exist_ok=True)
    counts = {"num_images": evaluation.num_images, "num_images_skipped": len(skipped), "skipped_image_ids": skipped}
    (out / "metrics.json").write_text(json.dumps(evaluation.metrics | counts, indent=2))
    (out / "detections.json").write_text(json.dumps(evaluation.results))
    print(f"wrote {out / 'metrics.json'} and {out / 'detections.json'} (COCO results format)")
    confusion = confusion_matrix(CocoEvaluator.for_dataset(dataset), evaluation, score_threshold=args.confusion_score)
    write_confusion_json(confusion, out / "confusion_matrix.json")
    plot_confusion_matrix(confusion_to_dict(confusion), out / "confusion_matrix.png")
    print(f"wrote {out / 'confusion_matrix.png'} and .json (rows: true class, columns: predicted, background last)")


if __name__ == "__main__":
    main()
