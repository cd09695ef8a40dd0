"""COCOeval at val2017 scale: faster-coco-eval against pycocotools, through `ssdlite.evaluation.evaluate_coco`.

python benchmarks/cocoeval_speed.py [--images 5000] [--detections 100] [--repeats 1]

Makes COCO-like ground truth (640x480 images, 1-14 boxes each over 80 categories, sizes
from small to large, as val2017 has about 7 a picture) and `--detections` results per image
(the boxes jittered, a tenth relabelled, the rest at random places and scores), then times
`evaluate_coco` with each backend (loading the results, evaluate, accumulate, summarize),
alternating them: wall-clock and this process's CPU seconds (both run on one thread; on a
shared machine the CPU seconds are the steadier figure). Prints the largest difference
between their metrics.
"""

import argparse
import contextlib
import io
import statistics
import time

import numpy as np
from pycocotools.coco import COCO

from ssdlite.evaluation import evaluate_coco

NUM_CATEGORIES = 80
WIDTH, HEIGHT = 640, 480


def random_boxes(rng: np.random.Generator, count: int) -> np.ndarray:
    """[count, 4] xywh pixels inside a WIDTH x HEIGHT image, sides log-uniform from 4 to 400."""
    sides = np.exp(rng.uniform(np.log(4), np.log(400), (count, 2)))
    sides = np.minimum(sides, [WIDTH - 1, HEIGHT - 1])
    corners = rng.uniform(0, 1, (count, 2)) * ([WIDTH, HEIGHT] - sides)
    return np.hstack([corners, sides])


def make_ground_truth(rng: np.random.Generator, num_images: int) -> COCO:
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        images.append({"id": image_id, "width": WIDTH, "height": HEIGHT, "file_name": f"{image_id}.jpg"})
        for box in random_boxes(rng, int(rng.integers(1, 15))):
            category = int(rng.integers(1, NUM_CATEGORIES + 1))
            annotations.append(
                {"id": len(annotations) + 1, "image_id": image_id, "category_id": category, "bbox": box.tolist()}
                | {"area": float(box[2] * box[3]), "iscrowd": 0}
            )
    coco = COCO()
    coco.dataset = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": c, "name": f"class {c}"} for c in range(1, NUM_CATEGORIES + 1)],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def make_results(rng: np.random.Generator, coco: COCO, detections_per_image: int) -> list[dict]:
    results = []
    for image_id in coco.getImgIds():
        truth = coco.imgToAnns[image_id]
        boxes = np.array([ann["bbox"] for ann in truth]).reshape(-1, 4)
        boxes = boxes + rng.normal(0, 0.08, boxes.shape) * boxes[:, [2, 3, 2, 3]]
        categories = [ann["category_id"] if rng.random() > 0.1 else int(rng.integers(1, NUM_CATEGORIES + 1)) for ann in truth]
        scores = list(rng.uniform(0.3, 1.0, len(truth)))
        extra = max(detections_per_image - len(truth), 0)
        boxes = np.vstack([boxes, random_boxes(rng, extra)])
        categories += rng.integers(1, NUM_CATEGORIES + 1, extra).tolist()
        scores += list(rng.uniform(0.0, 0.6, extra))
        results += [
            {"image_id": image_id, "category_id": int(c), "bbox": [round(v, 2) for v in box], "score": round(float(s), 5)}
            for box, c, s in zip(boxes.tolist(), categories, scores)
        ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--detections", type=int, default=100, help="per image")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    coco = make_ground_truth(rng, args.images)
    results = make_results(rng, coco, args.detections)
    print(f"{args.images} images, {len(coco.anns)} boxes, {len(results)} detections")
    image_ids, category_ids = coco.getImgIds(), list(range(1, NUM_CATEGORIES + 1))
    names = tuple(f"class {c}" for c in category_ids)
    seconds, metrics = {"pycocotools": [], "faster_coco_eval": []}, {}
    for _ in range(args.repeats):
        for backend in seconds:
            start, cpu_start = time.perf_counter(), time.process_time()
            metrics[backend], _ = evaluate_coco(coco, results, image_ids, category_ids, names, backend=backend)
            seconds[backend].append((time.perf_counter() - start, time.process_time() - cpu_start))
    print(f"{'backend':<18} {'wall s':>8} {'CPU s':>8}   AP")
    for backend, times in seconds.items():
        wall, cpu = (statistics.median(column) for column in zip(*times))
        print(f"{backend:<18} {wall:8.2f} {cpu:8.2f}   {metrics[backend]['AP']:.2f}")
    differences = {key: abs(metrics["pycocotools"][key] - value) for key, value in metrics["faster_coco_eval"].items()}
    print(f"largest difference over {len(differences)} metrics: {max(differences.values()):.2e}")


if __name__ == "__main__":
    main()
