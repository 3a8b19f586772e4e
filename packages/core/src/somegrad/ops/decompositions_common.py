"""What the linear algebra ops share: their dtype rule, the shape checks of matrix inputs, the
conversion of a kernel's LinAlgError, the named tuples they return, and small matrix helpers
(diagonals, identities) written in differentiable ops."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from somegrad import dtypes
from somegrad.errors import ShapeError, UnsupportedDTypeError
from somegrad.ops.comparison import where
from somegrad.ops.creation import eye
from somegrad.ops.dispatch import apply
from somegrad.tensor import Tensor

# PyTorch's linear algebra takes float32 and float64 (and complex): integers are refused, and so
# are float16 and bfloat16 ("Low precision dtypes not supported").
LINALG_FLOATS = frozenset((dtypes.float32, dtypes.float64))


class SlogdetResult(NamedTuple):
    """`slogdet`: the sign of the determinant and the log of its absolute value."""

    sign: Tensor
    logabsdet: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class LstsqResult(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def check_matrix(op: str, A, *, square: bool = False, name: str = "A") -> None:
    """A batch of matrices `(..., m, n)` (square: m == n), or the error PyTorch raises."""
    if A.ndim < 2:
        raise ShapeError(f"{op}: the input tensor {name} must have at least 2 dimensions, got shape {tuple(A.shape)}")
    if square and A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"{op}: {name} must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices (shape {tuple(A.shape)})"
        )


def _autocast_lifts(op: str, A) -> bool:
    """Whether autocast will run `op` on this half-precision `A` in float32 (its policy says so)."""
    from somegrad.amp import policy
    from somegrad.amp.autocast_mode import is_autocast_enabled

    device_type = A.device.type
    if A.dtype.kind != "float" or device_type not in policy.POLICIES or not is_autocast_enabled(device_type):
        return False
    return policy.rule(device_type, op.replace(".", "_")) == policy.FLOAT32


def check_input(op: str, A, *, square: bool = False, name: str = "A") -> None:
    """`check_matrix`, and the dtype rule: float32 or float64 (NotImplementedError, a
    RuntimeError, for the others, as PyTorch's "not implemented for 'Half'")."""
    if A.dtype not in LINALG_FLOATS and not _autocast_lifts(op, A):
        kind = "low precision dtypes are not supported" if A.dtype.is_floating_point else "expected a floating point"
        raise UnsupportedDTypeError(
            f"{op}: {kind} input (float32 or float64), got {name} of dtype {A.dtype.name}"
            + ("" if A.dtype.is_floating_point else "; convert it with .double() or .float()")
        )
    check_matrix(op, A, square=square, name=name)


def run(spec, inputs, params, op: str, failure: str):
    """`apply(spec, inputs, params)`, a kernel's LinAlgError (a singular or non-positive-definite
    input) raised again as `somegrad.linalg.LinAlgError` naming `op` and the input's shape."""
    try:
        return apply(spec, inputs, params)
    except np.linalg.LinAlgError as exc:
        raise linalg_error(op, failure, inputs[0]) from exc


def linalg_error(op: str, failure: str, A):
    from somegrad.linalg import LinAlgError

    return LinAlgError(f"{op}: {failure} (input of shape {tuple(A.shape)})")


def identity(n: int, like) -> Tensor:
    """The (n, n) identity with `like`'s dtype and device."""
    return eye(n, dtype=like.dtype, device=like.device)


def diagonal(X) -> Tensor:
    """The main diagonals of a batch of square matrices: (..., n, n) -> (..., n)."""
    return (X * identity(X.shape[-1], X)).sum(-1)


def diag_embed(v) -> Tensor:
    """Square matrices with `v` on their diagonals: (..., n) -> (..., n, n)."""
    return v.unsqueeze(-1) * identity(v.shape[-1], v)


def safe_divide(numerator, denominator) -> Tensor:
    """`numerator / denominator`, 0 where the numerator is exactly 0.

    The backward formulas of svd and eigh divide by differences of singular values or of
    eigenvalues, which vanish for repeated ones; where no gradient flows into the vectors (a
    loss of the values only) the numerator is exactly zero there and the gradient is finite,
    as in PyTorch, which skips those terms when the vectors' gradients are undefined."""
    # The divisor is replaced (not the quotient masked) so that no 0/0 arises, in this
    # gradient or in its own derivative.
    zero = numerator == 0
    return numerator / where(zero, 1.0, denominator)
