"""Learning-rate schedulers, with PyTorch's names, arguments and learning-rate sequences.

A scheduler rewrites ``group["lr"]`` in ``optimizer.param_groups`` each time ``step()`` is called
(once per epoch or once per batch, as the user chooses). Like PyTorch, most schedulers are
*chainable*: ``get_lr()`` computes the next learning rate from the current one, so schedulers that
share an optimizer compose (``ChainedScheduler``, ``SequentialLR``). Passing ``epoch=`` to
``step()`` uses the closed form instead, as PyTorch does. The two forms agree up to rounding; the
chainable form is the one ``step()`` uses, and it reproduces PyTorch's floats exactly.

Schedulers are pure Python over ``optimizer.param_groups`` (a list of dicts) and need nothing else
from the optimizer, so any object with ``param_groups`` (and ``defaults`` for ``OneCycleLR``'s
momentum cycling) can be scheduled. Their ``state_dict()`` holds only plain Python values (numbers,
strings, lists, dicts), so a checkpoint can store it as JSON.

Differences from PyTorch: no warning when ``scheduler.step()`` is called before
``optimizer.step()`` (the optimizer's ``step`` is not wrapped), and ``WarmupCosineLR`` is extra.
"""

from .base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR, WarmupCosineLR
from .decay import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .plateau import ReduceLROnPlateau

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "SequentialLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "WarmupCosineLR",
]
