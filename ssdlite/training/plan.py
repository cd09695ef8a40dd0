"""The plan of a training run: how long it is, its warmup and its peak learning rate.

Printed when training starts, so a user sees what the schedule will do with
their budget before it is spent, and warned when a setting makes it degenerate.
"""

import math
from dataclasses import dataclass

from ssdlite.config import TrainConfig
from ssdlite.training.optim import scaled_lr

# SGD from random weights needs a few hundred steps before its cosine decays
# (the driving recipe with SGD learned nothing in 309 steps).
MIN_SGD_STEPS_FROM_SCRATCH = 500
MIN_STEPS = 50


@dataclass(frozen=True)
class RunPlan:
    """What a run will do.

    Attributes:
        total_steps: optimiser steps the run will take; for a run that only
            `max_time` ends, an estimate from the measured speed (None before).
        limit: what ends the run ("max_epochs", "max_steps" or "max_time").
        warmup_steps: the warmup the schedule will give: `train.warmup_steps`
            bounded by `train.max_warmup_fraction` of the run (None: unknown yet).
        peak_lr: `train.lr` scaled to the total batch.
        total_batch_size: images per optimiser step over every device.
    """

    train: TrainConfig
    batch_size: int
    world_size: int
    total_steps: int | None
    limit: str
    from_scratch: bool

    @property
    def total_batch_size(self) -> int:
        return self.batch_size * self.world_size

    @property
    def peak_lr(self) -> float:
        return scaled_lr(self.train.lr, self.train.base_batch_size, self.total_batch_size, self.train.lr_scaling)

    @property
    def warmup_steps(self) -> int | None:
        if self.total_steps is None:
            return None
        # the schedule reaches the peak at the step where the run is max_warmup_fraction done
        return min(self.train.warmup_steps, math.floor(self.train.max_warmup_fraction * self.total_steps) + 1)

    def describe(self) -> str:
        train = self.train
        devices = f"{self.batch_size} x {self.world_size} device{'s' if self.world_size > 1 else ''}"
        if train.base_batch_size is None:
            lr = f"peak lr {self.peak_lr:.3g} (train.lr, not scaled: train.base_batch_size is None)"
        else:
            stated = f"train.lr {train.lr:g} for batch {train.base_batch_size}"
            lr = f"peak lr {self.peak_lr:.3g} ({stated}, {train.lr_scaling} scaling)"
        if self.total_steps is None:
            steps = f"{self.limit} {train.max_time}: steps follow the clock"
            warmup = f"warmup {train.warmup_steps} steps or {train.max_warmup_fraction:.0%} of the time, whichever is first"
        else:
            estimate = "about " if self.limit == "max_time" else ""
            steps = f"{estimate}{self.total_steps} steps ({self.limit})"
            warmup = f"warmup {self.warmup_steps} steps"
        return (
            f"plan: {train.optimizer}, total batch {self.total_batch_size} ({devices}), {lr}, {steps}, {warmup}, then cosine to 0"
        )

    def warnings(self) -> list[str]:
        """Settings that make the plan degenerate, each naming the setting and a fix."""
        train, found = self.train, []
        if self.total_steps is None:
            return found
        if train.warmup_steps >= self.total_steps:
            found.append(
                f"train.warmup_steps={train.warmup_steps} is longer than the whole run ({self.total_steps} steps); "
                f"the warmup is cut to {self.warmup_steps} steps ({train.max_warmup_fraction:.0%} of the run)"
            )
        if self.total_steps < MIN_STEPS:
            found.append(
                f"the run has only {self.total_steps} optimiser steps: raise the time or epochs, or lower data.batch_size"
            )
        elif train.optimizer == "sgd" and self.from_scratch and self.total_steps < MIN_SGD_STEPS_FROM_SCRATCH:
            found.append(
                f"SGD from random weights for {self.total_steps} steps (fewer than {MIN_SGD_STEPS_FROM_SCRATCH}) rarely learns: "
                "use train.optimizer=adamw, a longer run, or model.init_from=CHECKPOINT"
            )
        return found


def plan_run(
    train: TrainConfig,
    batch_size: int,
    world_size: int,
    steps_per_epoch: int | None,
    from_scratch: bool,
    estimated_time_steps: int | None = None,
) -> RunPlan:
    """The plan for a run of `train` settings.

    Args:
        batch_size: images per device per step.
        world_size: devices x nodes.
        steps_per_epoch: optimiser steps in one epoch on each device (None: not known).
        from_scratch: no detector checkpoint or ImageNet backbone to start from.
        estimated_time_steps: steps `max_time` allows at the measured speed.
    """
    limits = {}
    if train.max_steps > 0:
        limits["max_steps"] = train.max_steps
    if train.max_epochs > 0 and steps_per_epoch:
        limits["max_epochs"] = train.max_epochs * steps_per_epoch
    if train.max_time is not None:
        if estimated_time_steps is None:  # the clock may end the run first: not known yet
            return RunPlan(train, batch_size, world_size, None, "max_time", from_scratch)
        limits["max_time"] = estimated_time_steps
    if not limits:
        return RunPlan(train, batch_size, world_size, None, "max_epochs", from_scratch)
    limit = min(limits, key=limits.get)
    return RunPlan(train, batch_size, world_size, limits[limit], limit, from_scratch)
