import math
from pathlib import Path

import pytest

from ssdlite.config import ConfigError, TrainConfig, load_config
from ssdlite.training.optim import warmup_cosine_factor
from ssdlite.training.plan import plan_run
from ssdlite.training.runner import train


def test_plan_scales_the_lr_for_one_and_two_devices():
    train = TrainConfig(optimizer="adamw", lr=0.004, base_batch_size=16, lr_scaling="linear", warmup_steps=500, max_epochs=10)
    one = plan_run(train, batch_size=16, world_size=1, steps_per_epoch=50, from_scratch=True)
    two = plan_run(train, batch_size=16, world_size=2, steps_per_epoch=25, from_scratch=True)
    assert one.peak_lr == pytest.approx(0.004) and two.peak_lr == pytest.approx(0.008)
    assert one.total_steps == 500 and two.total_steps == 250
    assert one.warmup_steps == 26 and two.warmup_steps == 13  # 5 % of the run, not 500
    assert "total batch 16 (16 x 1 device)" in one.describe() and "peak lr 0.004 " in one.describe()
    assert "total batch 32 (16 x 2 devices)" in two.describe() and "peak lr 0.008 " in two.describe()
    assert "500 steps (max_epochs)" in one.describe() and "warmup 26 steps" in one.describe()


def test_planned_warmup_is_where_the_schedule_peaks():
    train = TrainConfig(warmup_steps=500, max_warmup_fraction=0.05, max_epochs=4)
    plan = plan_run(train, 24, 1, steps_per_epoch=100, from_scratch=False)
    factors = [
        warmup_cosine_factor(step, step / plan.total_steps, 500, plan.train.max_warmup_fraction)
        for step in range(plan.total_steps)
    ]
    cosine = [0.5 * (1 + math.cos(math.pi * step / plan.total_steps)) for step in range(plan.total_steps)]
    assert factors[plan.warmup_steps - 1] == pytest.approx(cosine[plan.warmup_steps - 1])
    assert factors[plan.warmup_steps - 2] < cosine[plan.warmup_steps - 2]


def test_the_nearest_limit_ends_the_plan():
    train = TrainConfig(max_epochs=100, max_steps=300)
    assert plan_run(train, 8, 1, steps_per_epoch=10, from_scratch=False).limit == "max_steps"
    train = TrainConfig(max_epochs=100, max_time="00:00:10:00")
    before = plan_run(train, 8, 1, steps_per_epoch=10, from_scratch=False)
    assert before.total_steps is None and "steps follow the clock" in before.describe()
    measured = plan_run(train, 8, 1, steps_per_epoch=10, from_scratch=False, estimated_time_steps=240)
    assert measured.limit == "max_time" and measured.total_steps == 240 and "about 240 steps" in measured.describe()


def test_degenerate_plans_are_named():
    sgd = TrainConfig(optimizer="sgd", lr=0.015, base_batch_size=192, warmup_steps=500, max_epochs=120, max_time="00:00:10:00")
    plan = plan_run(sgd, 24, 1, steps_per_epoch=34, from_scratch=True, estimated_time_steps=309)
    warnings = " ".join(plan.warnings())
    assert "train.warmup_steps=500 is longer than the whole run (309 steps)" in warnings
    assert "SGD from random weights for 309 steps" in warnings and "adamw" in warnings
    fine_tune = plan_run(sgd, 24, 1, steps_per_epoch=34, from_scratch=False, estimated_time_steps=309)
    assert not any("SGD" in w for w in fine_tune.warnings())
    adamw = TrainConfig(optimizer="adamw", warmup_steps=50, max_epochs=10)
    assert plan_run(adamw, 16, 1, steps_per_epoch=50, from_scratch=True).warnings() == []
    assert "only 20 optimiser steps" in " ".join(plan_run(adamw, 16, 1, steps_per_epoch=2, from_scratch=True).warnings())


def test_freezing_random_weights_is_refused(tmp_path):
    config = load_config(Path(__file__).parents[2] / "configs/synthetic_driving.py")
    config.model.frozen_backbone_blocks = 2
    with pytest.raises(ConfigError, match="would freeze random weights"):
        train(config, "frozen.py", tmp_path / "run")
    assert not (tmp_path / "run").exists()
