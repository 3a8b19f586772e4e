"""Samples for the slice writes of `somegrad.ops.scatter`: index_add, index_copy, index_fill,
index_reduce (a slice per index along a dim; the references loop over NumPy's `ufunc.at`), and
take and put (flat indices)."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    ALL,
    FLOATS,
    INTEGERS,
    ErrorSample,
    Input,
    Sample,
    distinct,
    register_samples,
    values,
)
from somegrad.testing.samples.scatter import _scatter_reduce_reference

F32, F64, I64, BOOL = dtypes.float32, dtypes.float64, dtypes.int64, dtypes.bool_


def _sg():
    import somegrad

    return somegrad


def _data(shape, dtype, key=None):
    if dtype is BOOL:
        return values(shape, key=key) > 0
    if not dtype.is_floating_point:
        return values(shape, 1, 5, integer=True, key=key)
    return values(shape, key=key)


def _index_add_reference(x, index, source, dim, alpha):
    out = np.moveaxis(x.copy(), dim, 0)
    np.add.at(out, index.reshape(-1), alpha * np.moveaxis(source, dim, 0))
    return np.moveaxis(out, 0, dim)


@register_samples("index_add")
def _index_add_samples():
    x = values((4, 3), key="index_add")
    rows = np.array([2, 0, 2])
    for dim, source in ((0, values((3, 3), key="rows")), (1, values((4, 3), key="cols"))):
        for alpha in (1, -2.5):
            yield Sample(
                (Input(x), Input(rows, I64), Input(source)),
                {"dim": dim, "alpha": alpha},
                _index_add_reference,
                F64,
                name=f"dim{dim}-alpha{alpha}",
            )
    for dtype in (*FLOATS, *INTEGERS):
        yield Sample(
            (Input(_data((4, 3), dtype)), Input(rows, I64), Input(_data((3, 3), dtype, key="src"))),
            {"dim": 0, "alpha": 1},
            _index_add_reference,
            dtype,
            name="dtype",
        )
    yield Sample(
        (Input(x), Input(np.zeros(0), I64), Input(np.zeros((0, 3)))),
        {"dim": 0, "alpha": 1},
        _index_add_reference,
        F64,
        name="no-index",
    )
    yield Sample(
        (Input(values((4, 3)), layout="transposed"), Input(rows, I64), Input(values((3, 3)), layout="stepped")),
        {"dim": 0, "alpha": 1},
        _index_add_reference,
        F64,
        name="non-contiguous",
    )
    yield Sample(
        (Input(x), Input(np.array([1, 1]), dtypes.int32), Input(values((4, 2), key="neg"))),
        {},
        lambda x, i, s: _index_add_reference(x, i, s, 1, 2),
        F64,
        name="int32-negative-dim",
        call=lambda t, i, s: t.index_add(-1, i, s, alpha=2),
    )
    yield Sample(
        (Input(np.array(1.0)), Input(np.array([0]), I64), Input(np.array(2.5))),
        {},
        lambda x, i, s: x + s,
        F64,
        name="0d",
        call=lambda t, i, s: _sg().index_add(t, 0, i, s),
    )
    bad = (Input(x), Input(rows, I64), Input(values((2, 3))))
    yield ErrorSample(
        bad, {}, RuntimeError, "number of indices", name="count", call=lambda t, i, s: t.index_add(0, i, s)
    )
    yield ErrorSample(
        (Input(x), Input(np.array([4]), I64), Input(values((1, 3)))),
        {},
        RuntimeError,
        "out of bounds",
        name="out-of-range",
        call=lambda t, i, s: t.index_add(0, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([0.0]), F32), Input(values((1, 3)))),
        {},
        RuntimeError,
        "expected dtype int32/int64 for index",
        name="float-index",
        call=lambda t, i, s: t.index_add(0, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([0]), I64), Input(values((1, 3)), F32)),
        {},
        RuntimeError,
        "must have the same dtype",
        dtype=F64,
        name="dtype-mismatch",
        call=lambda t, i, s: t.index_add(0, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([0]), I64), Input(values((1, 2)))),
        {},
        RuntimeError,
        "source tensor shape must match",
        name="bad-shape",
        call=lambda t, i, s: t.index_add(0, i, s),
    )


@register_samples("index_reduce")
def _index_reduce_samples():
    def ref(x, index, source, dim, reduce, include_self):
        # the scatter_reduce of whole slices: the index repeated along every other dim
        shape = [1] * x.ndim
        shape[dim] = -1
        spread = np.broadcast_to(index.reshape(shape), source.shape)
        return _scatter_reduce_reference(x, spread, source, dim, reduce, include_self)

    x = distinct((4, 3), key="index_reduce", spacing=0.3)
    rows = np.array([2, 0, 2])
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            yield Sample(
                (Input(x), Input(rows, I64), Input(distinct((3, 3), key=reduce, spacing=0.3) + 0.1)),
                {"dim": 0, "reduce": reduce, "include_self": include_self},
                ref,
                F64,
                name=f"{reduce}-self{include_self}",
            )
        yield Sample(
            (Input(x), Input(np.array([1, 1]), dtypes.int32), Input(distinct((4, 2), key=reduce) + 0.1)),
            {},
            lambda x, i, s, r=reduce: ref(x, i, s, 1, r, True),
            F64,
            name=f"{reduce}-dim1-int32",
            call=lambda t, i, s, r=reduce: t.index_reduce(-1, i, s, r),
        )
    for dtype in (*FLOATS, *INTEGERS):
        data = [
            _data(shape, dtype, key) if dtype.is_floating_point else values(shape, 1, 3, integer=True, key=key)
            for shape, key in (((4, 3), None), ((3, 3), "src"))
        ]
        yield Sample(
            (Input(data[0]), Input(rows, I64), Input(data[1])),
            {"dim": 0, "reduce": "mean", "include_self": True},
            ref,
            dtype,
            name="dtype",
            rtol=2e-2 if dtype in (dtypes.float16, dtypes.bfloat16) else None,
        )
    yield Sample(
        (Input(np.array(2.0)), Input(np.array([0]), I64), Input(np.array(3.0))),
        {},
        lambda x, i, s: np.maximum(x, s),
        F64,
        name="0d",
        call=lambda t, i, s: t.index_reduce(0, i, s, "amax"),
    )
    yield ErrorSample(
        (Input(x), Input(rows, I64), Input(values((3, 3)))),
        {},
        RuntimeError,
        "expected reduce to be one of prod, mean, amax or amin",
        name="sum",
        call=lambda t, i, s: t.index_reduce(0, i, s, "sum"),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([4]), I64), Input(values((1, 3)))),
        {},
        IndexError,
        "index out of range",
        name="out-of-range",
        call=lambda t, i, s: t.index_reduce(0, i, s, "prod"),
    )


def _index_copy_reference(x, index, source, dim):
    out = np.moveaxis(x.copy(), dim, 0)
    out[index.reshape(-1)] = np.moveaxis(source, dim, 0)
    return np.moveaxis(out, 0, dim)


@register_samples("index_copy")
def _index_copy_samples():
    x = values((4, 3), key="index_copy")
    rows = np.array([3, 0])
    for dim, index, source in (
        (0, rows, values((2, 3), key="rows")),
        (1, np.array([2, 0]), values((4, 2), key="cols")),
    ):
        yield Sample((Input(x), Input(index, I64), Input(source)), {"dim": dim}, _index_copy_reference, F64)
    for dtype in ALL:
        yield Sample(
            (Input(_data((4, 3), dtype)), Input(rows, I64), Input(_data((2, 3), dtype, key="src"))),
            {"dim": 0},
            _index_copy_reference,
            dtype,
            name="dtype",
        )
    yield Sample(
        (Input(values((4, 3)), layout="transposed"), Input(rows, I64), Input(values((2, 3)), layout="stepped")),
        {"dim": 0},
        _index_copy_reference,
        F64,
        name="non-contiguous",
    )
    yield Sample(
        (Input(x), Input(np.zeros(0), I64), Input(np.zeros((4, 0)))),
        {"dim": 1},
        _index_copy_reference,
        F64,
        name="no-index",
    )
    yield Sample(
        (Input(np.array(1.0)), Input(np.array([0]), I64), Input(np.array(2.5))),
        {},
        lambda x, i, s: s,
        F64,
        name="0d",
        call=lambda t, i, s: t.index_copy(0, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(rows, dtypes.int32), Input(values((2, 3)))),
        {},
        RuntimeError,
        "expected dtype int64 for index",
        name="int32-index",
        call=lambda t, i, s: t.index_copy(0, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([4]), I64), Input(values((1, 3)))),
        {},
        IndexError,
        "out of bounds",
        name="out-of-range",
        call=lambda t, i, s: t.index_copy(0, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(rows, I64), Input(values((3, 3)))),
        {},
        IndexError,
        "number of indices",
        name="count",
        call=lambda t, i, s: t.index_copy(0, i, s),
    )


def _index_fill_reference(x, index, value, dim):
    out = np.moveaxis(x.copy(), dim, 0)
    out[index.reshape(-1)] = value
    return np.moveaxis(out, 0, dim)


@register_samples("index_fill")
def _index_fill_samples():
    x = values((3, 4), key="index_fill")
    cols = np.array([3, 1, 3])
    for dim in (0, 1):
        yield Sample(
            (Input(x), Input(cols % 3 if dim == 0 else cols, I64), Input(np.array(-1.5))),
            {"dim": dim},
            _index_fill_reference,
            F64,
            name=f"dim{dim}",
        )
    for dtype in ALL:
        yield Sample(
            (Input(_data((3, 4), dtype)), Input(cols, I64), Input(_data((), dtype, key="value"))),
            {"dim": 1},
            _index_fill_reference,
            dtype,
            name="dtype",
        )
    yield Sample(
        (Input(x), Input(np.array([-1, 0]), I64)),
        {},
        lambda x, i: _index_fill_reference(x, i % 4, 7.0, 1),
        F64,
        name="negative-index-number",
        call=lambda t, i: t.index_fill(-1, i, 7.0),
    )
    yield Sample(
        (Input(x), Input(np.array(2), I64)),
        {},
        lambda x, i: _index_fill_reference(x, i, 0.25, 0),
        F64,
        name="0d-index",
        call=lambda t, i: t.index_fill(0, i, 0.25),
    )
    yield Sample(
        (Input(x), Input(np.zeros(0), I64), Input(np.array(1.0))),
        {"dim": 1},
        _index_fill_reference,
        F64,
        name="no-index",
    )
    yield Sample(
        (Input(values((3, 4)), layout="transposed"), Input(cols, I64), Input(np.array(2.0))),
        {"dim": 1},
        _index_fill_reference,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(np.array(1.0)), Input(np.array([0]), I64)),
        {},
        lambda x, i: np.array(5.0),
        F64,
        name="0d",
        call=lambda t, i: t.index_fill(0, i, 5.0),
    )
    yield ErrorSample(
        (Input(x), Input(cols, dtypes.int32)),
        {},
        IndexError,
        "expected dtype int64 for index",
        name="int32-index",
        call=lambda t, i: t.index_fill(1, i, 1.0),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([-5]), I64)),
        {},
        IndexError,
        "out of bounds",
        name="out-of-range",
        call=lambda t, i: t.index_fill(1, i, 1.0),
    )
    yield ErrorSample(
        (Input(x), Input(cols, I64), Input(np.array([1.0]))),
        {},
        RuntimeError,
        "0-dimensional value tensor",
        name="1d-value",
        call=lambda t, i, v: t.index_fill(1, i, v),
    )


@register_samples("take")
def _take_samples():
    def ref(x, index):
        return x.reshape(-1)[index]

    index = np.array([[0, 11], [5, 5]])
    for dtype in ALL:
        yield Sample((Input(_data((3, 4), dtype)), Input(index, I64)), {}, ref, dtype, name="dtype")
    yield Sample((Input(values((3, 4)), layout="transposed"), Input(index, I64)), {}, ref, F64, name="transposed")
    yield Sample((Input(values((3, 4))), Input(np.zeros(0), I64)), {}, ref, F64, name="size0")
    yield Sample((Input(np.array(2.5)), Input(np.array(0), I64)), {}, ref, F64, name="0d")
    yield Sample(
        (Input(values((3, 4))), Input(np.array([-1, 0, -12]), I64)),
        {},
        ref,
        F64,
        name="negative",
        call=lambda t, i: t.take(i),
    )
    yield ErrorSample(
        (Input(values((3, 4))), Input(np.array([12]), I64)),
        {},
        IndexError,
        "out of range",
        name="out-of-range",
        call=lambda t, i: _sg().take(t, i),
    )
    yield ErrorSample(
        (Input(values((3, 4))), Input(np.array([1]), dtypes.int32)),
        {},
        RuntimeError,
        "expected a long tensor",
        name="int32",
        call=lambda t, i: _sg().take(t, i),
    )


@register_samples("put")
def _put_samples():
    def ref(x, index, source, accumulate):
        out = x.copy().reshape(-1)
        if accumulate:
            np.add.at(out, index.reshape(-1), source.reshape(-1))
        else:
            out[index.reshape(-1)] = source.reshape(-1)
        return out.reshape(x.shape)

    x = values((3, 4), key="put")
    for accumulate, index in ((False, np.array([[0, 11], [5, 7]])), (True, np.array([[0, 11], [5, 5]]))):
        yield Sample(
            (Input(x), Input(index, I64), Input(values((2, 2), key="src"))),
            {"accumulate": accumulate},
            ref,
            F64,
            name=f"acc{accumulate}",
        )
    for dtype in ALL:
        yield Sample(
            (Input(_data((3, 4), dtype)), Input(np.array([3, 1]), I64), Input(_data((2,), dtype, key="src"))),
            {"accumulate": False},
            ref,
            dtype,
            name="dtype",
        )
    yield Sample(
        (Input(values((3, 4)), layout="transposed"), Input(np.array([2, 9]), I64), Input(values((2,)))),
        {"accumulate": True},
        ref,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(x), Input(np.array([-1, 0]), I64), Input(values((2,), key="neg"))),
        {},
        lambda x, i, s: ref(x, i % 12, s, False),
        F64,
        name="negative",
        call=lambda t, i, s: t.put(i, s),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([0, 1]), I64), Input(values((1,)))),
        {},
        IndexError,
        "same number of elements",
        name="count",
        call=lambda t, i, s: t.put(i, s),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([12]), I64), Input(values((1,)))),
        {},
        IndexError,
        "out of range",
        name="out-of-range",
        call=lambda t, i, s: t.put(i, s),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([1]), I64), Input(values((1,)), F32)),
        {},
        RuntimeError,
        "the same dtype",
        dtype=F64,
        name="dtype-mismatch",
        call=lambda t, i, s: t.put(i, s),
    )
