"""Which COCOeval scores the detections: faster-coco-eval's when it is installed, pycocotools' otherwise.

faster-coco-eval (Apache-2.0) is pycocotools' algorithm with its per-image matching and
accumulation in C++: the same numbers, several times faster at COCO scale.
"""

import contextlib
import functools
import io
from typing import Literal

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

try:
    import faster_coco_eval
except ImportError:  # optional: pycocotools gives the same numbers, slower
    faster_coco_eval = None

CocoevalBackend = Literal["faster_coco_eval", "pycocotools"]
DEFAULT_BACKEND: CocoevalBackend = "pycocotools" if faster_coco_eval is None else "faster_coco_eval"


def run_cocoeval(
    coco_gt: COCO, results: list[dict], image_ids: list[int], category_ids: list[int], *, backend: CocoevalBackend
) -> COCOeval:
    """A bounding-box COCOeval of `results` on `image_ids` and `category_ids`: evaluated, accumulated, summarized.

    Either backend's object has `stats`, `eval["precision"]` and `params` as pycocotools' has.
    """
    if backend == "faster_coco_eval":
        coco_gt = _faster_index(coco_gt)
        make_cocoeval = functools.partial(faster_coco_eval.COCOeval_faster, print_function=_quiet)
    else:
        make_cocoeval = COCOeval
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress and the summary
        coco_dt = coco_gt.loadRes([dict(r) for r in results])  # loadRes adds keys to what it is given
        cocoeval = make_cocoeval(coco_gt, coco_dt, iouType="bbox")
        cocoeval.params.imgIds = sorted(set(image_ids))
        cocoeval.params.catIds = list(category_ids)
        cocoeval.evaluate()
        cocoeval.accumulate()
        cocoeval.summarize()
    return cocoeval


@functools.lru_cache(maxsize=1)
def _faster_index(coco_gt: COCO) -> "faster_coco_eval.COCO":
    """faster-coco-eval's own index over the same annotation dicts, which its C++ side reads: built once
    per ground truth (a run validates on one), not at every evaluation."""
    return faster_coco_eval.COCO(coco_gt.dataset)


def _quiet(*args) -> None:
    """faster_coco_eval's COCOeval reports progress and the summary through this (else as INFO log lines)."""


def label_order_precision(cocoeval: COCOeval, category_ids: list[int]) -> np.ndarray:
    """Precision at every IoU threshold and recall point, all areas, 100 detections, one column per label.

    COCOeval sorts the category ids it scores; label k is `category_ids[k-1]`, whatever its id's rank.

    Returns:
        [IoU thresholds, recall points, labels]; -1 where a class has no ground truth.
    """
    # eval["precision"]: [IoU thresholds, recall points, classes, area ranges, max dets]
    columns = [list(cocoeval.params.catIds).index(category_id) for category_id in category_ids]
    return cocoeval.eval["precision"][:, :, columns, 0, -1]
