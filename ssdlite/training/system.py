"""The LightningModule: training and validation steps, optimiser, EMA, COCO evaluation."""

import logging
import math

import lightning as L
import torch
from lightning.pytorch.callbacks import Timer
from torch.optim.lr_scheduler import LambdaLR

from ssdlite.config import from_dict
from ssdlite.data.batch import image_ids, original_sizes
from ssdlite.evaluation import CocoEvaluation, CocoEvaluator
from ssdlite.model.build import build_model
from ssdlite.training.optim import build_ema, build_optimizer, warmup_cosine_factor
from ssdlite.training.plan import RunPlan, plan_run

log = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """Training produced non-finite losses several steps in a row."""


class DetectionSystem(L.LightningModule):
    """SSDLite training around a plain `SSDLite` model (`self.model`).

    Args:
        config: the resolved config as a dict (`ssdlite.config.to_dict`); saved
            in every checkpoint with `class_names`, so a checkpoint alone
            rebuilds the model.
        class_names: object classes; label k is `class_names[k - 1]`.
    """

    def __init__(self, config: dict, class_names: list[str]):
        super().__init__()
        self.save_hyperparameters()
        self.config = from_dict(config)
        self.class_names = tuple(class_names)
        self.model = build_model(self.config.model, num_classes=len(class_names) + 1)
        train = self.config.train
        self.ema = build_ema(self.model, train.ema_decay) if train.ema else None
        self.consecutive_bad_steps = 0
        self.step_targets = None  # the batch being stepped on, for the gradient check's message
        self.evaluator: CocoEvaluator | None = None  # made for the validation set when it first runs
        self.last_eval: CocoEvaluation | None = None  # the latest validation's, for plots
        self.val_examples = []  # a few (image, detections, target) for the prediction grid

    @property
    def eval_model(self):
        """The weights validation and export use: the EMA when there is one."""
        return self.ema.module if self.ema is not None else self.model

    def training_step(self, batch, batch_idx):
        images, targets = batch
        losses = self.model.loss(*self.model(images), targets)
        non_finite = not torch.isfinite(losses["loss"]).item()
        # Every rank must agree to skip, or DDP would wait for gradients forever.
        if self.trainer.strategy.reduce_boolean_decision(non_finite, all=False):
            return self._skip_step(targets, "loss")
        self.step_targets = targets
        batch_size = images.shape[0]
        self.log("train/loss", losses["loss"], prog_bar=True, batch_size=batch_size)
        self.log("train/loss_cls", losses["loss_cls"], batch_size=batch_size)
        self.log("train/loss_box", losses["loss_box"], batch_size=batch_size)
        return losses["loss"]

    def on_before_optimizer_step(self, optimizer) -> None:
        # A finite loss can still give a non-finite gradient; stepping on it would make every
        # weight NaN (clipping scales them all by it), so the step is skipped like a bad loss.
        # Under 16-mixed the grad scaler skips such steps itself, and they are routine there.
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        if not grads:  # a non-finite loss: training_step skipped the backward
            return
        if self.trainer.precision != "16-mixed" and not torch.isfinite(torch.nn.utils.get_total_norm(grads)):
            optimizer.zero_grad(set_to_none=True)  # the optimiser skips parameters without a gradient
            return self._skip_step(self.step_targets, "gradient")
        self.consecutive_bad_steps = 0

    def _skip_step(self, targets, what: str) -> None:
        self.consecutive_bad_steps += 1
        ids = image_ids(targets)
        log.warning("non-finite %s at step %d; skipped the batch with image ids %s", what, self.global_step, ids)
        if self.consecutive_bad_steps >= self.config.train.max_bad_steps:
            hint = "lower train.lr, raise train.warmup_steps or check the data"
            if self.trainer.precision == "bf16-mixed" and self.device.type == "cpu":
                # oneDNN's bf16 depthwise kernels on AVX512-BF16 CPUs (torch 2.14) can return
                # uninitialised gradients where a 3x3 window sees only padding (1-pixel maps)
                hint = "use trainer.precision=32-true: bf16 depthwise gradients on CPUs can be garbage"
            raise NonFiniteLossError(
                f"{self.consecutive_bad_steps} non-finite losses or gradients in a row (last batch: image ids {ids}); {hint}"
            )
        return None

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if self.ema is not None:
            self.ema.update_parameters(self.model)

    def on_validation_epoch_start(self) -> None:
        if self.evaluator is None:
            self.evaluator = CocoEvaluator.for_dataset(self.trainer.datamodule.val_set)
        self.evaluator.reset()

    def validation_step(self, batch, batch_idx) -> None:
        images, targets = batch
        model = self.eval_model
        cls_logits, bbox_regression = model(images)
        losses = model.loss(cls_logits, bbox_regression, targets)
        self.log("val/loss", losses["loss"], batch_size=images.shape[0], sync_dist=True)
        detections = model.postprocess(cls_logits, bbox_regression, original_sizes(targets))
        self.evaluator.update(detections, image_ids(targets))
        if batch_idx == 0:
            self.val_examples = [(images[i].cpu(), detections[i], targets[i]) for i in range(min(8, len(targets)))]

    def on_validation_epoch_end(self) -> None:
        # Every rank gathers every rank's images and computes the same numbers.
        evaluation = self.evaluator.compute()
        self.log_dict({f"val/{name}": value for name, value in evaluation.metrics.items()}, rank_zero_only=False)
        self.log("val/num_images", float(evaluation.num_images))
        self.log("val/num_images_skipped", float(len(evaluation.skipped_image_ids)))  # unreadable or damaged
        self.last_eval = evaluation

    def configure_optimizers(self):
        train = self.config.train
        lr = self.run_plan().peak_lr
        optimizer = build_optimizer(self.model, train.optimizer, lr, train.momentum, train.weight_decay)
        scheduler = LambdaLR(
            optimizer,
            lambda step: warmup_cosine_factor(step, self.training_progress(), train.warmup_steps, train.max_warmup_fraction),
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def run_plan(self, estimated_time_steps: int | None = None) -> RunPlan:
        """Length, warmup and peak lr of this run on this trainer's devices."""
        trainer, model = self.trainer, self.config.model
        steps_per_epoch = self.steps_per_epoch()
        from_scratch = model.init_from is None and model.pretrained_backbone is None
        return plan_run(
            self.config.train,
            self.config.data.batch_size,
            trainer.world_size,
            steps_per_epoch,
            from_scratch,
            estimated_time_steps,
        )

    def steps_per_epoch(self) -> int | None:
        """Optimiser steps per epoch on each device; None until the training data is set up.

        (Asking `estimated_stepping_batches` earlier would set the data up before a
        resumed run restores its place in the epoch.)
        """
        batches = self.trainer.num_training_batches
        if not (math.isfinite(batches) and batches > 0):
            return None
        return math.ceil(batches / self.trainer.accumulate_grad_batches)

    def timer(self) -> Timer | None:
        """The Timer that enforces `train.max_time`, if the run has one."""
        timer = next((c for c in self.trainer.callbacks if isinstance(c, Timer)), None)
        return timer if timer is not None and timer.time_remaining() is not None else None

    def training_progress(self) -> float:
        """Fraction of the run done, by steps or by time, whichever limit is nearer."""
        trainer, steps_per_epoch = self.trainer, self.steps_per_epoch()
        step_limits = [trainer.max_steps] if trainer.max_steps > 0 else []
        if trainer.max_epochs is not None and trainer.max_epochs > 0 and steps_per_epoch is not None:
            step_limits.append(trainer.max_epochs * steps_per_epoch)
        fractions = [self.global_step / limit for limit in step_limits]
        timer = self.timer()
        if timer is not None:
            elapsed = timer.time_elapsed()
            fractions.append(elapsed / max(elapsed + timer.time_remaining(), 1e-9))
        return max(fractions, default=0.0)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        if self.ema is not None:
            checkpoint["ema_state_dict"] = self.ema.module.state_dict()
