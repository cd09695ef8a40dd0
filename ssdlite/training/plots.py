"""PNG plots of a training run: curves, per-class AP, precision-recall, confusion matrix, predictions."""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ssdlite.coco_eval import label_order_precision  # noqa: E402
from ssdlite.data.batch import original_sizes  # noqa: E402
from ssdlite.model.postprocess import scale_boxes  # noqa: E402


def plot_curves(metrics_csv: Path, out: Path) -> None:
    """Training loss and validation AP / AP50 against the step, from Lightning's metrics.csv."""
    with open(metrics_csv) as f:
        rows = list(csv.DictReader(f))
    fig, (loss_ax, ap_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for key, ax in (("train/loss", loss_ax), ("val/loss", loss_ax), ("val/AP", ap_ax), ("val/AP50", ap_ax)):
        points = [(int(r["step"]), float(r[key])) for r in rows if r.get(key)]
        if points:
            ax.plot(*zip(*points), marker="o" if key.startswith("val") else None, label=key)
    loss_ax.set(xlabel="step", ylabel="loss", title="loss")
    ap_ax.set(xlabel="step", ylabel="AP", title="validation", ylim=(0, 100))
    for ax in (loss_ax, ap_ax):
        if ax.lines:
            ax.legend()
        ax.grid(alpha=0.3)
    _save(fig, out)


def plot_class_ap(metrics: dict[str, float], out: Path) -> None:
    """Horizontal bars of AP (IoU 0.50:0.95) per class."""
    per_class = sorted((k[3:], v) for k, v in metrics.items() if k.startswith("AP/"))
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(per_class) + 1.5))
    ax.barh([name for name, _ in per_class], [v for _, v in per_class])
    ax.set(xlabel="AP (%)", title=f"AP per class (mean {metrics['AP']:.1f})", xlim=(0, 100))
    _save(fig, out)


def plot_precision_recall(cocoeval, category_ids: list[int], class_names: tuple[str, ...], out: Path) -> None:
    """Precision-recall at IoU 0.5, all areas, 100 detections, one curve per class (label k: `category_ids[k-1]`)."""
    precision = label_order_precision(cocoeval, category_ids)[0]  # (recall points, classes)
    recall = cocoeval.params.recThrs
    fig, ax = plt.subplots(figsize=(6, 5))
    for index, name in enumerate(class_names):
        curve = precision[:, index]
        if (curve > -1).any():
            ax.plot(recall, np.clip(curve, 0, None), label=name)
    ax.set(xlabel="recall", ylabel="precision", title="precision-recall, IoU 0.5", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, out)


def plot_confusion_matrix(table: dict, out: Path) -> None:
    """Counts of true class (rows) against predicted class (columns), background last, shaded by share of the row.

    Args:
        table: `ssdlite.confusion.confusion_to_dict` output.
    """
    matrix, names = np.array(table["matrix"]), table["classes"]
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    side = 0.55 * len(names) + 2.5
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            colour = "white" if shares[row, column] > 0.5 else "black"
            ax.text(column, row, str(count), ha="center", va="center", color=colour, fontsize=8)
    title = f"confusion matrix (score >= {table['score_threshold']:g}, IoU > {table['iou_threshold']:g})"
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(image, ax=ax, label="share of the true class")
    _save(fig, out)


def plot_predictions(examples, class_names: tuple[str, ...], out: Path, min_score: float = 0.3) -> None:
    """A grid of validation images with ground truth (green) and predictions (red, score >= min_score).

    Args:
        examples: (image Tensor[3, H, W] RGB in [0, 1], detections in original
            pixels, target with "boxes" in input pixels and "orig_size") triples.
    """
    columns = min(4, len(examples))
    rows = (len(examples) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (image, detection, target) in zip(axes.flat, examples):
        height, width = image.shape[-2:]
        ax.imshow(image.permute(1, 2, 0).float().clamp(0, 1).numpy())
        for box in target["boxes"].tolist():
            _draw_box(ax, box, "lime")
        keep = detection["scores"] >= min_score
        boxes = scale_boxes(detection["boxes"][keep].cpu(), original_sizes([target])[0], (height, width))
        for box, score, label in zip(boxes, detection["scores"][keep], detection["labels"][keep]):
            _draw_box(ax, box.tolist(), "red")
            ax.text(
                box[0], box[1], f"{class_names[int(label) - 1]} {score:.2f}", color="white", fontsize=7, backgroundcolor="red"
            )
    _save(fig, out)


def _draw_box(ax, box: list[float], colour: str) -> None:
    x0, y0, x1, y1 = box
    ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colour, linewidth=1.5))


def _save(fig, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)
