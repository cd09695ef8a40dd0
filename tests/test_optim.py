import math

import pytest
import torch

from ssdlite.build import build_model
from ssdlite.config import ModelConfig
from ssdlite.optim import build_ema, build_optimizer, warmup_cosine_factor


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
    assert warmup_cosine_factor(0, 10, 0.0) == pytest.approx(0.1)
    assert warmup_cosine_factor(9, 10, 0.0) == pytest.approx(1.0)
    assert warmup_cosine_factor(50, 10, 0.5) == pytest.approx(0.5)
    assert warmup_cosine_factor(99, 10, 1.0) == pytest.approx(0.0)
    assert warmup_cosine_factor(5, 0, 0.25) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


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
