"""Activation layers, each a thin Module over `somegrad.nn.functional`."""

from __future__ import annotations

import somegrad as sg
from somegrad.nn import functional as F
from somegrad.nn.module import Module
from somegrad.nn.parameter import Parameter

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
    "SELU",
    "CELU",
    "Hardswish",
    "Hardsigmoid",
    "Softsign",
    "LogSigmoid",
    "Tanhshrink",
    "Softshrink",
    "Hardshrink",
    "Threshold",
    "RReLU",
    "PReLU",
    "Softmin",
    "Softmax2d",
]


class _Inplace(Module):
    """An activation of one input with PyTorch's `inplace` flag: `function(input, inplace)`."""

    function = staticmethod(F.relu)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return self.function(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Stateless(Module):
    """An activation of one input without arguments: `function(input)`."""

    function = staticmethod(F.tanh)

    def forward(self, input):
        return self.function(input)


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
    """`x` where `x > 0`, else `negative_slope * x`, any shape; `inplace=True` writes into the input."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

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
    """`x * sigmoid(x)` elementwise, any shape; `inplace=True` writes into the input."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


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
    """`x` where `x > 0`, else `alpha * (exp(x) - 1)`; any shape."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """`x` clamped to [min_val, max_val]; any shape."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError("min_val cannot be greater than max_val")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """`x` clamped to [0, 6]; any shape."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Mish(_Inplace):
    """`x * tanh(softplus(x))` elementwise, any shape."""

    function = staticmethod(F.mish)


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


class SELU(_Inplace):
    """`1.0507 * elu(x, 1.6733)` elementwise, any shape (self-normalising)."""

    function = staticmethod(F.selu)


class CELU(Module):
    """`max(0, x) + min(0, alpha * (exp(x / alpha) - 1))` elementwise, any shape."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardswish(_Inplace):
    """`x * relu6(x + 3) / 6` elementwise, any shape."""

    function = staticmethod(F.hardswish)


class Hardsigmoid(_Inplace):
    """`relu6(x + 3) / 6` elementwise, any shape."""

    function = staticmethod(F.hardsigmoid)


class Softsign(_Stateless):
    """`x / (1 + |x|)` elementwise, any shape."""

    function = staticmethod(F.softsign)


class LogSigmoid(_Stateless):
    """`log(sigmoid(x))` elementwise, computed stably; any shape."""

    function = staticmethod(F.logsigmoid)


class Tanhshrink(_Stateless):
    """`x - tanh(x)` elementwise, any shape."""

    function = staticmethod(F.tanhshrink)


class Softshrink(Module):
    """`x - lambd` above `lambd`, `x + lambd` below `-lambd`, else 0; any shape."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """`x` where `|x| > lambd`, else 0; any shape."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    """`x` where `x > threshold`, else `value`; any shape."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class RReLU(Module):
    """Randomised leaky ReLU: in training each negative input is scaled by a slope drawn from
    U(lower, upper); in evaluation by `(lower + upper) / 2`. Any shape."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """`x` where `x > 0`, else `weight * x` with a learnt slope: one (`num_parameters=1`) or one
    per channel of (N, C, *) (`num_parameters=C`), each starting at `init`."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(sg.empty((num_parameters,), device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with sg.no_grad():
            self.weight.fill_(self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmin(Module):
    """`softmax(-x, dim)`, the same shape out: weights favouring the smallest entries."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of each location: (N, C, H, W) or (C, H, W), dim -3."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)
