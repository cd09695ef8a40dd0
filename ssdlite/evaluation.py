"""COCO detection metrics through pycocotools' own COCOeval."""

import contextlib
import io

import numpy as np
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torch.utils.data import DataLoader

from ssdlite.data.build import collate

# Order of COCOeval.stats for bounding boxes.
STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def to_coco_results(
    detections: list[dict[str, torch.Tensor]], image_ids: list[int], label_to_category_id: dict[int, int]
) -> list[dict]:
    """COCO results entries from detections.

    Args:
        detections: per image, "boxes" Tensor[K, 4] xyxy original pixels,
            "scores" Tensor[K], "labels" Tensor[K] (contiguous labels 1..C-1).
        image_ids: the COCO image id of each entry of `detections`.
        label_to_category_id: contiguous label -> COCO category id.

    Returns:
        [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]
    """
    results = []
    for detection, image_id in zip(detections, image_ids):
        boxes = detection["boxes"].detach().cpu().double()
        xywh = torch.cat([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], dim=1).tolist()
        for box, score, label in zip(xywh, detection["scores"].tolist(), detection["labels"].tolist()):
            results.append(
                {
                    "image_id": int(image_id),
                    "category_id": label_to_category_id[int(label)],
                    "bbox": [round(v, 3) for v in box],
                    "score": round(float(score), 5),
                }
            )
    return results


def merge_images(per_image: list[tuple[int, list[dict]]]) -> tuple[list[dict], list[int]]:
    """Flatten per-image results, keeping each image once.

    A distributed sampler pads ranks by repeating images; gathered
    predictions then hold those images twice. The first copy is kept.

    Args:
        per_image: (image_id, COCO results entries of that image) pairs.

    Returns:
        (results, image_ids), each image id once.
    """
    first = {}
    for image_id, entries in per_image:
        first.setdefault(int(image_id), entries)
    return [entry for entries in first.values() for entry in entries], list(first)


def evaluate_coco(
    coco_gt: COCO,
    results: list[dict],
    image_ids: list[int],
    category_ids: list[int],
    class_names: tuple[str, ...],
) -> tuple[dict[str, float], COCOeval | None]:
    """COCO box metrics for `results` on `image_ids`.

    Args:
        coco_gt: ground truth.
        results: COCO results entries (see `to_coco_results`).
        image_ids: images to score (each once); images with no detections count as misses.
        category_ids: categories to score, in label order (label k = category_ids[k-1]).
        class_names: names of `category_ids`, for the per-class entries.

    Returns:
        (metrics, cocoeval): "AP", "AP50", ... as fractions in [0, 1], and
        "AP/<class name>" per class; cocoeval holds precision/recall arrays
        (None when there was nothing to score).
    """
    metrics = {name: 0.0 for name in STAT_NAMES} | {f"AP/{name}": 0.0 for name in class_names}
    if not results or not image_ids:
        return metrics, None
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        coco_dt = coco_gt.loadRes([dict(r) for r in results])  # loadRes adds keys to what it is given
        cocoeval = COCOeval(coco_gt, coco_dt, iouType="bbox")
        cocoeval.params.imgIds = sorted(set(image_ids))
        cocoeval.params.catIds = list(category_ids)
        cocoeval.evaluate()
        cocoeval.accumulate()
        cocoeval.summarize()
    metrics.update({name: max(float(value), 0.0) for name, value in zip(STAT_NAMES, cocoeval.stats)})
    # precision: [IoU thresholds, recall points, classes, area ranges, max dets]; -1 = no ground truth
    precision = cocoeval.eval["precision"][:, :, :, 0, -1]
    for index, name in enumerate(class_names):
        class_precision = precision[:, :, index]
        valid = class_precision[class_precision > -1]
        metrics[f"AP/{name}"] = float(np.mean(valid)) if valid.size else 0.0
    return metrics, cocoeval


@torch.inference_mode()
def evaluate_model(model, dataset, class_names: tuple[str, ...], batch_size: int = 16, num_workers: int = 0):
    """Run `model` over a validation `CocoDetection` and score it.

    Returns:
        (metrics, results): see `evaluate_coco`; results are COCO results entries.
    """
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, collate_fn=collate)
    device = next(model.parameters()).device
    per_image = []
    for images, targets in loader:
        orig_sizes = [tuple(int(v) for v in t["orig_size"]) for t in targets]
        detections = model.predict(images.to(device), orig_sizes)
        for detection, target in zip(detections, targets):
            image_id = int(target["image_id"])
            per_image.append((image_id, to_coco_results([detection], [image_id], dataset.label_to_category_id)))
    results, image_ids = merge_images(per_image)
    category_ids = [dataset.label_to_category_id[k] for k in range(1, len(class_names) + 1)]
    metrics, _ = evaluate_coco(dataset.coco, results, image_ids, category_ids, class_names)
    return metrics, results


def summary_table(metrics: dict[str, float]) -> str:
    """The metrics as a printable table: overall, then one row per class."""
    lines = ["metric      value", "-----------------"]
    lines += [f"{name:<10} {100 * metrics[name]:6.2f}" for name in STAT_NAMES]
    per_class = [(key[3:], value) for key, value in metrics.items() if key.startswith("AP/")]
    if per_class:
        width = max(len(name) for name, _ in per_class)
        lines += ["", f"{'class':<{width}}  AP", "-" * (width + 8)]
        lines += [f"{name:<{width}}  {100 * value:6.2f}" for name, value in per_class]
    return "\n".join(lines)
