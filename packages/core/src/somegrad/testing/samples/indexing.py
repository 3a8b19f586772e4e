"""Samples for indexing: getitem and index_put with kernel keys, gather, scatter_add, nonzero.

Kernel keys (see `somegrad.ops.indexing`) hold ints, slices with non-negative bounds, None,
and int64 index arrays, written here as `IndexArray`s.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    ALL,
    ErrorSample,
    IndexArray,
    Input,
    Sample,
    register_samples,
    values,
)

F32, F64 = dtypes.float32, dtypes.float64


def host_key(key):
    """A kernel key with its IndexArrays as NumPy arrays, for the reference."""
    return tuple(k.value if isinstance(k, IndexArray) else k for k in key)


def _data(shape, dtype, key=None):
    if dtype is dtypes.bool_:
        return values(shape, key=key) > 0
    if not dtype.is_floating_point:
        return values(shape, 0, 9, integer=True, key=key)
    return values(shape, key=key)


_KEYS = (
    ("int", (1,)),
    ("slice", (slice(0, 3, 2), slice(1, 4, 1))),
    ("newaxis", (None, slice(0, 2, 1), 2)),
    ("index-array", (slice(None), IndexArray([2, 0, 2]))),
    ("two-arrays", (IndexArray([[0, 1], [2, 0]]), IndexArray([1, 3]))),
    ("empty-array", (IndexArray(np.zeros(0, np.int64)),)),
    ("empty-slice", (slice(2, 2, 1),)),
)


@register_samples("getitem")
def _getitem_samples():
    def ref(x, key):
        return x[host_key(key)]

    x = values((3, 4), key="getitem")
    for name, key in _KEYS:
        yield Sample((Input(x),), {"key": key}, ref, F64, name=name)
    for dtype in ALL:
        yield Sample(
            (Input(_data((3, 4), dtype)),),
            {"key": (slice(None), IndexArray([3, 1]))},
            ref,
            dtype,
            name="dtype",
        )
    yield Sample((Input(values(())),), {"key": ()}, ref, F64, name="0d")
    yield Sample(
        (Input(values((4, 3)), layout="transposed"),),
        {"key": (slice(1, 3, 1),)},
        ref,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(values((2, 3)), layout="stepped"),),
        {"key": (slice(None), IndexArray([0, 2]))},
        ref,
        F64,
        name="stepped",
    )
    # Through Tensor.__getitem__: negative indices and steps are normalised to a kernel key.
    yield Sample((Input(x),), {}, lambda x: x[:, -1], F64, name="negative-int", call=lambda t: t[:, -1])
    yield Sample(
        (Input(x),),
        {},
        lambda x: x[-2:, ::2],
        F64,
        name="negative-slice",
        call=lambda t: t[-2:, ::2],
    )
    yield Sample(
        (Input(x),),
        {},
        lambda x: x[..., [0, -1]],
        F64,
        name="ellipsis-list",
        call=lambda t: t[..., [0, -1]],
    )
    yield ErrorSample(
        (Input(x),),
        {},
        IndexError,
        "out of bounds",
        name="out-of-bounds",
        call=lambda t: t[:, [0, 4]],
    )


@register_samples("index_put")
def _index_put_samples():
    def ref(x, v, key, accumulate):
        out = x.copy()
        if accumulate:
            np.add.at(out, host_key(key), v)
        else:
            out[host_key(key)] = v
        return out

    x = values((3, 4), key="index_put")
    for accumulate in (False, True):
        yield Sample(
            (Input(x), Input(values((2, 4)))),
            {"key": (IndexArray([2, 0]),), "accumulate": accumulate},
            ref,
            F64,
            name=f"rows-acc{accumulate}",
        )
        yield Sample(
            (Input(x), Input(values((4,)))),
            {"key": (slice(0, 2, 1),), "accumulate": accumulate},
            ref,
            F64,
            name=f"bcast-acc{accumulate}",
        )
        yield Sample(
            (Input(x), Input(values(()))),
            {"key": (1, 2), "accumulate": accumulate},
            ref,
            F64,
            name=f"element-acc{accumulate}",
        )
        yield Sample(
            (Input(x), Input(values((0, 4)))),
            {"key": (IndexArray(np.zeros(0, np.int64)),), "accumulate": accumulate},
            ref,
            F64,
            name=f"empty-acc{accumulate}",
        )
    # Repeated indices add up when accumulating.
    yield Sample(
        (Input(x), Input(values((3, 4)))),
        {"key": (IndexArray([0, 2, 0]),), "accumulate": True},
        ref,
        F64,
        name="repeated",
    )
    yield Sample(
        (Input(x), Input(values((3,)))),
        {"key": (slice(None), IndexArray([1, 1, 3])), "accumulate": True},
        ref,
        F64,
        name="repeated-cols",
    )
    for dtype in ALL:
        yield Sample(
            (Input(_data((3, 4), dtype)), Input(_data((2,), dtype))),
            {"key": (1, IndexArray([0, 3])), "accumulate": False},
            ref,
            dtype,
            name="dtype",
        )
    yield Sample(
        (Input(values((4, 3)), layout="transposed"), Input(values((3,)), layout="contiguous")),
        {"key": (0,), "accumulate": True},
        ref,
        F64,
        name="transposed",
    )
    yield ErrorSample(
        (Input(x), Input(values((3,)))),
        {"key": (slice(0, 2, 1),), "accumulate": False},
        ValueError,
        "cannot be broadcast to indexing result of shape (2, 4)",
        name="bad-values",
    )
    # PyTorch's form: a tuple of index tensors (int64, int32 or bool), values broadcast to the result
    yield from _index_put_public_samples(x, ref)


def _index_put_public_samples(x, ref):
    import somegrad as sg

    rows = np.array([2, 0, 2])
    for accumulate, cols in ((False, np.array([1, 3, 0])), (True, np.array([1, 3, 1]))):  # repeats only add up
        yield Sample(
            (Input(x), Input(rows, dtypes.int64), Input(cols, dtypes.int32), Input(values((3,), key="v"))),
            {},
            lambda x, r, c, v, a=accumulate: ref(x, v, (r, c), a) if a else _put_last(x, (r, c), v),
            F64,
            name=f"public-acc{accumulate}",
            call=lambda t, r, c, v, a=accumulate: sg.index_put(t, (r, c), v, accumulate=a),
        )
    mask = values((3, 4), key="index_put-mask") > 0
    yield Sample(
        (Input(x), Input(mask, dtypes.bool_), Input(np.array(0.5))),
        {},
        lambda x, m, v: np.where(m, v, x),
        F64,
        name="public-mask",
        call=lambda t, m, v: t.index_put((m,), v),
    )
    yield Sample(
        (Input(x), Input(np.array([1]), dtypes.int64), Input(values((4,), key="row"))),
        {},
        lambda x, r, v: _put_last(x, (r,), v),
        F64,
        name="public-broadcast",
        call=lambda t, r, v: t.index_put([r], v),
    )
    yield ErrorSample(
        (Input(x), Input(rows, dtypes.int64), Input(values((3,)), F32)),
        {},
        RuntimeError,
        "dtypes match",
        dtype=F64,
        name="public-dtype-mismatch",
        call=lambda t, r, v: t.index_put((r,), v),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([3]), dtypes.int64), Input(values(()))),
        {},
        IndexError,
        "out of bounds",
        name="public-out-of-range",
        call=lambda t, r, v: t.index_put((r,), v),
    )
    yield ErrorSample(
        (Input(x), Input(rows, dtypes.int64), Input(values(()))),
        {},
        TypeError,
        "tuple of Tensors",
        name="public-not-a-tuple",
        call=lambda t, r, v: t.index_put(r, v),
    )


def _put_last(x, key, v):
    out = x.copy()
    out[key] = v
    return out


@register_samples("gather")
def _gather_samples():
    def ref(x, index, dim):
        x = x[tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(index.shape))]
        return np.take_along_axis(x, index, axis=dim)

    x = values((3, 4), key="gather")
    index = np.array([[0, 3], [1, 1], [3, 0]])
    for dtype in ALL:
        yield Sample(
            (Input(_data((3, 4), dtype)), Input(index, dtypes.int64)),
            {"dim": 1},
            ref,
            dtype,
            name="dim1",
        )
    yield Sample((Input(x), Input(np.array([[2, 0, 0, 1]]), dtypes.int64)), {"dim": 0}, ref, F64, name="dim0")
    yield Sample(
        (Input(x), Input(np.array([[1], [0]]), dtypes.int64)),
        {"dim": 1},
        ref,
        F64,
        name="smaller-index",
    )
    yield Sample((Input(x), Input(np.zeros((3, 0)), dtypes.int64)), {"dim": 1}, ref, F64, name="size0")
    yield Sample(
        (Input(values((3, 4)), layout="transposed"), Input(index, dtypes.int64)),
        {"dim": 1},
        ref,
        F64,
        name="transposed",
    )
    yield ErrorSample(
        (Input(x), Input(np.array([0, 1]), dtypes.int64)),
        {"dim": 1},
        ValueError,
        "index must have as many dimensions",
        name="bad-rank",
    )
    yield ErrorSample(
        (Input(x), Input(np.zeros((4, 1)), dtypes.int64)),
        {"dim": 1},
        ValueError,
        "is larger than input shape",
        name="bad-shape",
    )


@register_samples("scatter_add")
def _scatter_add_samples():
    def ref(x, index, src, dim):
        out = x.copy()
        grid = list(np.ogrid[tuple(slice(0, s) for s in index.shape)])
        grid[dim] = index
        np.add.at(out, tuple(grid), src[tuple(slice(0, s) for s in index.shape)])
        return out

    x = values((3, 4), key="scatter_add")
    index = np.array([[0, 3, 0], [1, 1, 2], [3, 0, 3]])
    for dtype in ALL:
        if dtype is dtypes.bool_:
            continue
        yield Sample(
            (Input(_data((3, 4), dtype)), Input(index, dtypes.int64), Input(_data((3, 3), dtype))),
            {"dim": 1},
            ref,
            dtype,
            name="dim1",
        )
    yield Sample(
        (Input(x), Input(np.array([[2, 0, 2, 1]]), dtypes.int64), Input(values((2, 4)))),
        {"dim": 0},
        ref,
        F64,
        name="dim0-larger-src",
    )
    yield Sample(
        (Input(x), Input(np.zeros((3, 0)), dtypes.int64), Input(values((3, 2)))),
        {"dim": 1},
        ref,
        F64,
        name="size0",
    )
    yield Sample(
        (
            Input(values((3, 4)), layout="transposed"),
            Input(index, dtypes.int64),
            Input(values((3, 3)), layout="stepped"),
        ),
        {"dim": 1},
        ref,
        F64,
        name="non-contiguous",
    )
    yield ErrorSample(
        (Input(x), Input(np.zeros((3, 5)), dtypes.int64), Input(values((3, 2)))),
        {"dim": 1},
        ValueError,
        "does not fit",
        name="bad-shape",
    )
    yield ErrorSample(
        (Input(x), Input(index, dtypes.int64), Input(values((3, 3)), F32)),
        {},
        RuntimeError,
        "self.dtype to be equal to src.dtype",
        dtype=F64,
        name="dtype-mismatch",
        call=lambda t, i, s: t.scatter_add(1, i, s),
    )


@register_samples("nonzero")
def _nonzero_samples():
    def ref(x):
        return np.argwhere(x)

    mixed = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]])
    for dtype in ALL:
        data = mixed != 0 if dtype is dtypes.bool_ else np.abs(mixed) if dtype is dtypes.uint8 else mixed
        yield Sample((Input(data),), {}, ref, dtype, dtypes.int64, name="2d")
    yield Sample((Input(np.zeros((2, 3))),), {}, ref, F64, dtypes.int64, name="none")
    yield Sample((Input(np.array([0.0, -0.0, np.nan, np.inf])),), {}, ref, F32, dtypes.int64, name="special")
    yield Sample((Input(np.zeros((0, 3))),), {}, ref, F64, dtypes.int64, name="size0")
    yield Sample((Input(mixed.T.copy(), layout="transposed"),), {}, ref, F64, dtypes.int64, name="transposed")


@register_samples("index_select")
def _index_select_samples():
    def ref(x, index, dim):
        return x if x.ndim == 0 else np.take(x, index.reshape(-1), axis=dim)

    index = np.array([2, 0, 2])
    for dtype in ALL:
        yield Sample((Input(_data((3, 4), dtype)), Input(index, dtypes.int64)), {"dim": 1}, ref, dtype, name="dim1")
    x = values((3, 4), key="index_select")
    yield Sample((Input(x), Input(np.array([1]), dtypes.int64)), {"dim": 0}, ref, F64, name="dim0")
    yield Sample((Input(x), Input(np.zeros(0), dtypes.int64)), {"dim": 1}, ref, F64, name="no-index")
    yield Sample((Input(np.array(2.5)), Input(np.array(0), dtypes.int64)), {"dim": 0}, ref, F64, name="0d")
    yield Sample(
        (Input(values((4, 3)), layout="transposed"), Input(index, dtypes.int64)),
        {"dim": 0},
        ref,
        F64,
        name="transposed",
    )


@register_samples("masked_fill")
def _masked_fill_samples():
    def ref(x, mask, value):
        return np.where(mask, value, x)

    mask = values((3, 4), key="masked_fill-mask") > 0
    for dtype in ALL:
        yield Sample(
            (Input(_data((3, 4), dtype)), Input(mask, dtypes.bool_), Input(_data((), dtype, key="value"))),
            {},
            ref,
            dtype,
            name="3x4",
        )
    x = values((3, 4), key="masked_fill")
    row = np.array([True, False, False, True])
    yield Sample((Input(x), Input(row, dtypes.bool_), Input(np.array(-1.5))), {}, ref, F64, name="bcast-mask")
    yield Sample((Input(x[0]), Input(mask, dtypes.bool_), Input(np.array(7.0))), {}, ref, F64, name="bcast-both")
    yield Sample(
        (Input(values((3, 4)), layout="transposed"), Input(mask, dtypes.bool_), Input(np.array(0.0))),
        {},
        ref,
        F64,
        name="transposed",
    )
    yield ErrorSample(
        (Input(x), Input(np.ones((3,), dtype=bool), dtypes.bool_), Input(np.array(0.0))),
        {},
        RuntimeError,
        "cannot be broadcast",
        name="bad-mask",
    )
