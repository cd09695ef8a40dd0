"""Optimiser, learning-rate schedule and weight EMA for training."""

import math

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def build_optimizer(
    model: nn.Module, name: str, lr: float, momentum: float, weight_decay: float
) -> torch.optim.Optimizer:
    """SGD with momentum or AdamW; weight decay skips BN parameters and biases.

    Args:
        name: "sgd" or "adamw".
    """
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


def warmup_cosine_factor(step: int, warmup_steps: int, progress: float) -> float:
    """Learning-rate multiplier: linear warmup over `warmup_steps`, then cosine to 0.

    Args:
        step: optimiser steps taken.
        progress: fraction of the run done, in [0, 1] (by steps or by time,
            whichever limit ends the run first).
    """
    warmup = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
    return warmup * 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, progress))))


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


