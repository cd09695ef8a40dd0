"""COCO detection metrics through COCOeval (`ssdlite.coco_eval`), behind one evaluator.

`CocoEvaluator` (reset / update / compute, as torchmetrics and detectron2's
`DatasetEvaluator`) scores validation during training, `tools/eval.py` and the
benchmarks alike. It owns both conversions between our detections and COCO's
results format: contiguous label k -> category id, and xyxy boxes -> xywh.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torch import Tensor
from torch.utils.data import DataLoader
from torchvision.ops import box_convert

from ssdlite.coco_eval import DEFAULT_BACKEND, CocoevalBackend, label_order_precision, run_cocoeval
from ssdlite.data.batch import collate, image_ids, original_sizes
from ssdlite.data.coco import CocoDetection

# Order of COCOeval.stats for bounding boxes.
STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def coco_results(boxes, scores, labels, image_id: int, label_to_category_id: Mapping[int, int]) -> list[dict]:
    """COCO results entries of one image's detections.

    Args:
        boxes: Tensor or array [K, 4], xyxy pixels of the original image.
        scores: [K].
        labels: [K], contiguous labels 1..C-1.
        image_id: the COCO image id.
        label_to_category_id: contiguous label -> COCO category id.

    Returns:
        [{"image_id", "category_id", "bbox": [x, y, w, h] (pixels, 3 decimals), "score" (5 decimals)}, ...]
    """
    xywh = box_convert(torch.as_tensor(boxes).detach().cpu().double().reshape(-1, 4), "xyxy", "xywh")
    scores, labels = torch.as_tensor(scores).tolist(), torch.as_tensor(labels).tolist()
    return [
        {
            "image_id": int(image_id),
            "category_id": label_to_category_id[int(label)],
            "bbox": [round(v, 3) for v in box],
            "score": round(float(score), 5),
        }
        for box, score, label in zip(xywh.tolist(), scores, labels)
    ]


@dataclass
class CocoEvaluation:
    """What `CocoEvaluator.compute` found."""

    metrics: dict[str, float]  # "AP", "AP50", ... (STAT_NAMES) and "AP/<class name>", in points (0-100)
    results: list[dict]  # COCO results entries, each image once
    image_ids: list[int]  # images scored, each once
    cocoeval: COCOeval | None  # (or faster_coco_eval's) precision / recall arrays; None when nothing was scored
    skipped_image_ids: list[int] = field(default_factory=list)  # expected but never scored (unreadable, damaged)

    @property
    def num_images(self) -> int:
        return len(self.image_ids)


class CocoEvaluator:
    """Accumulates detections image by image and scores them with COCOeval.

    Under `torch.distributed`, `compute` gathers every rank's images first; an
    image a distributed sampler repeated to pad a rank counts once.

    Args:
        coco_gt: the ground truth.
        label_to_category_id: contiguous label k (1..K) -> COCO category id.
        class_names: the names of labels 1..K, for the per-class entries.
        expected_image_ids: the images to be scored; those never added are reported as skipped
            (a dataset skips an unreadable image, and the score is then over fewer images).
    """

    def __init__(
        self,
        coco_gt: COCO,
        label_to_category_id: Mapping[int, int],
        class_names: Sequence[str],
        expected_image_ids: Sequence[int] = (),
    ):
        self.coco_gt = coco_gt
        self.expected_image_ids = [int(i) for i in expected_image_ids]
        self.label_to_category_id = dict(label_to_category_id)
        self.class_names = tuple(class_names)
        if sorted(self.label_to_category_id) != list(range(1, len(self.class_names) + 1)):
            raise ValueError(
                f"need a category id for each label 1..{len(self.class_names)}, got labels {sorted(self.label_to_category_id)}"
            )
        self.per_image: list[tuple[int, list[dict]]] = []

    @classmethod
    def for_dataset(cls, dataset: CocoDetection) -> "CocoEvaluator":
        """An evaluator of `dataset`'s images, in its label space."""
        return cls(dataset.coco, dataset.label_to_category_id, dataset.class_names, dataset.image_ids)

    @property
    def category_ids(self) -> list[int]:
        """The COCO category id of each label 1..K, in label order."""
        return [self.label_to_category_id[label] for label in range(1, len(self.class_names) + 1)]

    def reset(self) -> None:
        self.per_image = []

    def update(self, detections: list[dict[str, Tensor]], ids: Sequence[int]) -> None:
        """Add the detections of a batch.

        Args:
            detections: per image, "boxes" Tensor[K, 4] xyxy pixels of the original
                image, "scores" Tensor[K], "labels" Tensor[K] in 1..K.
            ids: the COCO image id of each entry of `detections`.
        """
        if len(detections) != len(ids):
            raise ValueError(f"got {len(detections)} detections for {len(ids)} image ids")
        for detection, image_id in zip(detections, ids):
            entries = coco_results(
                detection["boxes"], detection["scores"], detection["labels"], image_id, self.label_to_category_id
            )
            self.per_image.append((int(image_id), entries))

    def compute(self) -> CocoEvaluation:
        """Metrics over every image added since the last `reset`, on every rank."""
        results, ids = merge_images(gather_from_ranks(self.per_image))
        metrics, cocoeval = evaluate_coco(self.coco_gt, results, ids, self.category_ids, self.class_names)
        skipped = sorted(set(self.expected_image_ids) - set(ids))
        return CocoEvaluation(metrics, results, ids, cocoeval, skipped)


def gather_from_ranks(items: list) -> list:
    """Every rank's `items`, rank after rank; outside `torch.distributed`, `items` itself."""
    if not (dist.is_available() and dist.is_initialized()):
        return items
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, items)
    return [item for rank_items in gathered for item in rank_items]


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
    *,
    backend: CocoevalBackend = DEFAULT_BACKEND,
) -> tuple[dict[str, float], COCOeval | None]:
    """COCO box metrics for `results` on `image_ids`.

    Args:
        coco_gt: ground truth.
        results: COCO results entries (see `coco_results`).
        image_ids: images to score (each once); images with no detections count as misses.
        category_ids: categories to score, in label order (label k = category_ids[k-1]).
        class_names: names of `category_ids`, for the per-class entries.
        backend: whose COCOeval; faster_coco_eval's when installed.

    Returns:
        (metrics, cocoeval): "AP", "AP50", ... and "AP/<class name>" per class,
        in points (0-100, as papers and the printed tables quote them: COCOeval's
        fraction x 100); cocoeval holds precision/recall arrays (None when there
        was nothing to score).
    """
    metrics = {name: 0.0 for name in STAT_NAMES} | {f"AP/{name}": 0.0 for name in class_names}
    if not results or not image_ids:
        return metrics, None
    cocoeval = run_cocoeval(coco_gt, results, image_ids, category_ids, backend=backend)
    metrics.update({name: 100 * max(float(value), 0.0) for name, value in zip(STAT_NAMES, cocoeval.stats)})
    precision = label_order_precision(cocoeval, category_ids)
    for index, name in enumerate(class_names):
        class_precision = precision[:, :, index]
        valid = class_precision[class_precision > -1]
        metrics[f"AP/{name}"] = 100 * float(np.mean(valid)) if valid.size else 0.0
    return metrics, cocoeval


@torch.inference_mode()
def evaluate_model(model, dataset: CocoDetection, batch_size: int = 16, num_workers: int = 0) -> CocoEvaluation:
    """Run `model` over a validation `CocoDetection` and score it.

    Args:
        model: an `nn.Module` with `predict(images Tensor[B, 3, H, W], original sizes)`
            returning detections as `SSDLite.predict` does (our model, or a wrapper).
        dataset: the validation split; its labels are the model's.
    """
    device = next(model.parameters()).device
    return evaluate_predict(lambda images, sizes: model.predict(images.to(device), sizes), dataset, batch_size, num_workers)


@torch.inference_mode()
def evaluate_predict(
    predict: Callable[[torch.Tensor, list[tuple[int, int]]], list[dict]],
    dataset: CocoDetection,
    batch_size: int = 16,
    num_workers: int = 0,
) -> CocoEvaluation:
    """Score `predict(images Tensor[B, 3, H, W], original sizes)` -> detections as
    `SSDLite.predict` gives them (e.g. `Detector.predict_tensors`) on a validation split."""
    evaluator = CocoEvaluator.for_dataset(dataset)
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, collate_fn=collate)
    for images, targets in loader:
        evaluator.update(predict(images, original_sizes(targets)), image_ids(targets))
    return evaluator.compute()


def summary_table(metrics: dict[str, float]) -> str:
    """The metrics as a printable table: overall, then one row per class."""
    lines = ["metric      value", "-----------------"]
    lines += [f"{name:<10} {metrics[name]:6.2f}" for name in STAT_NAMES]
    per_class = [(key[3:], value) for key, value in metrics.items() if key.startswith("AP/")]
    if per_class:
        width = max(len(name) for name, _ in per_class)
        lines += ["", f"{'class':<{width}}  AP", "-" * (width + 8)]
        lines += [f"{name:<{width}}  {value:6.2f}" for name, value in per_class]
    return "\n".join(lines)
