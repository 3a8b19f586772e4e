"""Complex numbers: `conj`, `real`, `imag`, `complex`, `polar`, `angle`, `sgn`,
`view_as_real`, `view_as_complex`, and `Tensor.view(dtype)`.

Gradients follow PyTorch's convention: for a real loss L of a complex z = x + iy, the gradient
is dL/dx + i dL/dy (the conjugate Wirtinger derivative, doubled). So a holomorphic f's backward
is `grad * conj(f'(z))`, `real`'s sends a real gradient back as a complex one, `imag`'s as
`i * grad`, and `abs`'s is `grad * z / |z|`.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import DTypeError
from somegrad.ops.dispatch import apply
from somegrad.ops.operands import cast, scalar_tensor
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import FLOATING, OpSpec, public, register
from somegrad.tensor import Tensor

COMPLEX = frozenset(dtypes.complex_dtypes)
INEXACT = FLOATING | COMPLEX  # the floating and the complex dtypes
REAL = frozenset(d for d in dtypes.all_dtypes if not d.is_complex)
PARTS = frozenset((dtypes.float32, dtypes.float64))  # the dtypes of complex64's and complex128's parts


def _parts_of(x, **params):
    return x.shape, dtypes.to_real(x.dtype)


def _complex_infer(real, imag):
    for name, t in (("real", real), ("imag", imag)):
        if t.dtype not in PARTS:
            raise DTypeError(
                f"complex: expected both inputs to be float32 or float64 tensors, but {name} has dtype {t.dtype.name}"
            )
    if real.dtype is not imag.dtype:
        raise DTypeError(
            f"complex: expected real and imag to have the same dtype, got {real.dtype.name} and {imag.dtype.name}"
        )
    return broadcast_shapes("complex", real.shape, imag.shape), dtypes.to_complex(real.dtype)


def _view_as_real_infer(x):
    if not x.dtype.is_complex:
        raise DTypeError(f"view_as_real: only supported for complex tensors, got dtype {x.dtype.name}")
    return x.shape + (2,), dtypes.to_real(x.dtype)


def _view_as_complex_infer(x):
    if x.dtype not in PARTS:
        raise DTypeError(f"view_as_complex: only supported for float32 and float64 tensors, got dtype {x.dtype.name}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError(f"view_as_complex: the tensor must have a last dimension of size 2, got shape {x.shape}")
    strides = x.stride() if x.numel() else (2,) * (x.ndim - 1) + (1,)  # no elements: any layout views
    if strides[-1] != 1:
        raise RuntimeError(f"view_as_complex: the tensor must have a last dimension with stride 1, got {strides[-1]}")
    if any(s % 2 for size, s in zip(x.shape[:-1], strides[:-1]) if size != 1):
        raise RuntimeError(
            f"view_as_complex: the tensor must have a stride divisible by 2 for all but the last dimension, "
            f"got strides {strides}"
        )
    return x.shape[:-1], dtypes.to_complex(x.dtype)


def _imag_backward(g):
    return complex(g.zeros_like(), g)


def _view_as_real_backward(g):
    return complex(g[..., 0], g[..., 1])


CONJ = register(OpSpec("conj", "elementwise", ("x",), lambda x: (x.shape, x.dtype), lambda g: conj(g), accepts=COMPLEX))
REAL_PART = register(OpSpec("real", "elementwise", ("x",), _parts_of, lambda g: g, view=True, accepts=COMPLEX))
IMAG_PART = register(OpSpec("imag", "elementwise", ("x",), _parts_of, _imag_backward, view=True, accepts=COMPLEX))
COMPLEX_OP = register(
    OpSpec("complex", "elementwise", ("real", "imag"), _complex_infer, lambda g: (real(g), imag(g)), accepts=PARTS)
)
VIEW_AS_REAL = register(
    OpSpec("view_as_real", "movement", ("x",), _view_as_real_infer, _view_as_real_backward, view=True, accepts=COMPLEX)
)
VIEW_AS_COMPLEX = register(
    OpSpec(
        "view_as_complex",
        "movement",
        ("x",),
        _view_as_complex_infer,
        lambda g: view_as_real(g),
        view=True,
        accepts=PARTS,
    )
)


@public(CONJ, methods=("conj", "conj_physical"), aliases=("conj_physical",))
def conj(x):
    """The complex conjugate; a real tensor is returned as it is (so backward rules call it at
    no cost for real inputs). PyTorch's is a lazy view; somegrad's complex one is a new tensor."""
    return x if not x.dtype.is_complex else apply(CONJ, (x,), {})


@public(REAL_PART)
def real(x):
    """The real parts of a complex tensor (a view, of the parts' dtype); a real tensor itself."""
    return x if not x.dtype.is_complex else apply(REAL_PART, (x,), {})


@public(IMAG_PART)
def imag(x):
    """The imaginary parts of a complex tensor (a view, of the parts' dtype); RuntimeError for a real one."""
    if not x.dtype.is_complex:
        raise DTypeError(f"imag: not implemented for tensors with non-complex dtypes, got {x.dtype.name}")
    return apply(IMAG_PART, (x,), {})


def _parts(real, imag):
    """The two part tensors; a Python number takes the other part's dtype (PyTorch takes tensors only)."""
    if not isinstance(real, Tensor):
        real = scalar_tensor(real, imag.dtype, imag.device)
    elif not isinstance(imag, Tensor):
        imag = scalar_tensor(imag, real.dtype, real.device)
    return real, imag


@public(COMPLEX_OP)
def complex(real, imag):  # noqa: A001  (PyTorch's name)
    """`real + i * imag`, broadcasting: two float32 (float64) tensors give complex64 (complex128)."""
    return apply(COMPLEX_OP, _parts(real, imag), {})


@public(VIEW_AS_REAL)
def view_as_real(x):
    """A complex tensor of shape S as a real one of shape S + (2,), the last dim (real, imag)."""
    return apply(VIEW_AS_REAL, (x,), {})


@public(VIEW_AS_COMPLEX)
def view_as_complex(x):
    """A float32/float64 tensor of shape S + (2,) (last dim contiguous) as a complex one of shape S."""
    return apply(VIEW_AS_COMPLEX, (x,), {})


def _polar(abs, angle):
    return complex(abs * angle.cos(), abs * angle.sin())


POLAR = register(
    OpSpec("polar", "elementwise", ("abs", "angle"), _complex_infer, decompose=_polar, accepts=PARTS),
)


@public(POLAR)
def polar(abs, angle):  # noqa: A002  (PyTorch's names)
    """`abs * (cos(angle) + i sin(angle))`, broadcasting: float32 (float64) parts give complex64 (complex128)."""
    return apply(POLAR, _parts(abs, angle), {})


def _angle(x):
    if x.dtype.is_complex:
        return imag(x).atan2(real(x))
    # real numbers: pi for the negative ones, 0 for the others, NaN stays NaN (as PyTorch)
    return (x < 0).to(x.dtype).mul(math.pi).where(x == x, x)


def _angle_backward(g, x):
    if not x.dtype.is_complex:
        return g.zeros_like()
    # d angle: (-y dx + x dy) / |z|^2, as one complex gradient i z / |z|^2; 0 at z = 0 (as PyTorch)
    squared = x.abs().square()
    safe = squared.where(squared != 0, 1.0)
    return (g * x * 1j / safe).where(squared != 0, 0.0)


ANGLE = register(
    OpSpec(
        "angle",
        "elementwise",
        ("x",),
        _parts_of,
        _angle_backward,
        _angle,
        explicit=True,
        accepts=INEXACT,
    )
)


@public(ANGLE, methods=True)
def angle(x):
    """The argument of each element in radians, in (-pi, pi]: of a real number 0 or pi.
    Integer and bool inputs give the default float dtype."""
    return apply(ANGLE, (x if x.dtype.is_floating_point else cast(x, dtypes.get_default_dtype()),), {})


def _sgn(x):
    if not x.dtype.is_complex:
        return x.sign()
    size = x.abs()
    return (x / size.where(size != 0, 1.0)).where(size != 0, 0.0)


SGN = register(OpSpec("sgn", "elementwise", ("x",), lambda x: (x.shape, x.dtype), decompose=_sgn))


@public(SGN, methods=True)
def sgn(x):
    """`z / |z|` for complex elements (0 at 0), `sign(x)` for real ones."""
    return apply(SGN, (x,), {})


# --- Tensor.view(dtype) ----------------------------------------------------------------------------
def _view_dtype_infer(x, dtype):
    old, new = x.dtype.itemsize, dtype.itemsize
    if old == new:
        return x.shape, dtype
    what = f"to view {x.dtype.name} as {dtype.name} (different element sizes)"
    if x.ndim == 0:
        raise RuntimeError(f"view: self.dim() cannot be 0 {what}")
    if x.numel() == 0:  # no elements: any layout views (PyTorch's size-0 tensors are contiguous)
        strides = (0,) * x.ndim
    else:
        strides = x.stride()
        if strides[-1] != 1:
            raise RuntimeError(f"view: self.stride(-1) must be 1 {what}, but got {strides[-1]}")
    if new > old:
        ratio = new // old
        if x.shape[-1] % ratio:
            raise RuntimeError(f"view: self.size(-1) must be divisible by {ratio} {what}, but got {x.shape[-1]}")
        for d, (size, stride) in enumerate(zip(x.shape[:-1], strides[:-1])):
            if size != 1 and stride % ratio:
                raise RuntimeError(f"view: self.stride({d}) must be divisible by {ratio} {what}, but got {stride}")
        return x.shape[:-1] + (x.shape[-1] // ratio,), dtype
    return x.shape[:-1] + (x.shape[-1] * (old // new),), dtype


# Not differentiable, as in PyTorch: the bits of one dtype say nothing smooth about another's.
VIEW_DTYPE = register(OpSpec("view_dtype", "movement", ("x",), _view_dtype_infer, view=True))


@public(VIEW_DTYPE, export=False)
def view_dtype(x: Tensor, dtype) -> Tensor:
    """`x`'s memory read as `dtype` (`x.view(sg.int32)`): the same shape for an equal element
    size, else the last dim scaled by the ratio of the sizes (it must have stride 1). Shares
    memory and version counter with `x`; the result requires no grad."""
    return apply(VIEW_DTYPE, (x.detach() if x.requires_grad else x,), {"dtype": dtype})
