"""Accuracy after the same wall-clock training budget: our recipes against torchvision's SSDLite.

Every model trains from scratch on the same built-in driving data (seed 1, not
the demo's seed 0), one after another in this process, for the same minutes,
and is then scored once on the validation split with the same COCO evaluation.
Our recipes run through `ssdlite.training.runner.train`; torchvision's
`ssdlite320_mobilenet_v3_large` through Lightning with our optimiser and
schedule (`torchvision_reference`), fed by our dataset and augmentation at 320x320.
"""

import dataclasses
import json
import time
from pathlib import Path

import lightning as L
import torch

from speed import size
from ssdlite.config import Config, DataConfig
from ssdlite.data.synthetic import make_synthetic_dataset
from ssdlite.evaluation import STAT_NAMES, evaluate_model
from ssdlite.model.build import build_model
from ssdlite.training.runner import train
from torchvision_reference import INPUT_SIZE, LR, NAME, NUM_WORKERS, ReferenceSystem, train_reference

DATA_SEED = 1  # not the demo's seed 0: no recipe was tuned on these images
NEVER = 10_000  # epochs: the time budget ends every run first


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


def budget_config(config: Config, data: dict[str, str], *, classes: tuple[str, ...], minutes: float) -> Config:
    """A copy of a recipe that trains on `data`'s `classes` for `minutes` on the CPU and validates once, at the end."""
    return dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, **data, synthetic=False, classes=classes),
        train=dataclasses.replace(
            config.train, max_time=max_time(minutes), max_epochs=NEVER, max_steps=-1, eval_every_n_epochs=NEVER
        ),
        trainer=dataclasses.replace(config.trainer, accelerator="cpu"),
    )


def coco_metrics(final_metrics: dict[str, float], classes: tuple[str, ...]) -> dict[str, float]:
    """The runner's "val/AP", "val/AP/person", ... named as `evaluate_model` names them."""
    names = [*STAT_NAMES, *(f"AP/{name}" for name in classes)]
    return {name: final_metrics[f"val/{name}"] for name in names}


def run_recipe(name: str, config: Config, run_dir: Path) -> dict:
    """Train one of our recipes (already `budget_config`-ed) and score it.

    Returns:
        A results row: "name", "input" [H, W], "width", "madds_G", "images_seen",
        "minutes" (wall clock, training and validation), "metrics", "run_dir".
    """
    height, width = config.model.image_size
    model = build_model(config.model, len(config.data.classes) + 1).eval()
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
        "metrics": coco_metrics(final, config.data.classes),
        "run_dir": str(run_dir),
    }


def run_torchvision(data: DataConfig, *, minutes: float, lr: float, seed: int = 0) -> dict:
    """Train torchvision's SSDLite320-MobileNetV3 from scratch for `minutes` on `data`, and score it.

    Returns:
        A results row, as `run_recipe` gives but without "run_dir".
    """
    L.seed_everything(seed, workers=True, verbose=False)
    reference = ReferenceSystem(len(data.classes) + 1, lr=lr)
    detector = reference.detector
    _, madds = size(detector.eval(), lambda: detector([torch.zeros(3, *INPUT_SIZE)]))
    start = time.perf_counter()
    images_seen, val_set = train_reference(reference, data, minutes=minutes, seed=seed)
    metrics = evaluate_model(reference.eval(), val_set, num_workers=NUM_WORKERS).metrics
    return {
        "name": NAME,
        "input": list(INPUT_SIZE),
        "width": 1.0,
        "madds_G": madds,
        "images_seen": images_seen,
        "minutes": (time.perf_counter() - start) / 60,
        "metrics": metrics,
    }


def run_training_benchmark(
    recipes: dict[str, Config],
    *,
    classes: tuple[str, ...],
    minutes: float,
    data_dir: str | Path,
    work_dir: str | Path,
    threads: int | None = None,
    torchvision_lr: float | None = LR,
) -> dict:
    """Train each recipe, then torchvision's SSDLite, for `minutes` each, one after another, and score them.

    Torchvision's model gets the first recipe's data section (its augmentation) at 320x320.

    Args:
        recipes: name -> config; each trains in `<work_dir>/<name>`.
        classes: the driving classes every model learns and is scored on, in label order.
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
    configs = {name: budget_config(config, data, classes=classes, minutes=minutes) for name, config in recipes.items()}
    rows = [run_recipe(name, config, Path(work_dir) / name) for name, config in configs.items()]
    if torchvision_lr is not None:
        rows.append(run_torchvision(next(iter(configs.values())).data, minutes=minutes, lr=torchvision_lr))
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
        figures = "".join(f"{metrics[key]:>{w}.2f}" for key, w in (("AP", 7), ("AP50", 7), ("APs", 7), ("AP/person", 8)))
        ratio_text = "-" if ratio is None else f"{ratio:.2f}"
        size_text = "x".join(str(v) for v in row["input"])
        columns = f"{row['name']:<44}{size_text:>9}{row['width']:>7.2f}{row['images_seen']:>9}{figures}"
        lines.append(f"{columns}{row['minutes']:>9.1f} {ratio_text:>9}")
    return "\n".join(lines)
