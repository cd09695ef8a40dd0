"""The loggers of a training run: metrics.csv always, and the experiment tracker the config names."""

import importlib.util
from pathlib import Path

from lightning.pytorch.loggers import CSVLogger, Logger, MLFlowLogger, TensorBoardLogger, WandbLogger

from ssdlite.config import ConfigError, ExperimentLogger

# The package each tracker needs beyond Lightning; Lightning's loggers import it when they are made.
TRACKER_PACKAGES = {"mlflow": "mlflow", "wandb": "wandb"}
PROJECT = "ssdlite"  # the MLflow experiment / W&B project that runs are grouped under


def build_loggers(choice: ExperimentLogger, run_dir: Path) -> list[Logger]:
    """CSV first, then the chosen tracker; made before the run starts, so a missing package stops it at once.

    The CSV logger writes `<run dir>/metrics.csv`, which every run has: the curves plot reads
    it (`RunPlots`, through `trainer.loggers[0]`) and a new run refuses a directory holding one.
    TensorBoard writes `<run dir>/tensorboard`, MLflow `<run dir>/mlruns` unless
    MLFLOW_TRACKING_URI names a server, Weights & Biases `<run dir>/wandb` and its project.

    Raises:
        ConfigError: the chosen tracker's package is not installed (the message says what to install).
    """
    package = TRACKER_PACKAGES.get(choice)
    if package is not None and importlib.util.find_spec(package) is None:
        raise ConfigError(
            f"trainer.logger={choice!r} needs the {package} package: pip install {package} "
            "(or set trainer.logger to 'tensorboard' or 'csv')"
        )
    loggers: list[Logger] = [CSVLogger(run_dir, name="", version="")]
    if choice == "tensorboard":
        loggers.append(TensorBoardLogger(run_dir, name="tensorboard", version=""))
    elif choice == "mlflow":
        loggers.append(MLFlowLogger(experiment_name=PROJECT, run_name=run_dir.name, save_dir=str((run_dir / "mlruns").resolve())))
    elif choice == "wandb":
        loggers.append(WandbLogger(name=run_dir.name, save_dir=run_dir, project=PROJECT))
    return loggers
