"""`Dropout`: zero elements with probability p in training, the identity in eval."""

from __future__ import annotations

from somegrad.nn import functional as F
from somegrad.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """In training, zero each element with probability `p` and scale the others by 1/(1-p);
    in eval mode, return the input. Seeded by `sg.manual_seed`."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
