"""The discrete Fourier transforms behind `somegrad.fft`.

Three primitives, as PyTorch's internal ones: `fft_c2c` (complex to complex, either direction),
`fft_r2c` (real to complex, forward; `onesided` keeps the n // 2 + 1 non-redundant outputs of
the last dim) and `fft_c2r` (a one-sided complex spectrum to a real signal, inverse). Each takes
its input already cut or zero-padded to the signal sizes (the public functions do that with
`narrow` and `pad`, whose gradients autograd knows) and a `normalization`, the scale applied
whatever the direction: "none", "sqrt" (1 / sqrt(n)) or "n" (1 / n), n the product of the
transformed sizes. The public functions (`fft`, `rfft`, `irfft`, `fftn`, ...) are PyTorch's
`torch.fft` and live in the `somegrad.fft` namespace, not at the top level.

The backward rules are PyTorch's: the adjoint of a transform is the opposite direction with
the same scale; `rfft`'s pads the one-sided gradient with zeros before it, and `irfft`'s
doubles the gradient of the entries that stand for two (1 .. n - n // 2 - 1).
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, ShapeError
from somegrad.ops.complex_numbers import COMPLEX, PARTS, conj, real
from somegrad.ops.creation import arange, full
from somegrad.ops.dispatch import apply
from somegrad.ops.movement import cat, narrow, pad
from somegrad.ops.operands import cast
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import OpSpec, public, register


def _check_dims(op, x, dim):
    for d in dim:
        if x.shape[d] < 1:
            raise ShapeError(f"{op}: invalid number of data points ({x.shape[d]}) specified along dim {d}")


def _c2c_infer(x, dim, normalization, forward):
    _check_dims("fft_c2c", x, dim)
    return x.shape, x.dtype


def _r2c_infer(x, dim, normalization, onesided):
    _check_dims("fft_r2c", x, dim)
    shape = list(x.shape)
    if onesided:
        shape[dim[-1]] = shape[dim[-1]] // 2 + 1
    return tuple(shape), dtypes.to_complex(x.dtype)


def _c2r_infer(x, dim, normalization, last_dim_size):
    if last_dim_size < 1:
        raise ShapeError(f"fft_c2r: invalid number of data points ({last_dim_size}) specified")
    if x.shape[dim[-1]] != last_dim_size // 2 + 1:
        raise ShapeError(
            f"fft_c2r: the last transformed dim has size {x.shape[dim[-1]]}, but a signal of "
            f"{last_dim_size} needs {last_dim_size // 2 + 1}"
        )
    _check_dims("fft_c2r", x, dim[:-1])
    shape = list(x.shape)
    shape[dim[-1]] = last_dim_size
    return tuple(shape), dtypes.to_real(x.dtype)


def _c2c_backward(g, dim, normalization, forward):
    return fft_c2c(g, dim, normalization, not forward)


def _r2c_backward(g, input_shape, dim, normalization, onesided):
    if onesided:
        # the outputs past n // 2 are the conjugates of those kept: their gradient is 0 here
        missing = input_shape[dim[-1]] - g.shape[dim[-1]]
        if missing > 0:
            g = pad(g, (0, 0) * (g.ndim - 1 - dim[-1]) + (0, missing))
    return real(fft_c2c(g, dim, normalization, False))


def _c2r_backward(g, dim, normalization):
    out = fft_r2c(g, dim, normalization, True)
    last, size = dim[-1], out.shape[dim[-1]]
    doubled = g.shape[last] - size
    if doubled > 0:
        parts = dtypes.to_real(out.dtype)
        weight = cat(
            [
                full((1,), 1.0, dtype=parts, device=g.device),
                full((doubled,), 2.0, dtype=parts, device=g.device),
                full((size - 1 - doubled,), 1.0, dtype=parts, device=g.device),
            ]
        )
        out = out * weight.reshape((size,) + (1,) * (g.ndim - 1 - last))
    return out


FFT_C2C = register(
    OpSpec("fft_c2c", "spectral", ("x",), _c2c_infer, _c2c_backward, accepts=COMPLEX, doc="A complex DFT.")
)
FFT_R2C = register(
    OpSpec("fft_r2c", "spectral", ("x",), _r2c_infer, _r2c_backward, accepts=PARTS, doc="A real signal's DFT.")
)
FFT_C2R = register(
    OpSpec(
        "fft_c2r",
        "spectral",
        ("x",),
        _c2r_infer,
        _c2r_backward,
        accepts=COMPLEX,
        doc="The real signal of a one-sided spectrum (an inverse DFT).",
    )
)


def fft_c2c(x, dim, normalization, forward):
    return apply(FFT_C2C, (x,), {"dim": dim, "normalization": normalization, "forward": forward})


def fft_r2c(x, dim, normalization, onesided):
    return apply(FFT_R2C, (x,), {"dim": dim, "normalization": normalization, "onesided": onesided})


def fft_c2r(x, dim, normalization, last_dim_size):
    return apply(FFT_C2R, (x,), {"dim": dim, "normalization": normalization, "last_dim_size": last_dim_size})


# --- the public transforms: argument handling as torch.fft's ---------------------------------
_SCALE = {  # norm -> (scale of the forward transform, scale of the inverse)
    None: ("none", "n"),
    "backward": ("none", "n"),
    "ortho": ("sqrt", "sqrt"),
    "forward": ("n", "none"),
}


def _normalization(op, norm, forward):
    if norm not in _SCALE:
        raise ArgumentError(f"{op}: invalid normalization mode {norm!r}; expected 'backward', 'ortho' or 'forward'")
    return _SCALE[norm][0 if forward else 1]


def _inexact(op, x, *, complex_input=False, real_input=False):
    """`x` promoted as torch.fft does: integers and bools to the default float dtype, and to
    its complex dtype where the transform takes complex input; complex refused for real input."""
    if x.dtype.is_complex:
        if real_input:
            raise DTypeError(f"{op}: expects a real input tensor, but got {x.dtype.name}")
        return x
    if not x.dtype.is_floating_point:
        x = cast(x, dtypes.get_default_dtype())
    if x.dtype not in PARTS:
        raise DTypeError(f"{op}: unsupported dtype {x.dtype.name}; expected float32, float64 or complex")
    return cast(x, dtypes.to_complex(x.dtype)) if complex_input else x


def _resize(x, dims, sizes):
    """`x` cut or zero-padded at the end of each of `dims` to `sizes` (PyTorch's n and s)."""
    for d, n in zip(dims, sizes):
        if n < x.shape[d]:
            x = narrow(x, d, 0, n)
        elif n > x.shape[d]:
            x = pad(x, (0, 0) * (x.ndim - 1 - d) + (0, n - x.shape[d]))
    return x


def _one_dim(op, x, n, dim):
    d = normalize_dim(op, dim, x.ndim)
    if x.ndim == 0:
        raise ShapeError(f"{op}: expected an input with at least 1 dimension, got a 0-d tensor")
    size = x.shape[d] if n is None else n
    if size < 1:
        raise ShapeError(f"{op}: invalid number of data points ({size}) specified")
    return (d,), (size,)


def _many_dims(op, x, s, dim, default_dims=None):
    """The transformed dims (in the order given) and their signal sizes, from PyTorch's `s` and `dim`."""
    if dim is None and default_dims is not None:
        dim = default_dims
    if dim is not None:
        dims = tuple(normalize_dim(op, d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim))
        if len(set(dims)) != len(dims):
            raise ArgumentError(f"{op}: FFT dims must be unique, got {tuple(dim)}")
        if s is not None and len(s) != len(dims):
            raise ArgumentError(
                f"{op}: when given, dim and shape arguments must have the same length, got {s} and {dim}"
            )
    elif s is not None:
        if len(s) > x.ndim:
            raise ArgumentError(f"{op}: got shape {tuple(s)} with {len(s)} values but the input has {x.ndim} dims")
        dims = tuple(range(x.ndim - len(s), x.ndim))
    else:
        dims = tuple(range(x.ndim))
    sizes = tuple(x.shape[d] if s is None or s[i] == -1 else int(s[i]) for i, d in enumerate(dims))
    for n in sizes:
        if n < 1:
            raise ShapeError(f"{op}: invalid number of data points ({n}) specified")
    return dims, sizes


def _c2c(op, x, dims, sizes, norm, forward):
    x = _inexact(op, x)
    if not dims:
        return x if x.dtype.is_complex else cast(x, dtypes.to_complex(x.dtype))
    x = _resize(x, dims, sizes)
    mode = _normalization(op, norm, forward)
    if not x.dtype.is_complex and forward:  # a real signal: one real-to-complex transform
        return fft_r2c(x, dims, mode, False)
    return fft_c2c(x if x.dtype.is_complex else cast(x, dtypes.to_complex(x.dtype)), dims, mode, forward)


def _r2c(op, x, dims, sizes, norm, forward):
    """rfft (forward) and ihfft (the conjugate of an inverse real transform)."""
    x = _resize(_inexact(op, x, real_input=True), dims, sizes)
    out = fft_r2c(x, dims, _normalization(op, norm, forward), True)
    return out if forward else conj(out)


def _c2r(op, x, dims, sizes, norm, forward):
    """irfft (inverse) and hfft (a forward transform of a Hermitian signal's half)."""
    x = _inexact(op, x, complex_input=True)
    last = sizes[-1]
    x = _resize(x, dims, sizes[:-1] + (last // 2 + 1,))
    return fft_c2r(x if not forward else conj(x), dims, _normalization(op, norm, forward), last)


def _c2r_sizes(op, x, s, dim, default_dims=None):
    dims, sizes = _many_dims(op, x, s, dim, default_dims)
    if s is None or s[-1] == -1:
        if not dims:
            raise ArgumentError(f"{op}: expected at least one dim to transform")
        sizes = sizes[:-1] + (2 * (x.shape[dims[-1]] - 1),)
        if sizes[-1] < 1:
            raise ShapeError(f"{op}: invalid number of data points ({sizes[-1]}) specified")
    return dims, sizes


@public(FFT_C2C, export=False)
def fft(input, n=None, dim=-1, norm=None):  # noqa: A002  (PyTorch's names)
    """The 1-d discrete Fourier transform along `dim`, of `n` points (the input cut or
    zero-padded to n); `norm` "backward" (no scale, the default), "ortho" or "forward" (1/n).
    Real input gives its complex dtype (float32 -> complex64)."""
    dims, sizes = _one_dim("fft", input, n, dim)
    return _c2c("fft", input, dims, sizes, norm, True)


def ifft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """The inverse of `fft` (scaled by 1/n under the default norm "backward")."""
    dims, sizes = _one_dim("ifft", input, n, dim)
    return _c2c("ifft", input, dims, sizes, norm, False)


@public(FFT_R2C, export=False)
def rfft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """The FFT of a real signal, its n // 2 + 1 non-negative frequencies: (..., n) -> (..., n // 2 + 1)."""
    dims, sizes = _one_dim("rfft", input, n, dim)
    return _r2c("rfft", input, dims, sizes, norm, True)


@public(FFT_C2R, export=False)
def irfft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """The real signal of `n` points (default 2 * (m - 1)) whose rfft is `input`: (..., m) -> (..., n)."""
    dims, sizes = _one_dim("irfft", input, n, dim)
    if n is None:
        sizes = (2 * (input.shape[dims[0]] - 1),)
        if sizes[0] < 1:
            raise ShapeError(f"irfft: invalid number of data points ({sizes[0]}) specified")
    return _c2r("irfft", input, dims, sizes, norm, False)


def hfft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """The FFT of a Hermitian signal given by its first half: (..., m) -> real (..., n), n = 2 * (m - 1) by default."""
    dims, sizes = _one_dim("hfft", input, n, dim)
    if n is None:
        sizes = (2 * (input.shape[dims[0]] - 1),)
        if sizes[0] < 1:
            raise ShapeError(f"hfft: invalid number of data points ({sizes[0]}) specified")
    return _c2r("hfft", input, dims, sizes, norm, True)


def ihfft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """The inverse of `hfft`: a real signal (..., n) -> its half spectrum (..., n // 2 + 1)."""
    dims, sizes = _one_dim("ihfft", input, n, dim)
    return _r2c("ihfft", input, dims, sizes, norm, False)


def fftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """The n-d FFT over `dim` (all dims by default, or the last len(s)), with signal sizes `s`."""
    dims, sizes = _many_dims("fftn", input, s, dim)
    return _c2c("fftn", input, dims, sizes, norm, True)


def ifftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """The inverse of `fftn`."""
    dims, sizes = _many_dims("ifftn", input, s, dim)
    return _c2c("ifftn", input, dims, sizes, norm, False)


def rfftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """The n-d FFT of a real signal; the last of `dim` keeps its n // 2 + 1 non-negative frequencies."""
    dims, sizes = _many_dims("rfftn", input, s, dim)
    if not dims:
        raise ArgumentError("rfftn: expected at least one dim to transform")
    return _r2c("rfftn", input, dims, sizes, norm, True)


def irfftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """The inverse of `rfftn`: the last of `dim` becomes s[-1] (default 2 * (m - 1)) real points."""
    dims, sizes = _c2r_sizes("irfftn", input, s, dim)
    return _c2r("irfftn", input, dims, sizes, norm, False)


def fft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """`fftn` over the last two dims."""
    dims, sizes = _many_dims("fft2", input, s, dim)
    return _c2c("fft2", input, dims, sizes, norm, True)


def ifft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """`ifftn` over the last two dims."""
    dims, sizes = _many_dims("ifft2", input, s, dim)
    return _c2c("ifft2", input, dims, sizes, norm, False)


def rfft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """`rfftn` over the last two dims."""
    dims, sizes = _many_dims("rfft2", input, s, dim)
    return _r2c("rfft2", input, dims, sizes, norm, True)


def irfft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """`irfftn` over the last two dims."""
    dims, sizes = _c2r_sizes("irfft2", input, s, dim)
    return _c2r("irfft2", input, dims, sizes, norm, False)


def hfftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """The n-d FFT of a Hermitian signal given by its half along the last of `dim`: real, that
    dim of s[-1] (default 2 * (m - 1)) points."""
    dims, sizes = _c2r_sizes("hfftn", input, s, dim)
    return _c2r("hfftn", input, dims, sizes, norm, True)


def ihfftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """The inverse of `hfftn`: a real signal to its half spectrum along the last of `dim`."""
    dims, sizes = _many_dims("ihfftn", input, s, dim)
    if not dims:
        raise ArgumentError("ihfftn: expected at least one dim to transform")
    return _r2c("ihfftn", input, dims, sizes, norm, False)


def hfft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """`hfftn` over the last two dims."""
    dims, sizes = _c2r_sizes("hfft2", input, s, dim)
    return _c2r("hfft2", input, dims, sizes, norm, True)


def ihfft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """`ihfftn` over the last two dims."""
    dims, sizes = _many_dims("ihfft2", input, s, dim)
    return _r2c("ihfft2", input, dims, sizes, norm, False)


# --- frequencies and shifts: compositions of arange, narrow and cat ----------------------------
def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False):
    """The sample frequencies of an `n`-point FFT with sample spacing `d`:
    [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n)."""
    k = arange(n, dtype=dtypes.int64, device=device)
    k = k - (k >= (n + 1) // 2).to(dtypes.int64) * n
    out = k.to(dtype or dtypes.get_default_dtype()) * (1.0 / (d * n))
    return out.requires_grad_(True) if requires_grad else out


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False):
    """The sample frequencies of `rfft` of `n` points: [0, 1, ..., n // 2] / (d * n)."""
    out = arange(n // 2 + 1, dtype=dtype or dtypes.get_default_dtype(), device=device) * (1.0 / (d * n))
    return out.requires_grad_(True) if requires_grad else out


def _roll(x, dims, shifts):
    for d, shift in zip(dims, shifts):
        size = x.shape[d]
        shift %= max(size, 1)
        if shift:
            x = cat([narrow(x, d, size - shift, shift), narrow(x, d, 0, size - shift)], dim=d)
    return x


def _shift_dims(op, x, dim):
    if dim is None:
        return tuple(range(x.ndim))
    return tuple(normalize_dim(op, d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim))


def fftshift(input, dim=None):  # noqa: A002
    """The zero frequency moved to the centre: each of `dim` (all by default) rolled by size // 2."""
    dims = _shift_dims("fftshift", input, dim)
    return _roll(input, dims, [input.shape[d] // 2 for d in dims])


def ifftshift(input, dim=None):  # noqa: A002
    """The inverse of `fftshift`: each of `dim` rolled back by size // 2."""
    dims = _shift_dims("ifftshift", input, dim)
    return _roll(input, dims, [-(input.shape[d] // 2) for d in dims])


__all__ = [
    "fft",
    "ifft",
    "rfft",
    "irfft",
    "hfft",
    "ihfft",
    "fft2",
    "ifft2",
    "rfft2",
    "irfft2",
    "fftn",
    "ifftn",
    "rfftn",
    "irfftn",
    "hfft2",
    "ihfft2",
    "hfftn",
    "ihfftn",
    "fftfreq",
    "rfftfreq",
    "fftshift",
    "ifftshift",
]
