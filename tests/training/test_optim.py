import math

import pytest
import torch

from ssdlite.config import ModelConfig
from ssdlite.model.build import build_model
from ssdlite.training.optim import build_ema, build_optimizer, scaled_lr, warmup_cosine_factor


def test_no_weight_decay_on_bn_and_bias():
    model = build_model(ModelConfig(image_size=(96, 96), width_mult=0.35), 3)
    optimizer = build_optimizer(model, "sgd", 0.1, 0.9, 4e-5)
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 4e-5 and plain["weight_decay"] == 0.0
    assert all(p.ndim == 4 for p in decayed["params"])
    bn_weight = model.backbone.stride16[0][1].weight
    assert any(p is bn_weight for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="train.optimizer"):
        build_optimizer(model, "rmsprop", 0.1, 0.9, 0.0)


def test_warmup_then_cosine():
    assert warmup_cosine_factor(0, 0.0, 10, 0.05) == pytest.approx(0.1)
    assert warmup_cosine_factor(9, 0.0, 10, 0.05) == pytest.approx(1.0)
    assert warmup_cosine_factor(50, 0.5, 10, 0.05) == pytest.approx(0.5)
    assert warmup_cosine_factor(99, 1.0, 10, 0.05) == pytest.approx(0.0)
    assert warmup_cosine_factor(5, 0.25, 0, 0.05) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def first_full_step(factors: list[float], progress: list[float]) -> int:
    """The first step whose multiplier is the cosine's: where the warmup really ended."""
    cosine = [0.5 * (1 + math.cos(math.pi * p)) for p in progress]
    return next(step for step, (f, c) in enumerate(zip(factors, cosine)) if f >= c - 1e-12)


@pytest.mark.parametrize("total_steps", [40, 300, 20_000])
def test_warmup_never_exceeds_its_bound_when_steps_end_the_run(total_steps):
    # max_steps, and max_epochs (epochs x batches per epoch), give progress = step / total
    progress = [step / total_steps for step in range(total_steps)]
    factors = [warmup_cosine_factor(step, p, warmup_steps=500, max_warmup_fraction=0.05) for step, p in enumerate(progress)]
    assert first_full_step(factors, progress) <= 0.05 * total_steps
    if total_steps == 20_000:  # a long run gets the whole warmup it asked for
        assert first_full_step(factors, progress) == 499


@pytest.mark.parametrize("seconds_per_step", [0.5, 2.0, 7.0])
def test_warmup_never_exceeds_its_bound_when_the_clock_ends_the_run(seconds_per_step):
    # max_time: progress is the fraction of the time spent, whatever the speed
    budget = 600.0
    total_steps = int(budget / seconds_per_step)
    progress = [step * seconds_per_step / budget for step in range(total_steps)]
    factors = [warmup_cosine_factor(step, p, warmup_steps=500, max_warmup_fraction=0.05) for step, p in enumerate(progress)]
    # the first step that starts after 5 % of the time runs at the full rate
    assert first_full_step(factors, progress) * seconds_per_step < 0.05 * budget + seconds_per_step
    assert max(factors) > 0.9  # the peak lr is reached


def test_lr_scales_with_the_total_batch():
    assert scaled_lr(0.015, 192, 24, "linear") == pytest.approx(0.001875)  # mmdetection's 8 x 24 on one device of 24
    assert scaled_lr(0.015, 192, 2 * 24, "linear") == pytest.approx(0.00375)
    assert scaled_lr(0.004, 16, 64, "sqrt") == pytest.approx(0.008)
    assert scaled_lr(0.004, None, 64, "linear") == 0.004


def test_ema_follows_the_weights_with_a_ramped_decay():
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    ema = build_ema(model, decay=0.9, ramp_steps=1.0)
    ema.update_parameters(model)  # first update copies
    model.weight.data.fill_(1.0)
    ema.update_parameters(model)  # n_averaged = 1: decay 0.9 (1 - e^-1) = 0.5689
    expected = 1 - 0.9 * (1 - math.exp(-1))
    assert ema.module.weight.item() == pytest.approx(expected, rel=1e-5)
    assert not any(p.requires_grad for p in ema.parameters())
