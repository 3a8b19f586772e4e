"""The activations of `somegrad.nn.functional`, with PyTorch's signatures (re-exported there).

The declared ones (elu, selu, celu, hardtanh, relu6, hardsigmoid, hardswish, softsign,
logsigmoid, mish, gelu, silu, softplus, leaky_relu) are ops of `somegrad.ops.activations`; the
rest are a few Tensor ops each. `inplace=True` writes the result into `input` (its version
counter moves, so a backward that saved the old value raises), as PyTorch does.
"""

from __future__ import annotations

import somegrad as sg
from somegrad.ops import activations as _act
from somegrad.ops.inplace import inplace as _write_inplace
from somegrad.tensor import Tensor

__all__ = [
    "threshold",
    "threshold_",
    "relu",
    "relu_",
    "leaky_relu",
    "leaky_relu_",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softmax",
    "softmin",
    "log_softmax",
    "softplus",
    "elu",
    "elu_",
    "selu",
    "selu_",
    "celu",
    "celu_",
    "hardtanh",
    "hardtanh_",
    "relu6",
    "hardsigmoid",
    "hardswish",
    "softsign",
    "logsigmoid",
    "tanhshrink",
    "softshrink",
    "hardshrink",
    "rrelu",
    "rrelu_",
    "prelu",
    "mish",
    "glu",
]


def _apply(input, inplace, fn, name):
    return _write_inplace(input, fn, name) if inplace else fn(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """`x` where `x > threshold`, else `value`; no gradient where replaced."""
    return _apply(input, inplace, lambda x: sg.where(x > threshold, x, value), "threshold_")


_threshold = threshold  # threshold_'s parameter of the same name hides the function


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """`threshold` written into `input`."""
    return _threshold(input, threshold, value, inplace=True)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """`max(x, 0)` elementwise; with `inplace=True` it writes into `input` (as `relu_`)."""
    return input.relu_() if inplace else sg.relu(input)


def relu_(input: Tensor) -> Tensor:
    """`max(x, 0)` written into `input`'s memory; returns `input`."""
    return input.relu_()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """`x` where `x > 0`, else `negative_slope * x`."""
    return _apply(input, inplace, lambda x: _act.leaky_relu(x, negative_slope), "leaky_relu_")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """`leaky_relu` written into `input`."""
    return leaky_relu(input, negative_slope, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU: exact (`approximate="none"`, with erf) or the tanh approximation GPT-2 uses."""
    return _act.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """`x * sigmoid(x)` (swish)."""
    return _apply(input, inplace, _act.silu, "silu_")


def sigmoid(input: Tensor) -> Tensor:
    """`1 / (1 + exp(-x))` elementwise."""
    return sg.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return sg.tanh(input)


def _softmax_dim(input, dim):
    # PyTorch's legacy rule when no dim is given.
    if dim is not None:
        return dim
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """`exp(x) / sum(exp(x), dim)`, computed stably; the same shape as `input`.

    Without `dim`, PyTorch's legacy choice: dim 0 for 0-, 1- and 3-d inputs, else dim 1 (PyTorch also warns)."""
    return sg.softmax(input, _softmax_dim(input, dim), dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """`softmax(-x, dim)`: weights that favour the smallest entries along `dim`."""
    if dtype is not None:
        input = input.to(dtype)
    return sg.softmax(-input, _softmax_dim(input, dim))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """`x - logsumexp(x, dim)`, computed stably; the same shape as `input`.

    Without `dim`, PyTorch's legacy choice: dim 0 for 0-, 1- and 3-d inputs, else dim 1 (PyTorch also warns)."""
    return sg.log_softmax(input, _softmax_dim(input, dim), dtype=dtype)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """`log(1 + exp(beta * x)) / beta`, computed stably; `x` itself where `beta * x > threshold`."""
    return _act.softplus(input, beta, threshold)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """`x` where `x > 0`, else `alpha * (exp(x) - 1)`."""
    return _apply(input, inplace, lambda x: _act.elu(x, alpha), "elu_")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """`elu` written into `input`."""
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """`1.0507 * elu(x, 1.6733)`: SELU, whose constants keep activations normalised."""
    return _apply(input, inplace, _act.selu, "selu_")


def selu_(input: Tensor) -> Tensor:
    """`selu` written into `input`."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """`max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`."""
    return _apply(input, inplace, lambda x: _act.celu(x, alpha), "celu_")


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """`celu` written into `input`."""
    return celu(input, alpha, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """`x` clamped to [min_val, max_val] (no gradient at or beyond the bounds)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _apply(input, inplace, lambda x: _act.hardtanh(x, min_val, max_val), "hardtanh_")


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """`hardtanh` written into `input`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """`x` clamped to [0, 6]."""
    return _apply(input, inplace, _act.relu6, "relu6_")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """`relu6(x + 3) / 6`."""
    return _apply(input, inplace, _act.hardsigmoid, "hardsigmoid_")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """`x * relu6(x + 3) / 6`."""
    return _apply(input, inplace, _act.hardswish, "hardswish_")


def softsign(input: Tensor) -> Tensor:
    """`x / (1 + |x|)`."""
    return _act.softsign(input)


def logsigmoid(input: Tensor) -> Tensor:
    """`log(sigmoid(x))`, computed stably."""
    return _act.logsigmoid(input)


def tanhshrink(input: Tensor) -> Tensor:
    """`x - tanh(x)`."""
    return input - input.tanh()


def _check_lambd(op, lambd):
    if lambd < 0:
        raise RuntimeError(f"{op}: lambda must be greater or equal to 0, but found to be {lambd}.")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """`x - lambd` above `lambd`, `x + lambd` below `-lambd`, else 0."""
    _check_lambd("softshrink", lambd)
    return sg.where(input > lambd, input - lambd, sg.where(input < -lambd, input + lambd, 0.0))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """`x` where `|x| > lambd`, else 0."""
    return sg.where((input > lambd) | (input < -lambd), input, 0.0)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomised leaky ReLU: negative inputs times a slope drawn from U(lower, upper) per
    element in training, times `(lower + upper) / 2` in evaluation."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)

    def compute(x):
        slope = sg.rand(x.shape, dtype=x.dtype, device=x.device) * (upper - lower) + lower
        return sg.where(x >= 0, x, x * slope)

    return _apply(input, inplace, compute, "rrelu_")


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """`rrelu` written into `input`."""
    return rrelu(input, lower, upper, training, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """`x` where `x > 0`, else `weight * x`; weight holds one slope or one per channel (dim 1).

    input: (N, C, *) with weight (C,) or (1,); a 1-d input takes a single slope."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    slopes = weight.numel()
    if slopes != 1:
        if input.ndim == 0:
            raise RuntimeError("prelu: Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != slopes:
            raise RuntimeError(
                f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{slopes} and channel size = {channels}."
            )
        weight = weight.reshape((1, slopes) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return sg.where(input > 0, input, weight * input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """`x * tanh(softplus(x))`."""
    return _apply(input, inplace, _act.mish, "mish_")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: `input` halved along `dim` into `a` and `b`, returns `a * sigmoid(b)`.

    An input of size 2k along `dim` gives size k there, e.g. (N, 2k) -> (N, k) for `dim=-1`."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size {size}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()
