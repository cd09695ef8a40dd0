"""A training run: its directory, loggers, callbacks and Trainer."""

import json
import logging
import pprint
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import Logger

from ssdlite.checkpoint import CheckpointError
from ssdlite.config import Accelerator, Config, ConfigError, Precision, to_dict
from ssdlite.errors import SsdliteError
from ssdlite.model.transfer import adopt_input_convention, init_from_checkpoint
from ssdlite.training.callbacks import PlanReport, RunPlots, Throughput
from ssdlite.training.datamodule import DetectionDataModule
from ssdlite.training.loggers import build_loggers
from ssdlite.training.system import DetectionSystem

log = logging.getLogger(__name__)


def make_run_dir(config_path: str | Path, work_dir: str | Path | None, root: str) -> Path:
    """`work_dir` if given, else `<root>/<config name>-<date-time>`."""
    if work_dir is not None:
        return Path(work_dir)
    return Path(root) / f"{Path(config_path).stem}-{time.strftime('%Y%m%d-%H%M%S')}"


class RunDirError(SsdliteError, ValueError):
    """The run directory already holds another run."""


def write_resolved_config(config: Config, path: Path) -> None:
    """The config after overrides, as a Python file `load_config` reads back."""
    data = pprint.pformat(to_dict(config), indent=4, sort_dicts=False)
    text = f"from ssdlite.config import from_dict\n\nconfig = from_dict(\n{data}\n)\n"
    path.write_text(text)


class ResolvedConfig(L.Callback):
    """Writes `config.py` into the run directory once Lightning has set the run up.

    Written earlier, it would make Lightning's loggers and checkpoint callback
    warn that a fresh run directory "exists and is not empty".
    """

    def __init__(self, config: Config, path: Path):
        self.config, self.path = config, path

    def setup(self, trainer, pl_module, stage: str) -> None:
        if trainer.is_global_zero:
            write_resolved_config(self.config, self.path)


def check_run_dir(run_dir: Path, resume: str | None) -> None:
    """Refuse to start a new run over the checkpoints and logs of an earlier one."""
    earlier = [name for name in ("last.ckpt", "best.ckpt", "metrics.csv") if (run_dir / name).exists()]
    if earlier and resume is None:
        raise RunDirError(
            f"{run_dir} already holds a run ({', '.join(earlier)}): continue it with --resume auto, or give a new --work-dir"
        )


def find_resume_checkpoint(resume: str | None, run_dir: Path) -> str | None:
    """`auto` means `<run dir>/last.ckpt` when it exists; otherwise the path itself."""
    if resume == "auto":
        last = run_dir / "last.ckpt"
        return str(last) if last.is_file() else None
    if resume is not None and not Path(resume).is_file():
        raise CheckpointError(f"--resume {resume}: no such checkpoint")
    return resume


def resolve_precision(precision: Precision, accelerator: Accelerator) -> Precision:
    """`auto`: mixed precision where the hardware has it (a CUDA GPU), full precision elsewhere."""
    if precision != "auto":
        return precision
    on_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return "16-mixed" if on_gpu else "32-true"


def build_trainer(config: Config, run_dir: Path, loggers: list[Logger], callbacks: list[L.Callback] = ()) -> L.Trainer:
    train, trainer = config.train, config.trainer
    # best.ckpt by validation AP, looked at in the epochs that validate; last.ckpt every epoch,
    # and on Ctrl-C, SIGTERM or any other exception, so `--resume auto` continues.
    # Lightning writes through a temporary file.
    best = ModelCheckpoint(
        dirpath=run_dir,
        filename="best",
        monitor="val/AP",
        mode="max",
        auto_insert_metric_name=False,
        every_n_epochs=train.eval_every_n_epochs,
        save_on_train_epoch_end=True,
        enable_version_counter=False,
    )
    last = ModelCheckpoint(
        dirpath=run_dir, filename="last", save_on_train_epoch_end=True, enable_version_counter=False, save_on_exception=True
    )
    return L.Trainer(
        accelerator=trainer.accelerator,
        devices=trainer.devices,
        num_nodes=trainer.num_nodes,
        strategy=trainer.strategy,
        precision=resolve_precision(trainer.precision, trainer.accelerator),
        sync_batchnorm=trainer.sync_batchnorm,
        max_epochs=train.max_epochs,
        max_steps=train.max_steps,
        max_time=train.max_time,
        gradient_clip_val=train.grad_clip_norm,
        check_val_every_n_epoch=train.eval_every_n_epochs,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # the datamodule's samplers resume mid-epoch
        deterministic=train.deterministic,
        default_root_dir=run_dir,
        logger=loggers,
        callbacks=[
            best,
            last,
            ResolvedConfig(config, run_dir / "config.py"),
            LearningRateMonitor(logging_interval="step"),
            Throughput(),
            PlanReport(),
            RunPlots(run_dir),
            *callbacks,
        ],
        log_every_n_steps=trainer.log_every_n_steps,
    )


def offer_as_best(trainer: L.Trainer, val_ap: float) -> None:
    """Make the final weights best.ckpt if they beat it.

    A run can end between validations (max_steps, max_time, an epoch count that is not a
    multiple of eval_every_n_epochs), where the checkpoint callback never sees them.
    """
    best = trainer.checkpoint_callback  # the first ModelCheckpoint: best.ckpt
    score = torch.tensor(val_ap)
    if not best.check_monitor_top_k(trainer, score):
        return
    path = str(Path(best.dirpath) / "best.ckpt")
    # Through the callback's own state protocol, so the checkpoint written next records the new best.
    ranking = dict(
        best_model_score=score, best_model_path=path, best_k_models={path: score}, kth_best_model_path=path, kth_value=score
    )
    best.load_state_dict(best.state_dict() | ranking)
    trainer.save_checkpoint(path, weights_only=False)  # a full checkpoint: it resumes too


def train(
    config: Config,
    config_path: str | Path,
    work_dir: str | Path | None = None,
    resume: str | None = None,
    callbacks: list[L.Callback] = (),
) -> Path:
    """Train, validate at the end, and return the run directory.

    The directory holds config.py (resolved), last.ckpt, best.ckpt (by val/AP),
    metrics.csv, the chosen logger's files (tensorboard/ by default), plots/ and final_metrics.json.
    """
    if config.model.frozen_backbone_blocks and config.model.pretrained_backbone is None and config.model.init_from is None:
        raise ConfigError(
            f"model.frozen_backbone_blocks = {config.model.frozen_backbone_blocks} would freeze random weights; "
            "set model.pretrained_backbone='imagenet' or model.init_from, or model.frozen_backbone_blocks=0"
        )
    L.seed_everything(config.train.seed, workers=True, verbose=False)
    run_dir = make_run_dir(config_path, work_dir, config.trainer.work_dir)
    ckpt_path = find_resume_checkpoint(resume, run_dir)
    check_run_dir(run_dir, ckpt_path)
    loggers = build_loggers(config.trainer.logger, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)

    if config.model.init_from is not None:
        config = adopt_input_convention(config)  # also when resuming: the weights' convention, not the recipe's
    datamodule = DetectionDataModule(config.data, config.model.image_size, seed=config.train.seed)
    datamodule.prepare_data()
    datamodule.setup("fit")
    system = DetectionSystem(to_dict(config), list(datamodule.train_set.class_names))
    if config.model.init_from is not None and ckpt_path is None:  # a resumed run has its own weights
        report = init_from_checkpoint(system.model, datamodule.train_set.class_names, config.model.init_from)
        log.info(report.summary())
    trainer = build_trainer(config, run_dir, loggers, callbacks)
    with warnings.catch_warnings():
        # The loggers write into the run directory before the checkpoint callbacks look at it;
        # a real overwrite of another run was refused above (check_run_dir).
        warnings.filterwarnings("ignore", message="Checkpoint directory .* exists and is not empty")
        trainer.fit(system, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)

    metrics = trainer.validate(system, datamodule=datamodule, verbose=False)[0]
    offer_as_best(trainer, metrics["val/AP"])
    if trainer.is_global_zero:
        (run_dir / "final_metrics.json").write_text(json.dumps(metrics, indent=2))
        log.info("run directory: %s (checkpoints, metrics.csv, plots/)", run_dir)
    return run_dir
