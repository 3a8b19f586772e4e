"""Optimizers and learning-rate schedulers (``somegrad.optim``), shaped like ``torch.optim``."""

from somegrad.optim import lr_scheduler

__all__ = ["lr_scheduler"]
