"""Samples for `somegrad.ops.scans`: cumprod, cummax and cummin (values and indices), their
index scans, and logcumsumexp.

cummax/cummin go through the public function, which returns two tensors: each sample picks
one. Gradients are checked on distinct values (no tie makes the selection ambiguous); ties,
NaN and every dtype get samples of their own for the indices (the last of ties, as PyTorch)."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    FLOATS,
    INTEGERS,
    ErrorSample,
    Input,
    Sample,
    distinct,
    register_samples,
    values,
)

F32, F64, I64 = dtypes.float32, dtypes.float64, dtypes.int64
_TIES = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [2.0, 0.0, 0.0, 2.0, 0.0], [-1.0, np.nan, 2.0, np.nan, 5.0]])


def _sg():
    import somegrad

    return somegrad


def _moved(fn):
    """A reference over the last axis, applied along `dim`."""

    def reference(x, dim, **params):
        return np.moveaxis(fn(np.moveaxis(x, dim, -1), **params), -1, dim)

    return reference


def _cumulative_index(x, largest):
    """The index of the running extremum: a Python scan, the obvious specification."""
    out = np.zeros(x.shape, dtype=np.int64)
    for row in np.ndindex(x.shape[:-1]):
        best, at = None, 0
        for j, v in enumerate(x[row]):
            if best is None or np.isnan(v) or (not np.isnan(best) and (v >= best if largest else v <= best)):
                best, at = v, j
            out[row + (j,)] = at
        # (a NaN stays the best: nothing but another NaN takes its place, as in PyTorch)
    return out


def _cummax_values(x, largest):
    index = _cumulative_index(x, largest)
    return np.take_along_axis(x, index, axis=-1)


@register_samples("cumprod")
def _cumprod_samples():
    ref = _moved(lambda x: np.cumprod(x, axis=-1))
    x = values((3, 5), 0.5, 1.5, key="cumprod") * np.sign(values((3, 5), key="sign"))
    for dim in (0, 1, -1):
        yield Sample((Input(x),), {"dim": dim % 2}, ref, F64, name=f"dim{dim}", call=lambda t, d=dim: t.cumprod(d))
    # zeros: PyTorch's gradient divides only where it may; one zero, two, and a zero at the start
    for name, data in (
        ("one-zero", [[2.0, 0.0, 3.0, 4.0, 5.0], [1.5, -0.5, 0.0, 2.0, 1.0]]),
        ("two-zeros", [[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 0.0, 1.5, 2.0, -1.0]]),
        ("zero-first", [[0.0, 2.0, 3.0, -1.0, 0.5], [1.0, 1.5, 2.0, 0.5, 0.0]]),
    ):
        yield Sample((Input(np.array(data)),), {"dim": 1}, ref, F64, name=name)
    for dtype in FLOATS:
        yield Sample((Input(x),), {"dim": 1}, ref, dtype, name="dtype")
    for dtype in (*INTEGERS, dtypes.bool_):
        data = values((3, 4), 0, 3, integer=True, key="cumprod-int")
        yield Sample(
            (Input(data if dtype is not dtypes.bool_ else data > 0),),
            {},
            lambda x: np.cumprod(x.astype(np.int64), axis=1),
            dtype,
            I64,
            name="integer",
            call=lambda t: t.cumprod(1),
        )
    yield Sample((Input(np.array(1.5)),), {}, lambda x: x, F64, name="0d", call=lambda t: _sg().cumprod(t, 0))
    yield Sample((Input(np.zeros((0, 3))),), {"dim": 0}, ref, F64, name="size0")
    yield Sample((Input(x.T.copy(), layout="transposed"),), {"dim": 0}, ref, F64, name="transposed")
    yield Sample((Input(x, layout="stepped"),), {"dim": 1}, ref, F64, name="stepped")
    yield Sample(
        (Input(np.array([[1, 2, 3]])),),
        {},
        lambda x: np.cumprod(x, axis=1).astype(np.float32),
        dtypes.int64,
        F32,
        name="dtype-arg",
        call=lambda t: _sg().cumprod(t, 1, dtype=_sg().float32),
    )
    yield ErrorSample((Input(x),), {}, IndexError, "out of range", name="bad-dim", call=lambda t: t.cumprod(2))


def _extremum_samples(op, largest):
    def pick(output, dim):
        return lambda t: getattr(_sg(), op)(t, dim)[output]

    def reference(output):
        def ref(x, dim):
            moved = np.moveaxis(x, dim, -1)
            out = _cumulative_index(moved, largest) if output else _cummax_values(moved, largest)
            return np.moveaxis(out, -1, dim)

        return ref

    x = distinct((3, 5), key=op)
    for dim in (0, 1, -2):
        for output, out_dtype in ((0, F64), (1, I64)):
            yield Sample(
                (Input(x),),
                {},
                lambda x, d=dim, o=output: reference(o)(x, d % 2),
                F64,
                out_dtype,
                name=f"dim{dim}-out{output}",
                call=pick(output, dim),
            )
    for output, out_dtype in ((0, F64), (1, I64)):
        yield Sample(
            (Input(_TIES),),
            {},
            lambda x, o=output: reference(o)(x, 1),
            F64,
            out_dtype,
            name=f"ties-nan-out{output}",
            call=pick(output, 1),
            grad=False,
        )
    for dtype in FLOATS:
        yield Sample((Input(x),), {}, lambda x: reference(0)(x, 1), dtype, name="dtype", call=pick(0, 1))
    for dtype in (*INTEGERS, dtypes.bool_):
        data = values((3, 5), 0, 4, integer=True, key=op)
        data = data > 2 if dtype is dtypes.bool_ else data
        for output in (0, 1):
            yield Sample(
                (Input(data),),
                {},
                lambda x, o=output: reference(o)(x.astype(np.int64), 1).astype(x.dtype if o == 0 else np.int64),
                dtype,
                dtype if output == 0 else I64,
                name=f"integer-out{output}",
                call=pick(output, 1),
            )
    yield Sample((Input(np.array(2.5)),), {}, lambda x: x, F64, name="0d", call=pick(0, 0))
    yield Sample(
        (Input(np.array(2.5)),),
        {},
        lambda x: np.array(0),
        F64,
        I64,
        name="0d-index",
        call=pick(1, 0),
    )
    yield Sample(
        (Input(np.zeros((0, 3))),),
        {},
        lambda x: np.zeros((0, 3)),
        F64,
        name="size0",
        call=pick(0, 1),
    )
    yield Sample(
        (Input(x.T.copy(), layout="transposed"),),
        {},
        lambda x: reference(0)(x, 0),
        F64,
        name="transposed",
        call=pick(0, 0),
    )
    yield ErrorSample((Input(x),), {}, IndexError, "out of range", name="bad-dim", call=pick(0, 3))


@register_samples("cummax")
def _cummax_samples():
    yield from _extremum_samples("cummax", True)


@register_samples("cummin")
def _cummin_samples():
    yield from _extremum_samples("cummin", False)


def _index_scan_samples(largest):
    ref = _moved(lambda x: _cumulative_index(x, largest))
    for dtype in (*FLOATS, *INTEGERS):
        data = _TIES if dtype.is_floating_point else values((3, 5), 0, 4, integer=True, key="index-scan")
        yield Sample((Input(data),), {"dim": 1}, ref, dtype, I64, name="ties")
    yield Sample((Input(_TIES.T.copy()),), {"dim": 0}, ref, F64, I64, name="dim0")
    yield Sample(
        (Input(values((3, 4), key="bool") > 0),),
        {"dim": 1},
        lambda x, dim: _moved(lambda v: _cumulative_index(v.astype(np.int64), largest))(x, dim),
        dtypes.bool_,
        I64,
        name="bool",
    )
    yield Sample((Input(np.zeros((2, 0))),), {"dim": 1}, ref, F64, I64, name="size0")
    long = values((2, 37), -3, 3, integer=True, key="long").astype(np.float64)  # several log-steps
    yield Sample((Input(long),), {"dim": 1}, ref, F64, I64, name="long")


@register_samples("cummax_indices")
def _cummax_indices_samples():
    yield from _index_scan_samples(True)


@register_samples("cummin_indices")
def _cummin_indices_samples():
    yield from _index_scan_samples(False)


def _logcumsumexp_reference(x, dim):
    moved = np.moveaxis(x, dim, -1)
    out = np.logaddexp.accumulate(moved, axis=-1) if moved.shape[-1] else moved
    return np.moveaxis(out, -1, dim)


@register_samples("logcumsumexp")
def _logcumsumexp_samples():
    x = values((3, 6), -3, 3, key="logcumsumexp")
    for dim in (0, 1):
        yield Sample((Input(x),), {"dim": dim}, _logcumsumexp_reference, F64, name=f"dim{dim}")
    yield Sample(
        (Input(x),),
        {},
        lambda x: _logcumsumexp_reference(x, 1),
        F64,
        name="negative-dim",
        call=lambda t: t.logcumsumexp(-1),
    )
    # no overflow for large values, no underflow of the early terms far below the later ones
    wide = np.array([[-1000.0, 0.0, 1.0, 800.0], [700.0, 710.0, -5.0, 720.0]])
    yield Sample((Input(wide),), {"dim": 1}, _logcumsumexp_reference, F64, name="wide")
    yield Sample(
        (Input(np.array([[-np.inf, -np.inf, 0.0, -np.inf]])),),
        {"dim": 1},
        _logcumsumexp_reference,
        F64,
        name="neg-inf",
        grad=False,
    )
    for dtype in FLOATS:
        yield Sample((Input(x),), {"dim": 1}, _logcumsumexp_reference, dtype, name="dtype")
    yield Sample((Input(np.array(0.5)),), {}, lambda x: x, F64, name="0d", call=lambda t: t.logcumsumexp(0))
    yield Sample((Input(np.zeros((0, 2))),), {"dim": 0}, _logcumsumexp_reference, F64, name="size0")
    yield Sample((Input(x.T.copy(), layout="transposed"),), {"dim": 0}, _logcumsumexp_reference, F64, name="transposed")
    yield Sample((Input(values((2, 19), key="long")),), {"dim": 1}, _logcumsumexp_reference, F64, name="long")
    yield ErrorSample(
        (Input(np.array([1, 2])),),
        {},
        NotImplementedError,
        "not implemented for int64",
        dtype=I64,
        name="integer",
        call=lambda t: t.logcumsumexp(0),
    )
    yield ErrorSample((Input(x),), {}, IndexError, "out of range", name="bad-dim", call=lambda t: t.logcumsumexp(2))
