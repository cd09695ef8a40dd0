"""A module's train / eval mode, kept across a block that needs eval mode."""

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """`module` in eval mode inside the block; each submodule's own mode restored after it.

    `module.train(was_training)` would not do: it sets every submodule to one mode,
    undoing e.g. batch-norm layers frozen in eval mode inside a training model.
    """
    modes = [(submodule, submodule.training) for submodule in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for submodule, training in modes:
            submodule.training = training
