import importlib.util
from pathlib import Path

import pytest
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from ssdlite.config import Config, ConfigError, TrainerConfig, apply_overrides
from ssdlite.training.loggers import build_loggers
from ssdlite.training.runner import train


def test_tensorboard_logs_beside_metrics_csv(tmp_path):
    csv, tensorboard = build_loggers("tensorboard", tmp_path)
    assert isinstance(csv, CSVLogger) and isinstance(tensorboard, TensorBoardLogger)
    assert Path(csv.log_dir) == tmp_path and Path(tensorboard.log_dir) == tmp_path / "tensorboard"


def test_csv_alone_writes_only_metrics_csv(tmp_path):
    (csv,) = build_loggers("csv", tmp_path)
    assert isinstance(csv, CSVLogger) and Path(csv.log_dir) == tmp_path


@pytest.fixture
def trackers_missing(monkeypatch):
    """mlflow and wandb as on a machine without them, whatever this one has."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name in ("mlflow", "wandb") else find_spec(name, *args)
    )


@pytest.mark.parametrize("tracker", ["mlflow", "wandb"])
def test_a_tracker_not_installed_names_the_package_to_install(tracker, tmp_path, trackers_missing):
    with pytest.raises(ConfigError) as error:
        build_loggers(tracker, tmp_path)
    assert "trainer.logger" in str(error.value) and f"pip install {tracker}" in str(error.value)


def test_a_missing_tracker_stops_the_run_before_it_starts(tmp_path, trackers_missing):
    config = Config(trainer=TrainerConfig(logger="mlflow"))  # its data does not exist: never reached
    with pytest.raises(ConfigError, match="pip install mlflow"):
        train(config, "run.py", tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_logger_is_a_checked_config_choice():
    assert apply_overrides(Config(), ["trainer.logger=wandb"]).trainer.logger == "wandb"
    with pytest.raises(ConfigError, match="trainer.logger"):
        apply_overrides(Config(), ["trainer.logger=neptune"])
