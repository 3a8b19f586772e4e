"""Array API kernels for the discrete Fourier transforms (somegrad.fft), over the standard's
`xp.fft`, and (from `array_api_complex`) for the complex numbers they need; merged into the
shared table by `array_api_kernels`.

The three transforms take their inputs already cut or padded to the signal sizes, and a
`normalization`, the scale applied whatever the direction: "none", "sqrt" (1/sqrt(n)) or "n"
(1/n), as PyTorch's internal `_fft_c2c`, `_fft_r2c` and `_fft_c2r` do; the standard's `norm`
names the scale by direction, so each kernel translates.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.backends import array_api_complex

# the kernels whose float16/bfloat16 inputs a backend should compute in float32, and those
# whose results can be inf or NaN from finite inputs (the numpy backend silences its warnings)
FLOAT_MATH: frozenset[str] = frozenset()
QUIET: frozenset[str] = frozenset()

# the standard's `norm` that applies a scale in the forward direction, and in the inverse one
_FORWARD_NORM = {"none": "backward", "sqrt": "ortho", "n": "forward"}
_INVERSE_NORM = {"none": "forward", "sqrt": "ortho", "n": "backward"}


def _dtype_of(array) -> dtypes.DType:
    return dtypes.from_name(str(getattr(array.dtype, "name", array.dtype)).rsplit(".", 1)[-1])


def kernels(xp, native) -> dict:
    """{op name: kernel} over the Array API namespace `xp`."""

    def fft_c2c(x, dim, normalization, forward):
        transform = xp.fft.fftn if forward else xp.fft.ifftn
        norm = (_FORWARD_NORM if forward else _INVERSE_NORM)[normalization]
        return xp.astype(transform(x, axes=dim, norm=norm), x.dtype, copy=False)

    def fft_r2c(x, dim, normalization, onesided):
        target = native(dtypes.to_complex(_dtype_of(x)))
        if onesided:
            out = xp.fft.rfftn(x, axes=dim, norm=_FORWARD_NORM[normalization])
        else:
            out = xp.fft.fftn(xp.astype(x, target), axes=dim, norm=_FORWARD_NORM[normalization])
        return xp.astype(out, target, copy=False)

    def fft_c2r(x, dim, normalization, last_dim_size):
        target = native(dtypes.to_real(_dtype_of(x)))
        sizes = [x.shape[d] for d in dim[:-1]] + [last_dim_size]
        out = xp.fft.irfftn(x, s=sizes, axes=dim, norm=_INVERSE_NORM[normalization])
        return xp.astype(out, target, copy=False)

    return {
        **array_api_complex.kernels(xp, native),
        "fft_c2c": fft_c2c,
        "fft_r2c": fft_r2c,
        "fft_c2r": fft_c2r,
    }
