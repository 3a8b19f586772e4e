"""Activation layers, each a thin Module over `somegrad.nn.functional`."""

from __future__ import annotations

from somegrad.nn import functional as F
from somegrad.nn.module import Module

__all__ = [
    "ReLU",
    "LeakyReLU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "LogSoftmax",
    "Softplus",
    "ELU",
    "ReLU6",
    "Hardtanh",
    "Mish",
    "GLU",
]


class ReLU(Module):
    """`max(x, 0)` elementwise, any shape; `inplace=True` writes into the input."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """`x` where `x > 0`, else `negative_slope * x`, any shape. `inplace` is kept for the repr, not used."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """GELU; `approximate="tanh"` is GPT-2's form (and much faster than erf on NumPy)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """`x * sigmoid(x)` elementwise, any shape. `inplace` is accepted and ignored."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)


class Tanh(Module):
    """Hyperbolic tangent, elementwise, any shape."""

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """`1 / (1 + exp(-x))` elementwise, any shape."""

    def forward(self, input):
        return F.sigmoid(input)


class Softmax(Module):
    """Softmax along `dim`, the same shape out: `nn.Softmax(dim=-1)(x)` sums to 1 along the last dim.

    Without `dim`, PyTorch's legacy choice (dim 0 for 0-, 1- and 3-d inputs, else dim 1)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax along `dim`, the same shape out; pairs with `NLLLoss`.

    Without `dim`, PyTorch's legacy choice (dim 0 for 0-, 1- and 3-d inputs, else dim 1)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softplus(Module):
    """`log(1 + exp(beta * x)) / beta`, and `x` itself where `beta * x > threshold`; any shape."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """`x` where `x > 0`, else `alpha * (exp(x) - 1)`; any shape. `inplace` is accepted and ignored."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Hardtanh(Module):
    """`x` clamped to [min_val, max_val]; any shape. `inplace` is accepted and ignored."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        self.min_val, self.max_val = min_val, max_val

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Module):
    """`x` clamped to [0, 6]; any shape. `inplace` is accepted and ignored."""

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, input):
        return F.relu6(input)


class Mish(Module):
    """`x * tanh(softplus(x))` elementwise, any shape."""

    def forward(self, input):
        return F.mish(input)


class GLU(Module):
    """Gated linear unit: splits the input in half along `dim` into `a`, `b` and returns `a * sigmoid(b)`.

    (N, 2k) -> (N, k) for `dim=-1`."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
