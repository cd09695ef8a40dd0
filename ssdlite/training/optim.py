"""Optimiser, learning-rate schedule and weight EMA for training."""

import math

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from ssdlite.config import LrScaling, Optimizer


def build_optimizer(model: nn.Module, name: Optimizer, lr: float, momentum: float, weight_decay: float) -> torch.optim.Optimizer:
    """SGD with momentum or AdamW; weight decay skips BN parameters and biases."""
    decay, no_decay = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (no_decay if parameter.ndim <= 1 else decay).append(parameter)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=False)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    raise ValueError(f"train.optimizer must be 'sgd' or 'adamw', got {name!r}")


def warmup_cosine_factor(step: int, progress: float, warmup_steps: int, max_warmup_fraction: float) -> float:
    """Learning-rate multiplier: linear warmup, then cosine to 0 over the run.

    The warmup ends after `warmup_steps` or once `max_warmup_fraction` of the
    run is done, whichever comes first, so a short run is never all warmup.

    Args:
        step: optimiser steps taken.
        progress: fraction of the run done, in [0, 1] (by steps or by time,
            whichever limit ends the run first).
        warmup_steps: the longest warmup, in steps; 0: none.
        max_warmup_fraction: the longest warmup, as a fraction of the run.
    """
    progress = min(1.0, max(0.0, progress))
    warmup = 1.0
    if warmup_steps > 0:
        by_steps = (step + 1) / warmup_steps
        by_progress = progress / max_warmup_fraction if max_warmup_fraction > 0 else 1.0
        warmup = min(1.0, max(by_steps, by_progress))
    return warmup * 0.5 * (1.0 + math.cos(math.pi * progress))


def scaled_lr(lr: float, base_batch_size: int | None, total_batch_size: int, rule: LrScaling) -> float:
    """`lr` stated for `base_batch_size` images per step, scaled to `total_batch_size`.

    "linear" multiplies by the batch ratio (Goyal et al. 2017; mmdetection's
    `auto_scale_lr`), "sqrt" by its square root (a common rule for Adam).
    With no base batch the lr is used as it is.
    """
    if base_batch_size is None:
        return lr
    ratio = total_batch_size / base_batch_size
    return lr * (ratio if rule == "linear" else math.sqrt(ratio))


def build_ema(model: nn.Module, decay: float, ramp_steps: float = 2000.0) -> AveragedModel:
    """An exponential moving average of `model`'s weights and buffers.

    The decay ramps up as decay * (1 - exp(-updates / ramp_steps)), so early
    random weights fade quickly (the YOLOv5 / timm practice).
    """

    def average(averaged: torch.Tensor, current: torch.Tensor, num_averaged: torch.Tensor) -> torch.Tensor:
        if not averaged.is_floating_point():  # counters such as BN's num_batches_tracked
            return current
        step_decay = decay * (1.0 - torch.exp(-num_averaged.to(averaged.dtype) / ramp_steps))
        return averaged * step_decay + current * (1.0 - step_decay)

    ema = AveragedModel(model, avg_fn=average, use_buffers=True)
    ema.requires_grad_(False)
    return ema
