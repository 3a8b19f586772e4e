"""Optimizers and learning-rate schedulers (``somegrad.optim``), shaped like ``torch.optim``.

    opt = optim.AdamW(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    sched.step()

Gradient clipping lives in ``somegrad.nn.utils`` (``clip_grad_norm_``), as in PyTorch.
"""

from somegrad.optim import lr_scheduler, swa_utils
from somegrad.optim.adadelta import Adadelta, Adamax
from somegrad.optim.adagrad import Adagrad
from somegrad.optim.adam import Adam, AdamW
from somegrad.optim.lbfgs import LBFGS
from somegrad.optim.nadam import NAdam, RAdam
from somegrad.optim.optimizer import Optimizer
from somegrad.optim.rmsprop import RMSprop
from somegrad.optim.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "LBFGS",
    "lr_scheduler",
    "swa_utils",
]
