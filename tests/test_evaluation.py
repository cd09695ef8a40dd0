import contextlib
import io
import subprocess
import sys

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ssdlite.evaluation import CocoEvaluator, coco_results, evaluate_coco, merge_images, summary_table

LABEL_TO_CATEGORY_ID = {1: 1, 2: 3, 3: 8}
CLASS_NAMES = ("person", "car", "truck")


def make_ground_truth() -> COCO:
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for image_id in range(1, 21):
        images.append({"id": image_id, "width": 640, "height": 480, "file_name": f"{image_id}.jpg"})
        for _ in range(rng.integers(1, 5)):
            x, y = rng.uniform(0, 500), rng.uniform(0, 350)
            w, h = rng.uniform(8, 140), rng.uniform(8, 130)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(rng.choice([1, 3, 8])),
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
    coco = COCO()
    coco.dataset = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 8, "name": "truck"}],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def noisy_detections(coco: COCO, seed: int = 1) -> list[dict]:
    """Ground truth jittered, relabelled now and then, plus false positives."""
    rng = np.random.default_rng(seed)
    results = []
    for ann in coco.dataset["annotations"]:
        if rng.random() < 0.15:
            continue
        x, y, w, h = ann["bbox"]
        jitter = rng.normal(0, 0.08, 4) * [w, h, w, h]
        category = ann["category_id"] if rng.random() > 0.1 else 1
        results.append(
            {
                "image_id": ann["image_id"],
                "category_id": category,
                "bbox": [x + jitter[0], y + jitter[1], w + jitter[2], h + jitter[3]],
                "score": float(rng.uniform(0.3, 1)),
            }
        )
    for image_id in range(1, 21):
        results.append(
            {"image_id": image_id, "category_id": 3, "bbox": [10.0, 10.0, 50.0, 40.0], "score": float(rng.uniform(0, 0.5))}
        )
    return results


def test_metrics_equal_pycocotools_called_directly():
    coco = make_ground_truth()
    results = noisy_detections(coco)
    metrics, _ = evaluate_coco(coco, results, list(range(1, 21)), [1, 3, 8], CLASS_NAMES, backend="pycocotools")
    with contextlib.redirect_stdout(io.StringIO()):
        reference = COCOeval(coco, coco.loadRes(results), "bbox")
        reference.evaluate()
        reference.accumulate()
        reference.summarize()
    assert metrics["AP"] == pytest.approx(100 * reference.stats[0], abs=1e-10)
    assert metrics["AP50"] == pytest.approx(100 * reference.stats[1], abs=1e-10)
    assert metrics["ARl"] == pytest.approx(100 * reference.stats[11], abs=1e-10)
    assert 20 < metrics["AP"] < 95  # the detections are imperfect, not hopeless
    # per-class AP averages to the overall AP
    assert np.mean([metrics["AP/person"], metrics["AP/car"], metrics["AP/truck"]]) == pytest.approx(metrics["AP"])


def test_faster_coco_eval_gives_the_numbers_of_pycocotools():
    pytest.importorskip("faster_coco_eval")
    coco = make_ground_truth()
    coco.dataset["annotations"][3]["iscrowd"] = 1  # crowd regions are ignored, not missed
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    results = [r for r in noisy_detections(coco, seed=2) if r["image_id"] != 4]  # image 4: every box missed
    image_ids = list(range(1, 21))
    fast, fast_eval = evaluate_coco(coco, results, image_ids, [1, 3, 8], CLASS_NAMES, backend="faster_coco_eval")
    slow, slow_eval = evaluate_coco(coco, results, image_ids, [1, 3, 8], CLASS_NAMES, backend="pycocotools")
    assert type(fast_eval).__module__.startswith("faster_coco_eval") and type(slow_eval).__module__.startswith("pycocotools")
    assert fast.keys() == slow.keys()
    assert all(fast[key] == pytest.approx(slow[key], abs=5e-4) for key in slow), (fast, slow)  # the same to 3 decimals
    assert fast_eval.eval["precision"].shape == slow_eval.eval["precision"].shape  # what the plots read


def test_without_faster_coco_eval_pycocotools_scores():
    code = (
        "import sys; sys.modules['faster_coco_eval'] = None\n"  # as if not installed: importing it fails
        "from ssdlite import coco_eval; print(coco_eval.DEFAULT_BACKEND)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pycocotools"


def test_per_class_ap_follows_the_labels_whatever_the_order_of_their_category_ids():
    coco, results = make_ground_truth(), noisy_detections(make_ground_truth())
    ascending, _ = evaluate_coco(coco, results, list(range(1, 21)), [1, 3, 8], ("person", "car", "truck"))
    other_order, cocoeval = evaluate_coco(coco, results, list(range(1, 21)), [8, 1, 3], ("truck", "person", "car"))
    assert other_order == ascending
    assert len({ascending[f"AP/{name}"] for name in CLASS_NAMES}) == 3  # a mix-up would show
    assert cocoeval.params.catIds == [1, 3, 8]


def test_no_detections_scores_zero():
    metrics, cocoeval = evaluate_coco(make_ground_truth(), [], [1, 2], [1, 3, 8], ("person", "car", "truck"))
    assert metrics["AP"] == 0.0 and metrics["AP/car"] == 0.0 and cocoeval is None


def test_images_repeated_by_a_distributed_sampler_count_once():
    entry = {"image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}
    results, image_ids = merge_images([(5, [entry]), (6, []), (5, [entry])])
    assert results == [entry] and image_ids == [5, 6]


def test_results_convert_boxes_and_labels():
    (result,) = coco_results(torch.tensor([[10.0, 20.0, 40.0, 60.0]]), torch.tensor([0.9]), torch.tensor([2]), 42, {1: 1, 2: 3})
    assert result == {"image_id": 42, "category_id": 3, "bbox": [10.0, 20.0, 30.0, 40.0], "score": 0.9}
    assert coco_results(np.zeros((0, 4), np.float32), np.zeros(0), np.zeros(0, np.int64), 42, {1: 1}) == []


def as_detections(results: list[dict], image_ids: list[int]) -> list[dict[str, torch.Tensor]]:
    """COCO results entries back as per-image detections: xyxy boxes, contiguous labels."""
    category_to_label = {c: label for label, c in LABEL_TO_CATEGORY_ID.items()}
    detections = []
    for image_id in image_ids:
        mine = [r for r in results if r["image_id"] == image_id]
        boxes = torch.tensor([r["bbox"] for r in mine], dtype=torch.float64).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        scores = torch.tensor([r["score"] for r in mine])
        labels = torch.tensor([category_to_label[r["category_id"]] for r in mine], dtype=torch.int64)
        detections.append({"boxes": boxes, "scores": scores, "labels": labels})
    return detections


def test_evaluator_accumulates_batches_and_scores_as_pycocotools():
    coco = make_ground_truth()
    evaluator = CocoEvaluator(coco, LABEL_TO_CATEGORY_ID, CLASS_NAMES)
    evaluator.update(as_detections([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9], "score": 0.9}], [1]), [1])
    evaluator.reset()  # forgets what came before
    detections = as_detections(noisy_detections(coco), list(range(1, 21)))
    evaluator.update(detections[:8], list(range(1, 9)))
    evaluator.update(detections[8:], list(range(9, 21)))
    evaluation = evaluator.compute()
    assert evaluation.num_images == 20 and evaluation.cocoeval is not None
    expected, _ = evaluate_coco(coco, evaluation.results, list(range(1, 21)), [1, 3, 8], CLASS_NAMES)
    assert evaluation.metrics == expected
    reference = noisy_detections(coco)
    assert len(evaluation.results) == len(reference)
    assert evaluation.metrics["AP"] == pytest.approx(
        evaluate_coco(coco, reference, list(range(1, 21)), [1, 3, 8], CLASS_NAMES)[0]["AP"], abs=0.1
    )


def test_evaluator_counts_an_image_sent_twice_once():
    coco = make_ground_truth()
    evaluator = CocoEvaluator(coco, LABEL_TO_CATEGORY_ID, CLASS_NAMES)
    detection = {"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "scores": torch.tensor([0.5]), "labels": torch.tensor([1])}
    evaluator.update([detection, detection], [5, 6])
    evaluator.update([detection], [5])  # a distributed sampler's padding
    evaluation = evaluator.compute()
    assert evaluation.num_images == 2 and [r["image_id"] for r in evaluation.results] == [5, 6]


def test_evaluator_reports_the_expected_images_never_scored():
    coco = make_ground_truth()
    evaluator = CocoEvaluator(coco, LABEL_TO_CATEGORY_ID, CLASS_NAMES, expected_image_ids=range(1, 21))
    detections = as_detections(noisy_detections(coco), list(range(1, 21)))
    evaluator.update(detections[:6] + detections[7:19], [*range(1, 7), *range(8, 20)])  # 7 and 20 unreadable
    evaluation = evaluator.compute()
    assert evaluation.num_images == 18 and evaluation.skipped_image_ids == [7, 20]
    assert CocoEvaluator(coco, LABEL_TO_CATEGORY_ID, CLASS_NAMES).compute().skipped_image_ids == []  # none expected


def test_evaluator_needs_a_category_for_every_label():
    with pytest.raises(ValueError, match="category id for each label"):
        CocoEvaluator(make_ground_truth(), {1: 1, 3: 8}, CLASS_NAMES)


def test_summary_table_lists_classes():
    table = summary_table(
        {
            "AP": 50.0,
            "AP50": 70.0,
            "AP75": 40.0,
            "APs": 0,
            "APm": 0,
            "APl": 0,
            "AR1": 0,
            "AR10": 0,
            "AR100": 0,
            "ARs": 0,
            "ARm": 0,
            "ARl": 0,
            "AP/car": 25.0,
        }
    )
    assert "AP50        70.00" in table and "car   25.00" in table
