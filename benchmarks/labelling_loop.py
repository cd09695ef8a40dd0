"""The labelling loop, measured: how much drawing pre-labels save a person, round after round.

python benchmarks/labelling_loop.py [--minutes 10] [--finetune-minutes 3] [--rounds 1]
    [--frames-per-round 150] [--every 1] [--checkpoint CKPT] [--work-dir DIR] [--out labelling_loop.json]

Plays a user with unlabelled footage, the built-in clip ("footage" scene, 640x360, CLIP_FPS,
seed CLIP_SEED), and a model trained elsewhere: configs/driving_ssdlite_cpu.py for --minutes on
the built-in still images of another seed (the training benchmark's), or --checkpoint. Each of
the rounds + 1 pre-labelling passes takes the clip's next --frames-per-round x --every frames,
pre-labels them as `ssdlite prelabel --every` does (`ssdlite.footage.prelabel`, its default
settings: the tracker sees every frame, every Nth is labelled: frames spread over more of the
drive, as `ssdlite frames --every` gives them) and "corrects" the labelled ones with the ground
truth, counting the boxes added, removed, moved (IoU < 0.5) or relabelled against the boxes
drawn from nothing (`ssdlite.footage.corrections`). Each round then fine-tunes the model
(configs/driving_finetune.py: model.init_from) for --finetune-minutes on every frame corrected
so far. Every model is scored (COCO mAP) on the labelled frames of the clip's last stretch,
which no round labels.
"""

import argparse
import contextlib
import dataclasses
import io
import json
import logging
from pathlib import Path

import cv2
import numpy as np
import torch
from torchvision.ops import box_convert

from ssdlite.config import Config, load_config
from ssdlite.data.build import build_dataset
from ssdlite.data.image_file import read_image
from ssdlite.data.synthetic_drawing import CATEGORIES
from ssdlite.data.synthetic_video import moving_scene
from ssdlite.evaluation import evaluate_predict
from ssdlite.footage.corrections import Corrections, count_corrections
from ssdlite.footage.prelabel import prelabel
from ssdlite.inference.predictor import Detector
from ssdlite.training.runner import train
from training_budget import NEVER, budget_config, driving_data, max_time

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
CLIP_SEED = 2  # not the training images' seed 1
CLIP_SIZE = (360, 640)  # (H, W), as the training images
CLIP_FPS = 10
CATEGORY_IDS = {category["name"]: category["id"] for category in CATEGORIES}
NO_CATEGORY = 0  # for a model's class that the clip does not have: its boxes match no object's class


@dataclasses.dataclass
class ClipFrame:
    """One frame of the clip on disk, with its ground truth (boxes xyxy pixels, COCO category ids)."""

    image: dict  # its COCO image record
    gt_boxes: np.ndarray  # (G, 4) float32
    gt_category_ids: np.ndarray  # (G,) int


def write_clip_frames(folder: Path, num_frames: int) -> list[ClipFrame]:
    """The clip's frames as JPEGs in `folder` (000001.jpg, ...), and their ground truth."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for index, (image, objects) in enumerate(
        moving_scene(CLIP_SEED, image_size=CLIP_SIZE, scene="footage", num_frames=num_frames, fps=CLIP_FPS), start=1
    ):
        name = f"{index:06d}.jpg"
        cv2.imwrite(str(folder / name), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        xywh = torch.tensor([box for _, _, box, _ in objects], dtype=torch.float32).reshape(-1, 4)
        record = {"id": index, "file_name": name, "width": CLIP_SIZE[1], "height": CLIP_SIZE[0]}
        category_ids = np.array([category_id for _, category_id, _, _ in objects], int)
        frames.append(ClipFrame(record, box_convert(xywh, "xywh", "xyxy").numpy(), category_ids))
    return frames


def write_coco(path: Path, frames: list[ClipFrame]) -> Path:
    """The ground truth of `frames` as a COCO file: the labels a person ends with."""
    annotations = []
    for frame in frames:
        xywh = box_convert(torch.from_numpy(frame.gt_boxes), "xyxy", "xywh").tolist()
        for box, category_id in zip(xywh, frame.gt_category_ids.tolist()):
            entry = {"image_id": frame.image["id"], "category_id": category_id, "bbox": box, "area": box[2] * box[3]}
            annotations.append({"id": len(annotations) + 1, "iscrowd": 0} | entry)
    images = [frame.image for frame in frames]
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": list(CATEGORIES)}))
    return path


def prelabel_round(detector: Detector, folder: Path, frames: list[ClipFrame], every: int) -> tuple[dict, Corrections]:
    """Pre-label `frames` as one sequence and count the corrections that make every `every`-th of
    them (the first, then every Nth) the ground truth.

    Returns:
        (`Prelabels.counts` of the labelled frames, the corrections summed over them).
    """
    images = (read_image(folder / frame.image["file_name"]) for frame in frames)
    labelled = list(range(0, len(frames), every))
    result = prelabel(detector, images, frame_rate=CLIP_FPS, bgr=False).subset(labelled)
    frames = [frames[index] for index in labelled]
    category_ids = np.array([NO_CATEGORY, *(CATEGORY_IDS.get(name, NO_CATEGORY) for name in detector.class_names)])
    corrections = sum(
        (
            count_corrections(labels.boxes, category_ids[labels.labels], frame.gt_boxes, frame.gt_category_ids)
            for labels, frame in zip(result.frames, frames)
        ),
        start=Corrections(),
    )
    return result.counts(), corrections


def score(checkpoint: Path, config: Config) -> dict[str, float]:
    """COCO metrics of a checkpoint on the held-out frames (`config.data`'s val split)."""
    detector = Detector.load(checkpoint)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints as it loads the ground truth
        dataset = build_dataset(config.data, "val", detector.image_size)
    return evaluate_predict(detector.predict_tensors, dataset).metrics


def finetune(config: Config, checkpoint: Path, minutes: float, run_dir: Path) -> Path:
    """Fine-tune `checkpoint` with the recipe `config` (data included) for `minutes`; its best checkpoint."""
    config = dataclasses.replace(
        config,
        model=dataclasses.replace(config.model, init_from=str(checkpoint)),
        train=dataclasses.replace(
            config.train, max_time=max_time(minutes), max_epochs=NEVER, max_steps=-1, eval_every_n_epochs=NEVER
        ),
    )
    return train(config, "finetune.py", run_dir) / "best.ckpt"


def initial_model(minutes: float, data_dir: Path, run_dir: Path) -> Path:
    """configs/driving_ssdlite_cpu.py trained for `minutes` on the training benchmark's images; its best checkpoint."""
    recipe = load_config(CONFIGS / "driving_ssdlite_cpu.py")
    config = budget_config(recipe, driving_data(data_dir), classes=recipe.data.classes, minutes=minutes)
    return train(config, "driving_ssdlite_cpu.py", run_dir) / "best.ckpt"


def run_labelling_loop(
    *,
    checkpoint: Path,
    finetune_config: Config,
    rounds: int,
    frames_per_round: int,
    finetune_minutes: float,
    work_dir: Path,
    every: int = 1,
) -> dict:
    """Pre-label, correct and fine-tune, `rounds` times, then pre-label once more.

    Args:
        checkpoint: the first model.
        finetune_config: the fine-tuning recipe; its data paths are replaced (its classes name the clip's categories).
        every: label every Nth frame of the clip (`frames_per_round` of them a round); the tracker sees them all.

    Returns:
        {"frames_per_round", "every", "finetune_minutes", "rounds": one row per pre-labelling pass, "checkpoint",
        "metrics" (held-out COCO metrics of its model), "prelabels" (`Prelabels.counts`), "corrections"
        (`Corrections.to_dict`)}.
    """
    folder = work_dir / "clip"
    stretch = frames_per_round * every  # clip frames a round covers
    frames = write_clip_frames(folder, (rounds + 2) * stretch)
    held_out = write_coco(work_dir / "held_out.json", frames[-stretch::every])
    data = dataclasses.replace(finetune_config.data, synthetic=False, train_images=str(folder), val_images=str(folder))
    config = dataclasses.replace(finetune_config, data=dataclasses.replace(data, val_annotations=str(held_out)))
    rows = []
    for round_index in range(rounds + 1):
        counts, corrections = prelabel_round(
            Detector.load(checkpoint), folder, frames[round_index * stretch : (round_index + 1) * stretch], every
        )
        metrics = score(checkpoint, config)
        rows.append(
            {"checkpoint": str(checkpoint), "metrics": metrics, "prelabels": counts, "corrections": corrections.to_dict()}
        )
        logging.info("round %d: %s", round_index, json.dumps(rows[-1]))
        if round_index < rounds:
            corrected = write_coco(work_dir / f"corrected_{round_index}.json", frames[: (round_index + 1) * stretch : every])
            round_config = dataclasses.replace(config, data=dataclasses.replace(config.data, train_annotations=str(corrected)))
            checkpoint = finetune(round_config, checkpoint, finetune_minutes, work_dir / f"finetune_{round_index}")
    return {"frames_per_round": frames_per_round, "every": every, "finetune_minutes": finetune_minutes, "rounds": rows}


def format_table(results: dict) -> str:
    """One line per pre-labelling pass: the model's held-out mAP, the boxes kept and the corrections."""
    columns = (("round", 5), ("mAP", 7), ("AP50", 7), ("boxes", 7), ("kept", 6), ("added", 7), ("removed", 8), ("moved", 7))
    header = "".join(f"{name:>{width}}" for name, width in columns) + f"{'relabelled':>11}{'fixed':>7}{'corrections':>13}"
    title = (
        f"{results['frames_per_round']} frames a round (1 clip frame in {results['every']}), "
        f"fine-tuned {results['finetune_minutes']:g} min a round"
    )
    lines = [title, header, "-" * len(header)]
    for index, row in enumerate(results["rounds"]):
        metrics, fixes = row["metrics"], row["corrections"]
        figures = f"{metrics['AP']:>7.2f}{metrics['AP50']:>7.2f}{fixes['final_boxes']:>7}{row['prelabels']['kept']:>6}"
        changes = f"{fixes['added']:>7}{fixes['removed']:>8}{fixes['moved']:>7}{fixes['relabelled']:>11}{fixes['fixed']:>7}"
        lines.append(f"{index:>5}{figures}{changes}{fixes['fraction']:>13.1%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="training time of the first model")
    parser.add_argument("--checkpoint", type=Path, help="the first model, instead of training one")
    parser.add_argument("--finetune-minutes", type=float, default=3.0, help="training time of each round's fine-tuning")
    parser.add_argument("--rounds", type=int, default=1, help="correct-and-fine-tune rounds")
    parser.add_argument("--frames-per-round", type=int, default=150, help="clip frames labelled a round")
    parser.add_argument("--every", type=int, default=1, help="label every Nth clip frame (the tracker sees them all)")
    parser.add_argument(
        "--data", type=Path, default=Path("data/benchmark_driving_seed1"), help="the first model's training images"
    )
    parser.add_argument("--work-dir", type=Path, default=Path("runs/labelling_loop"))
    parser.add_argument("--out", type=Path, default=Path("labelling_loop.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    checkpoint = args.checkpoint or initial_model(args.minutes, args.data, args.work_dir / "initial")
    results = run_labelling_loop(
        checkpoint=checkpoint,
        finetune_config=load_config(CONFIGS / "driving_finetune.py"),
        rounds=args.rounds,
        frames_per_round=args.frames_per_round,
        finetune_minutes=args.finetune_minutes,
        work_dir=args.work_dir,
        every=args.every,
    )
    results["first_model_minutes"] = None if args.checkpoint else args.minutes
    print(format_table(results))
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
