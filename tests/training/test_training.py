"""End-to-end training runs on tiny built-in data."""

import itertools
import json
import signal
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import torch
from tool_process import REPO, error_line, run_tool, tool_command, tool_environment

from ssdlite.config import (
    AugmentConfig,
    Config,
    ConfigError,
    DataConfig,
    ModelConfig,
    TrainConfig,
    TrainerConfig,
    apply_overrides,
    load_config,
)
from ssdlite.data.synthetic import make_synthetic_dataset
from ssdlite.training.runner import RunDirError, train
from ssdlite.training.system import NonFiniteLossError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("driving")
    # large objects, so a few steps learn something; odd: DDP pads a rank with a repeat
    make_synthetic_dataset(root, num_train=32, num_val=13, seed=3, scene="close")
    return root


def tiny_config(root: Path, **train) -> Config:
    """A narrow model at a small input, no augmentation: quick and deterministic."""
    settings = dict(
        optimizer="adamw",
        lr=3e-3,
        warmup_steps=4,
        max_epochs=3,
        ema=True,
        ema_decay=0.99,
        eval_every_n_epochs=3,
        seed=0,
        deterministic=True,
    )
    return Config(
        model=ModelConfig(image_size=(96, 160), width_mult=0.35),
        data=DataConfig(
            train_images=str(root / "train"),
            train_annotations=str(root / "annotations/train.json"),
            val_images=str(root / "val"),
            val_annotations=str(root / "annotations/val.json"),
            classes=("person", "bicycle", "car", "motorcycle", "bus", "truck"),
            augment=AugmentConfig(photometric=False, zoom_out_max=1.0, min_iou_crop=False, hflip=False),
            batch_size=8,
            num_workers=0,
        ),
        train=TrainConfig(**(settings | train)),
        trainer=TrainerConfig(accelerator="cpu", log_every_n_steps=1),
    )


def evaluate_with_tool(checkpoint: Path, out: Path) -> tuple[dict, str]:
    result = run_tool("tools/eval.py", "--checkpoint", str(checkpoint), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return json.loads((out / "metrics.json").read_text()), result.stdout


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "last.ckpt", weights_only=True)["state_dict"]


def test_train_evaluate_and_reproduce_the_logged_map(tiny_data, tmp_path):
    # validates after epoch 3; epoch 4 ends the run between validations
    run_dir = train(tiny_config(tiny_data, max_epochs=4, eval_every_n_epochs=3), "tiny.py", tmp_path / "run")
    for name in (
        "config.py",
        "last.ckpt",
        "best.ckpt",
        "metrics.csv",
        "final_metrics.json",
        "plots/curves.png",
        "plots/class_ap.png",
        "plots/precision_recall.png",
        "plots/confusion_matrix.png",
        "plots/predictions.png",
    ):
        assert (run_dir / name).is_file(), name
    assert any((run_dir / "tensorboard").iterdir())
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    losses = [float(r.split(",")[header.index("train/loss")]) for r in rows[1:] if r.split(",")[header.index("train/loss")]]
    assert losses[-1] < losses[0]
    final = json.loads((run_dir / "final_metrics.json").read_text())
    assert 0.0 <= final["val/AP50"] <= 100.0 and final["val/num_images"] == 13

    metrics, printed = evaluate_with_tool(run_dir / "last.ckpt", tmp_path / "eval_last")
    assert metrics["AP"] == pytest.approx(final["val/AP"], abs=1e-6)
    assert metrics["AP50"] == pytest.approx(final["val/AP50"], abs=1e-6)
    assert "AP50" in printed and "truck" in printed
    assert isinstance(json.loads((tmp_path / "eval_last/detections.json").read_text()), list)
    # every ground-truth box lands in one row of the confusion matrix: found, confused or missed
    confusion = json.loads((tmp_path / "eval_last/confusion_matrix.json").read_text())
    val_boxes = json.loads((tiny_data / "annotations/val.json").read_text())["annotations"]
    assert confusion["classes"][-1] == "background" and (tmp_path / "eval_last/confusion_matrix.png").is_file()
    assert sum(map(sum, confusion["matrix"][:-1])) == sum(not box.get("iscrowd") for box in val_boxes)
    # the best checkpoint scores what the run logged when it was saved
    best = torch.load(run_dir / "best.ckpt", weights_only=True)
    (checkpoint_state,) = [v for k, v in best["callbacks"].items() if k.startswith("ModelCheckpoint") and "val/AP" in k]
    metrics, _ = evaluate_with_tool(run_dir / "best.ckpt", tmp_path / "eval_best")
    assert metrics["AP"] == pytest.approx(float(checkpoint_state["best_model_score"]), abs=1e-6)
    val_ap = [float(r.split(",")[header.index("val/AP")]) for r in rows[1:] if r.split(",")[header.index("val/AP")]]
    assert metrics["AP"] == pytest.approx(max(val_ap + [final["val/AP"]]), abs=1e-6)


class CtrlCAtStep(L.Callback):
    """Simulates Ctrl-C just before training step `step` + 1."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            raise KeyboardInterrupt


def test_resume_mid_epoch_matches_an_uninterrupted_run(tiny_data, tmp_path):
    config = tiny_config(tiny_data, max_epochs=3, eval_every_n_epochs=10)  # 4 batches an epoch
    straight = train(config, "tiny.py", tmp_path / "straight")
    # no validation during the run: the final weights become best.ckpt
    best = torch.load(straight / "best.ckpt", weights_only=True)
    assert best["global_step"] == 12
    assert all(torch.equal(v, best["state_dict"][k]) for k, v in final_weights(straight).items())
    with pytest.raises(SystemExit):  # Lightning exits after a KeyboardInterrupt
        train(config, "tiny.py", tmp_path / "resumed", callbacks=[CtrlCAtStep(6)])
    interrupted = torch.load(tmp_path / "resumed/last.ckpt", weights_only=True)
    assert interrupted["global_step"] == 6 and interrupted["epoch"] == 1
    assert interrupted["optimizer_states"] and interrupted["lr_schedulers"] and "ema_state_dict" in interrupted
    train(config, "tiny.py", tmp_path / "resumed", resume="auto")
    expected, resumed = final_weights(straight), final_weights(tmp_path / "resumed")
    assert torch.load(tmp_path / "resumed/last.ckpt", weights_only=True)["global_step"] == 12
    assert expected.keys() == resumed.keys()
    for key in expected:
        assert torch.allclose(expected[key].float(), resumed[key].float(), atol=1e-6), key


def test_sigterm_mid_run_leaves_a_checkpoint_that_resumes(tiny_data, tmp_path):
    config_file = tmp_path / "tiny_long.py"
    config_file.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from pathlib import Path\n"
        "from test_training import tiny_config\n"
        f"config = tiny_config(Path({str(tiny_data)!r}), max_epochs=8, eval_every_n_epochs=100)\n"
    )
    run_dir = tmp_path / "run"
    command = ("tools/train.py", config_file, "--work-dir", run_dir)
    process = subprocess.Popen(
        tool_command(*command), cwd=REPO, env=tool_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while not (run_dir / "last.ckpt").is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # last.ckpt appears after the first epoch (4 steps)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert "--resume auto" in stderr
    stopped_at = torch.load(run_dir / "last.ckpt", weights_only=True)["global_step"]
    assert 4 <= stopped_at < 32

    result = run_tool(*command, "--resume", "auto")
    assert result.returncode == 0, result.stderr[-3000:]
    assert torch.load(run_dir / "last.ckpt", weights_only=True)["global_step"] == 32


def test_non_finite_losses_skip_then_stop(tiny_data, tmp_path, monkeypatch, caplog):
    from ssdlite.model.detector import SSDLite

    original = SSDLite.loss

    def nan_loss(self, *args):
        losses = original(self, *args)
        losses["loss"] = losses["loss"] * float("nan")
        return losses

    monkeypatch.setattr(SSDLite, "loss", nan_loss)
    with pytest.raises(NonFiniteLossError, match="3 non-finite losses or gradients in a row"):
        train(tiny_config(tiny_data, max_bad_steps=3), "tiny.py", tmp_path / "run")
    assert "non-finite loss at step 0; skipped the batch with image ids" in caplog.text


def nan_gradient_loss(monkeypatch, nan_at: Callable[[int], bool]) -> None:
    """SSDLite.loss as usual, but its gradient is NaN at the calls `nan_at` picks (the loss stays finite)."""
    from ssdlite.model.detector import SSDLite

    original, calls = SSDLite.loss, itertools.count()

    def loss(self, *args):
        losses = original(self, *args)
        if nan_at(next(calls)):  # d sqrt(u) / du at u = 0 is inf, times du / dw = 0: NaN
            losses["loss"] = losses["loss"] + (self.head.regression_head.module_list[0][-1].bias * 0).sum().sqrt()
        return losses

    monkeypatch.setattr(SSDLite, "loss", loss)


def test_a_non_finite_gradient_skips_the_step_and_keeps_the_weights(tiny_data, tmp_path, monkeypatch, caplog):
    nan_gradient_loss(monkeypatch, nan_at=lambda call: call == 2)
    run_dir = train(tiny_config(tiny_data, max_epochs=1, eval_every_n_epochs=10, ema=False), "tiny.py", tmp_path / "run")
    assert "non-finite gradient at step 2; skipped the batch with image ids" in caplog.text
    weights = torch.load(run_dir / "last.ckpt", weights_only=True)["state_dict"]
    assert all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())


def test_non_finite_gradients_in_a_row_stop_the_run(tiny_data, tmp_path, monkeypatch):
    nan_gradient_loss(monkeypatch, nan_at=lambda call: True)
    with pytest.raises(NonFiniteLossError, match="3 non-finite losses or gradients in a row"):
        train(tiny_config(tiny_data, max_bad_steps=3), "tiny.py", tmp_path / "run")


def test_ddp_on_two_processes_matches_single_process_eval(tiny_data, tmp_path):
    config_file = tmp_path / "tiny_ddp.py"
    config_file.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from pathlib import Path\n"
        "from test_training import tiny_config\n"
        f"config = tiny_config(Path({str(tiny_data)!r}), max_epochs=2, eval_every_n_epochs=2, deterministic=False)\n"
    )
    run_dir = tmp_path / "ddp"
    result = run_tool(
        "tools/train.py", config_file, "--work-dir", run_dir, "--set", "trainer.devices=2", "trainer.strategy=ddp", timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    logged = json.loads((run_dir / "final_metrics.json").read_text())
    assert logged["val/num_images"] == 13  # 7 + 7 on two ranks, the repeat counted once
    metrics, _ = evaluate_with_tool(run_dir / "last.ckpt", tmp_path / "eval")
    assert metrics["AP"] == pytest.approx(logged["val/AP"], abs=1e-6)
    assert metrics["AP50"] == pytest.approx(logged["val/AP50"], abs=1e-6)


def test_bad_override_and_missing_data_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="did you mean train.lr"):
        apply_overrides(Config(), ["train.lrr=1"])
    result = run_tool("tools/train.py", "configs/coco_ssdlite.py", "--set", "data.batch_size=two")
    assert result.returncode != 0 and "data.batch_size" in result.stderr
    missing = tmp_path / "nowhere"
    result = run_tool(
        "tools/train.py",
        "configs/coco_ssdlite.py",
        "--work-dir",
        str(tmp_path / "run"),
        "--set",
        f"data.train_annotations={str(missing / 'train.json')!r}",
    )
    assert result.returncode != 0 and str(missing / "train.json") in result.stderr


def test_eval_refuses_a_checkpoint_of_another_kind(tmp_path):
    torch.save({"model": torch.zeros(2)}, tmp_path / "other.pt")
    error_line(run_tool("tools/eval.py", "--checkpoint", tmp_path / "other.pt"), tmp_path / "other.pt", "ssdlite checkpoint")


def shrunk_recipe(recipe: str, root: Path, **model) -> Config:
    """A shipped recipe's training and augmentation settings on a narrow model and the tiny data.

    It is scored on its own training images: 48 steps on 32 images can fit them
    (the mAP of a model that learned nothing stays 0), while unseen images would
    leave the score near 0 either way and the assertion to chance.
    """
    config = load_config(REPO / "configs" / recipe)
    config.model.width_mult, config.model.image_size = 0.35, (96, 160)
    config.model.pretrained_backbone = None  # ImageNet weights are of width 1.0 (tests/model/test_imagenet_weights.py)
    config.model.frozen_backbone_blocks = 0  # nothing trained to keep
    for name, value in model.items():
        setattr(config.model, name, value)
    config.data.train_images, config.data.train_annotations = str(root / "train"), str(root / "annotations/train.json")
    config.data.val_images, config.data.val_annotations = config.data.train_images, config.data.train_annotations
    config.data.synthetic, config.data.batch_size, config.data.num_workers = False, 8, 0
    config.train.max_time, config.train.max_epochs, config.train.eval_every_n_epochs = None, 12, 100
    config.trainer.accelerator, config.trainer.log_every_n_steps = "cpu", 1
    return config


def logged_losses(run_dir: Path) -> list[float]:
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    column = rows[0].split(",").index("train/loss")
    return [float(r.split(",")[column]) for r in rows[1:] if r.split(",")[column]]


@pytest.mark.parametrize("recipe", ["driving_ssdlite.py", "driving_ssdlite_cpu.py", "synthetic_driving.py", "coco_ssdlite.py"])
def test_each_shipped_recipe_learns_on_tiny_data(recipe, tiny_data, tmp_path, caplog):
    caplog.set_level("INFO")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_dir = train(shrunk_recipe(recipe, tiny_data), recipe, tmp_path / "run")
    assert not [str(w.message) for w in caught if "exists and is not empty" in str(w.message)]  # a fresh run warns of no deletion
    with pytest.raises(RunDirError, match="--resume auto, or give a new --work-dir"):
        train(shrunk_recipe(recipe, tiny_data), recipe, run_dir)  # nor overwrites an earlier run
    assert "plan: " in caplog.text and "peak lr" in caplog.text
    if recipe == "coco_ssdlite.py":  # SGD at lr 0.015 x 8/192: 48 steps do not move it yet, and the plan says so
        assert "train.warmup_steps=500 is longer than the whole run (48 steps)" in caplog.text
        assert "only 48 optimiser steps" in caplog.text
    else:
        losses = logged_losses(run_dir)
        assert sum(losses[-4:]) < sum(losses[:4])
        assert json.loads((run_dir / "final_metrics.json").read_text())["val/AP"] > 0


def test_fine_tune_recipe_starts_from_a_checkpoint_with_other_classes_and_size(tiny_data, tmp_path, caplog):
    caplog.set_level("INFO")
    source = train(shrunk_recipe("driving_ssdlite_cpu.py", tiny_data), "source.py", tmp_path / "source")
    config = shrunk_recipe("driving_finetune.py", tiny_data, image_size=(128, 224), init_from=str(source / "last.ckpt"))
    config.data.classes = ("car", "person")
    config.train.max_epochs = 4
    run_dir = train(config, "finetune.py", tmp_path / "finetune")
    assert "classes kept: car, person" in caplog.text and "new: none" in caplog.text
    config.model.init_from = None  # the same run from random weights starts where the source started
    scratch_dir = train(config, "scratch.py", tmp_path / "scratch")
    # same seed and batches: without the checkpoint both first losses are equal (measured: 0.78x)
    assert logged_losses(run_dir)[0] < 0.9 * logged_losses(scratch_dir)[0]
