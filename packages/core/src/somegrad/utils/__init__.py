"""Training utilities that sit on the autograd engine: `somegrad.utils.checkpoint`."""

from somegrad.utils import checkpoint

__all__ = ["checkpoint"]
