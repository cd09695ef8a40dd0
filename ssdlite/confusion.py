"""Which class the detector said for each ground-truth box: a confusion matrix with a background row and column.

supervision's `ConfusionMatrix` does the matching. Per image, detections scoring at
least `score_threshold` are paired with ground-truth boxes of IoU above
`iou_threshold` (same class first, then by IoU), each box and detection at most
once. Rows are the true class, columns the predicted one, both in label order;
the last row and column are background: a detection that matched no box is
counted in the background row (a false positive), a box no detection matched in
the background column (a miss). Crowd regions are left out, as COCOeval ignores them.
"""

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from supervision.metrics.detection import ConfusionMatrix

from ssdlite.assets import write_atomically
from ssdlite.evaluation import CocoEvaluation, CocoEvaluator

BACKGROUND = "background"
# Detections at least this confident are counted: a deployment's threshold, not the
# near-zero one COCO mAP is computed at (which would fill the background row).
DEFAULT_SCORE_THRESHOLD = 0.3


def confusion_matrix(
    evaluator: CocoEvaluator,
    evaluation: CocoEvaluation,
    *,
    score_threshold: float = DEFAULT_SCORE_THRESHOLD,
    iou_threshold: float = 0.5,
) -> ConfusionMatrix:
    """The confusion matrix of `evaluation`'s detections against `evaluator`'s ground truth.

    Args:
        evaluator: the ground truth and label space (`coco_gt`, `label_to_category_id`, `class_names`).
        evaluation: what `evaluator.compute()` returned: its COCO results (xywh pixels) and image ids.
        score_threshold: detections scoring below this are left out.
        iou_threshold: a detection and a box match when their IoU is above this.

    Returns:
        `matrix` int [K + 1, K + 1]: row = true label - 1, column = predicted label - 1, index K background.
    """
    index_of = {category_id: label - 1 for label, category_id in evaluator.label_to_category_id.items()}
    detections = defaultdict(list)
    for entry in evaluation.results:
        detections[entry["image_id"]].append([*entry["bbox"], index_of[entry["category_id"]], entry["score"]])
    predictions, targets = [], []
    for image_id in evaluation.image_ids:
        boxes = [
            [*ann["bbox"], index_of[ann["category_id"]]]
            for ann in evaluator.coco_gt.imgToAnns.get(image_id, [])
            if ann["category_id"] in index_of and not ann.get("iscrowd", 0)
        ]
        targets.append(_xywh_to_xyxy(boxes, num_columns=5))
        predictions.append(_xywh_to_xyxy(detections[image_id], num_columns=6))
    return ConfusionMatrix.from_tensors(
        predictions, targets, list(evaluator.class_names), conf_threshold=score_threshold, iou_threshold=iou_threshold
    )


def _xywh_to_xyxy(rows: list[list[float]], *, num_columns: int) -> np.ndarray:
    """Rows `x, y, w, h, ...` as an array [N, num_columns] of rows `x0, y0, x1, y1, ...`."""
    array = np.array(rows, dtype=np.float64).reshape(-1, num_columns)
    array[:, 2:4] += array[:, :2]
    return array


def confusion_to_dict(confusion: ConfusionMatrix) -> dict:
    """The matrix as plain data, with what its rows, columns and thresholds mean."""
    return {
        "classes": [*confusion.classes, BACKGROUND],
        "rows": "true class",
        "columns": "predicted class",
        "score_threshold": confusion.conf_threshold,
        "iou_threshold": confusion.iou_threshold,
        "matrix": confusion.matrix.tolist(),
    }


def write_confusion_json(confusion: ConfusionMatrix, path: Path) -> None:
    """`confusion_to_dict` as JSON, written then renamed."""
    write_atomically(path, lambda temporary: temporary.write_text(json.dumps(confusion_to_dict(confusion), indent=2)))
