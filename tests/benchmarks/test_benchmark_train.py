"""The training benchmark end to end on tiny data, and its tool's errors."""

from pathlib import Path

import pytest

from ssdlite.config import load_config
from ssdlite.data.synthetic import make_synthetic_dataset
from torchvision_reference import NAME
from training_budget import format_table, max_time, run_training_benchmark

REPO = Path(__file__).resolve().parents[2]

TINY_RECIPE = """
from ssdlite.config import AugmentConfig, Config, DataConfig, ModelConfig, TrainConfig, TrainerConfig

config = Config(
    model=ModelConfig(image_size=(96, 160), width_mult=0.35),
    data=DataConfig(
        augment=AugmentConfig(photometric=False, zoom_out_max=1.0, min_iou_crop=False, hflip=False), batch_size=8, num_workers=0
    ),
    train=TrainConfig(optimizer="adamw", lr=3e-3, warmup_steps=4, ema=False),
    trainer=TrainerConfig(log_every_n_steps=1),
)
"""


def test_max_time_is_lightning_days_hours_minutes_seconds():
    assert max_time(0.1) == "00:00:00:06"
    assert max_time(90.5) == "00:01:30:30"
    assert max_time(0.001) == "00:00:00:01"


@pytest.mark.slow
def test_one_recipe_and_torchvision_train_for_the_budget_and_are_scored(tmp_path):
    data = tmp_path / "data"
    make_synthetic_dataset(data, num_train=24, num_val=8, seed=1, scene="footage", image_size=(90, 160))
    (tmp_path / "tiny.py").write_text(TINY_RECIPE)
    recipes = {"tiny": load_config(tmp_path / "tiny.py")}
    classes = load_config(REPO / "configs/driving_ssdlite.py").data.classes
    results = run_training_benchmark(recipes, classes=classes, minutes=0.1, data_dir=data, work_dir=tmp_path / "runs", threads=1)

    assert results["threads"] == 1 and results["minutes_budget"] == 0.1
    ours, theirs = results["runs"]
    assert (ours["name"], theirs["name"]) == ("tiny", NAME)
    assert (ours["input"], ours["width"], theirs["input"]) == ([96, 160], 0.35, [320, 320])
    for row in (ours, theirs):
        assert row["images_seen"] > 0 and row["madds_G"] > 0 and row["minutes"] > 0.1
        assert {"AP", "AP50", "APs", "AP/person", "AP/truck"} <= set(row["metrics"])
        assert all(0.0 <= value <= 1.0 for value in row["metrics"].values())
    assert ours["images_seen"] % 8 == 0 and (Path(ours["run_dir"]) / "final_metrics.json").is_file()
    assert NAME in format_table(results)


@pytest.mark.slow
def test_a_missing_recipe_is_one_line_error(tmp_path, run_benchmark):
    missing = tmp_path / "nowhere.py"
    result = run_benchmark(
        "benchmark_train.py",
        "--minutes",
        "0.1",
        "--recipes",
        str(missing),
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out.json"),
        timeout=120,
    )
    assert result.returncode != 0 and result.stderr.strip() == f"error: config file {missing} does not exist"
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "data").exists()
