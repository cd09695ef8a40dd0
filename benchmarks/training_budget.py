"""Accuracy after the same wall-clock training budget: our recipes against torchvision's SSDLite.

Every model trains from scratch on the same built-in driving data (seed 1, not
the demo's seed 0), one after another in this process, for the same minutes,
and is then scored once on the validation split with the same COCO evaluation.
Our recipes run through `ssdlite.training.runner.train`; torchvision's
`ssdlite320_mobilenet_v3_large` runs in a plain PyTorch loop fed by our
dataset and augmentation at 320x320.
"""

import copy
import itertools
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection import ssdlite320_mobilenet_v3_large

from speed import size
from ssdlite.config import Config, DataConfig
from ssdlite.data.batch import collate
from ssdlite.data.build import build_dataset
from ssdlite.data.synthetic import make_synthetic_dataset
from ssdlite.evaluation import STAT_NAMES, evaluate_model
from ssdlite.model.build import build_model
from ssdlite.model.postprocess import scale_boxes
from ssdlite.training.optim import build_optimizer, warmup_cosine_factor
from ssdlite.training.runner import train

DRIVING_CLASSES = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
DATA_SEED = 1  # not the demo's seed 0: no recipe was tuned on these images
NEVER = 10_000  # epochs: the time budget ends every run first
TORCHVISION_NAME = "torchvision_ssdlite320_mobilenet_v3_large"
TORCHVISION_SIZE = (320, 320)  # (H, W): torchvision resizes every input to this itself
TORCHVISION_BATCH_SIZE = 16  # its best measured: 10 minutes reach mAP 22.7 at 16, 19.5 at 8
TORCHVISION_NUM_WORKERS = 2
TORCHVISION_LR = 3e-3  # peak AdamW learning rate
TORCHVISION_MATCH_IOU = 0.4  # its best measured, as ours: 10 minutes reach mAP 23.5 at 0.4, 21.0 at its default 0.5
WARMUP_FRACTION = 0.05


def driving_data(root: str | Path) -> dict[str, str]:
    """The benchmark's driving data under `root`, generated there unless it already exists.

    Returns:
        "train_images", "train_annotations", "val_images", "val_annotations" paths.
    """
    root = Path(root)
    if not (root / "annotations/val.json").is_file():  # the split written last
        make_synthetic_dataset(root, num_train=800, num_val=200, seed=DATA_SEED, image_size=(360, 640), scene="footage")
    return {
        "train_images": str(root / "train"),
        "train_annotations": str(root / "annotations/train.json"),
        "val_images": str(root / "val"),
        "val_annotations": str(root / "annotations/val.json"),
    }


def max_time(minutes: float) -> str:
    """`minutes` (may be fractional) as Lightning's "DD:HH:MM:SS", at least one second."""
    seconds = max(1, round(minutes * 60))
    return f"{seconds // 86400:02d}:{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def budget_config(config: Config, data: dict[str, str], minutes: float) -> Config:
    """A copy of a recipe that trains on `data` for `minutes` on the CPU and validates once, at the end."""
    config = copy.deepcopy(config)
    for key, path in data.items():
        setattr(config.data, key, path)
    config.data.synthetic = False
    config.data.classes = DRIVING_CLASSES
    config.train.max_time = max_time(minutes)
    config.train.max_epochs = NEVER
    config.train.max_steps = -1
    config.train.eval_every_n_epochs = NEVER
    config.trainer.accelerator = "cpu"
    return config


def coco_metrics(final_metrics: dict[str, float]) -> dict[str, float]:
    """The runner's "val/AP", "val/AP/person", ... named as `evaluate_model` names them."""
    names = [*STAT_NAMES, *(f"AP/{name}" for name in DRIVING_CLASSES)]
    return {name: final_metrics[f"val/{name}"] for name in names}


def run_recipe(name: str, config: Config, run_dir: Path) -> dict:
    """Train one of our recipes (already `budget_config`-ed) and score it.

    Returns:
        A results row: "name", "input" [H, W], "width", "madds_G", "images_seen",
        "minutes" (wall clock, training and validation), "metrics", "run_dir".
    """
    height, width = config.model.image_size
    model = build_model(config.model, len(DRIVING_CLASSES) + 1).eval()
    _, madds = size(model, lambda: model(torch.zeros(1, 3, height, width)))
    start = time.perf_counter()
    run_dir = train(config, f"{name}.py", run_dir)
    minutes_taken = (time.perf_counter() - start) / 60
    global_step = torch.load(run_dir / "last.ckpt", map_location="cpu", weights_only=True)["global_step"]
    final = json.loads((run_dir / "final_metrics.json").read_text())
    return {
        "name": name,
        "input": [height, width],
        "width": config.model.width_mult,
        "madds_G": madds,
        "images_seen": global_step * config.data.batch_size,
        "minutes": minutes_taken,
        "metrics": coco_metrics(final),
        "run_dir": str(run_dir),
    }


class TorchvisionDetector(nn.Module):
    """torchvision's SSD behind our model's interface: images in [0, 1], `loss` and `predict`.

    Args:
        detector: a torchvision `SSD`; like ours, it takes images in [0, 1] and normalises
            them itself.
    """

    def __init__(self, detector: nn.Module):
        super().__init__()
        self.detector = detector

    def loss(self, images: torch.Tensor, targets: list[dict]) -> torch.Tensor:
        """The summed classification and box loss; the detector must be in training mode.

        Args:
            images: Tensor[B, 3, H, W] RGB in [0, 1].
            targets: per image, "boxes" Tensor[K, 4] xyxy pixels of the input and
                "labels" Tensor[K] in 1..C-1.
        """
        plain = [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets]
        return sum(self.detector(list(images), plain).values())

    @torch.inference_mode()
    def predict(self, images: torch.Tensor, orig_sizes: list[tuple[int, int]]) -> list[dict[str, torch.Tensor]]:
        """Detections as `SSDLite.predict` gives them; the detector must be in eval mode.

        Args:
            images: Tensor[B, 3, H, W] RGB in [0, 1].
            orig_sizes: (H, W) of each original image.

        Returns:
            Per image, "boxes" Tensor[K, 4] xyxy pixels of the original image,
            "scores" Tensor[K], "labels" Tensor[K] in 1..C-1.
        """
        detections = self.detector(list(images))
        for detection, orig_size in zip(detections, orig_sizes):
            detection["boxes"] = scale_boxes(detection["boxes"], tuple(images.shape[-2:]), orig_size)
        return detections


def train_torchvision(model: TorchvisionDetector, dataset, seconds: float, peak_lr: float, grad_clip_norm: float = 10.0) -> int:
    """Train until `seconds` of wall clock are up.

    AdamW (weight decay 1e-4 on weights, not on BN or biases), batch 16; the
    learning rate warms up linearly over the first 5 % of the time, then decays
    to 0 along a cosine of the elapsed time.

    Args:
        model: torchvision's detector, wrapped.
        dataset: the augmented train split at 320x320 (see `build_dataset`).
        seconds: the budget; a step started before it runs out is finished.
        peak_lr: the learning rate after warmup.
        grad_clip_norm: the largest gradient norm.

    Returns:
        The number of images trained on.
    """
    loader = DataLoader(
        dataset,
        TORCHVISION_BATCH_SIZE,
        shuffle=True,
        num_workers=TORCHVISION_NUM_WORKERS,
        persistent_workers=True,
        collate_fn=collate,
        drop_last=len(dataset) > TORCHVISION_BATCH_SIZE,  # no 1-image BN batches
    )
    optimizer = build_optimizer(model, "adamw", peak_lr, momentum=0.0, weight_decay=1e-4)
    model.train()
    images_seen = 0
    start = time.perf_counter()
    for step, (images, targets) in enumerate(itertools.chain.from_iterable(itertools.repeat(loader))):
        progress = (time.perf_counter() - start) / seconds
        if progress >= 1:
            return images_seen
        # warmup by time alone: how many steps the budget holds is not known beforehand
        factor = warmup_cosine_factor(step, progress, warmup_steps=sys.maxsize, max_warmup_fraction=WARMUP_FRACTION)
        for group in optimizer.param_groups:
            group["lr"] = peak_lr * factor
        loss = model.loss(images, targets)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip_norm)
        optimizer.step()
        images_seen += len(images)


def run_torchvision(data: DataConfig, minutes: float, peak_lr: float, seed: int = 0) -> dict:
    """Train torchvision's SSDLite320-MobileNetV3 from scratch for `minutes` on `data`, and score it.

    Returns:
        A results row, as `run_recipe` gives but without "run_dir".
    """
    torch.manual_seed(seed)
    detector = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=len(DRIVING_CLASSES) + 1)
    detector.score_thresh = 0.01  # COCO mAP counts low-scoring detections, as our postprocessing keeps them
    detector.detections_per_img = 100
    detector.proposal_matcher = det_utils.SSDMatcher(TORCHVISION_MATCH_IOU)  # what `SSD(iou_thresh=...)` sets
    _, madds = size(detector.eval(), lambda: detector([torch.zeros(3, *TORCHVISION_SIZE)]))
    model = TorchvisionDetector(detector)
    start = time.perf_counter()
    images_seen = train_torchvision(model, build_dataset(data, "train", TORCHVISION_SIZE), 60 * minutes, peak_lr)
    val_set = build_dataset(data, "val", TORCHVISION_SIZE)
    metrics = evaluate_model(model.eval(), val_set, num_workers=TORCHVISION_NUM_WORKERS).metrics
    return {
        "name": TORCHVISION_NAME,
        "input": list(TORCHVISION_SIZE),
        "width": 1.0,
        "madds_G": madds,
        "images_seen": images_seen,
        "minutes": (time.perf_counter() - start) / 60,
        "metrics": metrics,
    }


def run_training_benchmark(
    recipes: dict[str, Config],
    minutes: float,
    data_dir: str | Path,
    work_dir: str | Path,
    threads: int | None = None,
    torchvision_lr: float | None = TORCHVISION_LR,
) -> dict:
    """Train each recipe, then torchvision's SSDLite, for `minutes` each, one after another, and score them.

    Torchvision's model gets the first recipe's data section (its augmentation) at 320x320.

    Args:
        recipes: name -> config; each trains in `<work_dir>/<name>`.
        minutes: wall-clock training budget per model (may be fractional).
        data_dir: the driving data's folder; generated there when missing.
        threads: torch threads (default: torch's).
        torchvision_lr: torchvision's peak AdamW learning rate; None: recipes only.

    Returns:
        "minutes_budget", "threads", "data", and "runs": one row per model (see
        `run_recipe`), recipes first, each with "mAP_ratio": its AP over
        torchvision's (None when torchvision's is 0 or it did not run).
    """
    if not recipes:
        raise ValueError("no recipes to benchmark")
    if threads:
        torch.set_num_threads(threads)
    data = driving_data(data_dir)
    configs = {name: budget_config(config, data, minutes) for name, config in recipes.items()}
    rows = [run_recipe(name, config, Path(work_dir) / name) for name, config in configs.items()]
    if torchvision_lr is not None:
        rows.append(run_torchvision(next(iter(configs.values())).data, minutes, torchvision_lr))
    theirs_ap = rows[-1]["metrics"]["AP"] if torchvision_lr is not None else 0
    for row in rows:
        row["mAP_ratio"] = row["metrics"]["AP"] / theirs_ap if theirs_ap > 0 else None
    return {"minutes_budget": minutes, "threads": torch.get_num_threads(), "data": str(data_dir), "runs": rows}


def format_table(results: dict) -> str:
    """One line per model; AP figures in percent, and each recipe's mAP over torchvision's."""
    header = f"{'name':<44}{'input':>9}{'width':>7}{'images':>9}{'mAP':>7}{'AP50':>7}{'APs':>7}{'person':>8}"
    header += f"{'minutes':>9} {'mAP/tv':>9}"
    lines = [
        f"{results['minutes_budget']:g} min each, {results['threads']} threads, data {results['data']}",
        header,
        "-" * len(header),
    ]
    for row in results["runs"]:
        metrics, ratio = row["metrics"], row["mAP_ratio"]
        figures = "".join(f"{100 * metrics[key]:>{w}.2f}" for key, w in (("AP", 7), ("AP50", 7), ("APs", 7), ("AP/person", 8)))
        ratio_text = "-" if ratio is None else f"{ratio:.2f}"
        size_text = "x".join(str(v) for v in row["input"])
        columns = f"{row['name']:<44}{size_text:>9}{row['width']:>7.2f}{row['images_seen']:>9}{figures}"
        lines.append(f"{columns}{row['minutes']:>9.1f} {ratio_text:>9}")
    return "\n".join(lines)
