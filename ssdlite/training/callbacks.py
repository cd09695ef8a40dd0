"""Callbacks of a training run: progress summary and plots."""

import logging
import time
from pathlib import Path

import lightning as L

from ssdlite.confusion import confusion_matrix, confusion_to_dict
from ssdlite.training import plots

log = logging.getLogger(__name__)


class Throughput(L.Callback):
    """Images per second on the progress bar, and a one-line summary per epoch."""

    def on_train_start(self, trainer, pl_module) -> None:
        self.validated_epoch = None
        self.on_train_epoch_start(trainer, pl_module)  # a run resumed mid-epoch starts no epoch

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.epoch_start = self.batch_start = time.perf_counter()
        self.epoch_images = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        images = batch[0].shape[0] * trainer.world_size
        self.epoch_images += images
        pl_module.log("img/s", images / max(now - self.batch_start, 1e-9), prog_bar=True, on_step=True, on_epoch=False)
        pl_module.log("lr", trainer.optimizers[0].param_groups[0]["lr"], prog_bar=True, on_step=True, on_epoch=False)
        self.batch_start = now

    def on_validation_end(self, trainer, pl_module) -> None:
        self.validated_epoch = trainer.current_epoch

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        seconds = time.perf_counter() - self.epoch_start
        metrics = trainer.callback_metrics
        keys = ["train/loss"] + (["val/AP", "val/AP50"] if self.validated_epoch == trainer.current_epoch else [])
        parts = [f"epoch {trainer.current_epoch}", f"step {trainer.global_step}"]
        parts += [f"{key} {float(metrics[key]):.{2 if 'AP' in key else 4}f}" for key in keys if key in metrics]
        parts += [f"lr {trainer.optimizers[0].param_groups[0]['lr']:.2e}", f"{self.epoch_images / seconds:.1f} img/s"]
        if trainer.is_global_zero:
            log.info(" | ".join(parts))


class PlanReport(L.Callback):
    """Logs the run's plan (steps, warmup, peak lr) and what makes it degenerate.

    A run that `max_time` ends is planned again once `measure_steps` steps
    have shown how fast it goes.
    """

    def __init__(self, measure_steps: int = 20):
        self.measure_steps = measure_steps

    def on_train_start(self, trainer, pl_module) -> None:
        self.start_step, self.start_time = trainer.global_step, time.perf_counter()
        plan = pl_module.run_plan()
        for logger in trainer.loggers:
            logger.log_hyperparams({"plan/peak_lr": plan.peak_lr, "plan/total_batch_size": plan.total_batch_size})
        self._report(trainer, plan)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        timer = pl_module.timer()
        if timer is None or trainer.global_step != self.start_step + self.measure_steps:
            return
        seconds_per_step = (time.perf_counter() - self.start_time) / self.measure_steps
        estimated = trainer.global_step + int(timer.time_remaining() / seconds_per_step)
        self._report(trainer, pl_module.run_plan(estimated))

    def _report(self, trainer, plan) -> None:
        if not trainer.is_global_zero:
            return
        log.info(plan.describe())
        for warning in plan.warnings():
            log.warning("warning: %s", warning)


class RunPlots(L.Callback):
    """PNG plots in `<run dir>/plots` after each validation and at the end of training."""

    def __init__(self, run_dir: Path):
        self.plot_dir = Path(run_dir) / "plots"

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.is_global_zero or pl_module.last_eval is None or trainer.sanity_checking:
            return
        evaluator, evaluation = pl_module.evaluator, pl_module.last_eval
        plots.plot_class_ap(evaluation.metrics, self.plot_dir / "class_ap.png")
        if evaluation.cocoeval is not None:
            out = self.plot_dir / "precision_recall.png"
            plots.plot_precision_recall(evaluation.cocoeval, evaluator.category_ids, evaluator.class_names, out)
        confusion = confusion_matrix(evaluator, evaluation)
        plots.plot_confusion_matrix(confusion_to_dict(confusion), self.plot_dir / "confusion_matrix.png")
        if pl_module.val_examples:
            plots.plot_predictions(pl_module.val_examples, pl_module.class_names, self.plot_dir / "predictions.png")

    def on_fit_end(self, trainer, pl_module) -> None:
        metrics_csv = Path(trainer.loggers[0].log_dir) / "metrics.csv" if trainer.loggers else None
        if trainer.is_global_zero and metrics_csv is not None and metrics_csv.is_file():
            trainer.loggers[0].save()
            plots.plot_curves(metrics_csv, self.plot_dir / "curves.png")
