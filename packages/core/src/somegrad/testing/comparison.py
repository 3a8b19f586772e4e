"""`assert_close`: like `torch.testing.assert_close`, with tolerances that depend on the dtype."""

from __future__ import annotations

import numpy as np

__all__ = ["assert_close", "default_tolerance"]

# (rtol, atol) by dtype name: PyTorch's defaults for torch.testing.assert_close.
_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


def default_tolerance(dtype) -> tuple[float, float]:
    """`(rtol, atol)` for a somegrad dtype or NumPy dtype (0, 0 for integers and bool)."""
    name = getattr(dtype, "name", str(dtype))
    return _TOLERANCES.get(name, (0.0, 0.0))


def _unpack(value):
    """(host array, somegrad dtype or None, device or None) of a Tensor, array or number."""
    from somegrad.tensor import Tensor

    if isinstance(value, Tensor):
        return np.asarray(value.detach().numpy()), value.dtype, value.device
    return np.asarray(value), None, None


def assert_close(
    actual,
    expected,
    *,
    rtol=None,
    atol=None,
    equal_nan=False,
    check_dtype=True,
    check_device=True,
    msg=None,
) -> None:
    """Raise AssertionError unless `actual` and `expected` are close elementwise:
    `|actual - expected| <= atol + rtol * |expected|`, with matching shape (and, for two
    Tensors, dtype and device). Tensors, NumPy arrays and Python numbers are accepted.

    Default tolerances depend on the dtype (float16 1e-3/1e-5, bfloat16 1.6e-2/1e-5,
    float32 1.3e-6/1e-5, float64 1e-7/1e-7, exact for integers and bool), as in PyTorch;
    pass both `rtol` and `atol` to override. Infinities must match exactly; NaNs are equal
    only with `equal_nan=True`.
    """
    a, a_dtype, a_device = _unpack(actual)
    e, e_dtype, e_device = _unpack(expected)
    prefix = f"{msg}: " if msg else ""
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: pass both rtol and atol, or neither")
    if a.shape != e.shape:
        raise AssertionError(f"{prefix}the shapes differ: {a.shape} (actual) and {e.shape} (expected)")
    if check_dtype and a_dtype is not None and e_dtype is not None and a_dtype is not e_dtype:
        raise AssertionError(f"{prefix}the dtypes differ: {a_dtype.name} (actual) and {e_dtype.name} (expected)")
    if check_device and a_device is not None and e_device is not None and a_device != e_device:
        raise AssertionError(f"{prefix}the devices differ: {a_device} (actual) and {e_device} (expected)")
    if rtol is None:
        dtype = a_dtype or e_dtype or a.dtype
        rtol, atol = default_tolerance(dtype)
        if dtype is a.dtype and a.dtype.kind == "f" and a.dtype.name not in _TOLERANCES:
            rtol, atol = default_tolerance("float64")
    exact = a.dtype.kind in "biu" and e.dtype.kind in "biu"
    if exact:
        mismatched = a != e
    else:
        a64, e64 = a.astype(np.float64), e.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            difference = np.abs(a64 - e64)
            close = difference <= atol + rtol * np.abs(e64)
        # inf == inf counts as close; an inf against a finite value or the other inf does not.
        same_inf = np.isinf(a64) & (a64 == e64)
        both_nan = np.isnan(a64) & np.isnan(e64) if equal_nan else np.zeros(a64.shape, bool)
        mismatched = ~(close | same_inf | both_nan)
    if not np.any(mismatched):
        return
    count, total = int(np.count_nonzero(mismatched)), mismatched.size
    lines = [f"{prefix}tensors are not close: {count} of {total} elements differ ({100 * count / total:.1f}%)"]
    if not exact:
        diff = np.where(mismatched, np.nan_to_num(difference, nan=np.inf), 0)
        worst = np.unravel_index(int(np.argmax(diff)), a.shape) if a.ndim else ()
        lines.append(
            f"greatest absolute difference: {diff[worst]} at index {tuple(int(i) for i in worst)} "
            f"({a64[worst]} vs {e64[worst]}), allowed {atol} + {rtol} * |expected|"
        )
    else:
        first = tuple(int(i) for i in np.argwhere(mismatched)[0])
        lines.append(f"first mismatch at index {first}: {a[first]} vs {e[first]}")
    raise AssertionError("\n".join(lines))
