"""Samples for `somegrad.ops.scatter`: scatter and scatter_reduce here; index_add, index_copy,
index_fill and index_reduce in `scatter_index`; masked_select, masked_scatter and take_along_dim
in `masked`; index_put's in `indexing`.

The references are NumPy's `ufunc.at` and plain loops over the index, the obvious
specification. Indices of the samples whose gradients are checked have no repeats where the
op's result would then depend on which write wins (scatter, index_copy), and amax/amin have
no ties but in samples of their own."""

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


def _grid(index, dim):
    """The full index tuple that `index` along `dim` means (the other dims their positions)."""
    grid = list(np.ogrid[tuple(slice(0, s) for s in index.shape)])
    grid[dim] = index
    return tuple(grid)


def _within(src, index):
    return src[tuple(slice(0, s) for s in index.shape)]


def _scatter_reference(x, index, src, dim):
    out = x.copy()
    out[_grid(index, dim)] = _within(src, index)
    return out


_IDENTITY = {"sum": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}
_UFUNC = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _scatter_reduce_reference(x, index, src, dim, reduce, include_self):
    kind = x.dtype
    out = x.astype(np.float64)
    grid, src = _grid(index, dim), _within(src, index).astype(np.float64)
    count = np.ones_like(out) if include_self else np.zeros_like(out)
    if not include_self:
        out[grid] = _IDENTITY.get(reduce, 0)
    np.add.at(count, grid, 1)
    if reduce == "mean":
        np.add.at(out, grid, src)
        out = np.where(count > 0, out / np.maximum(count, 1), out)
        if kind.kind in "iub":
            out = np.floor(out)
    else:
        _UFUNC[reduce].at(out, grid, src)
    if kind.kind == "b":
        return out != 0
    return out.astype(kind) if kind.kind in "iu" else out


# one index per row position, no repeats along dim: the written elements are well defined
_UNIQUE = np.array([[0, 3], [2, 1], [3, 0]])
_REPEATS = np.array([[0, 3, 0], [1, 1, 1], [3, 0, 3]])


@register_samples("scatter")
def _scatter_samples():
    x = values((3, 4), key="scatter")
    src = values((3, 3), key="scatter-src")
    yield Sample((Input(x), Input(_UNIQUE, I64), Input(src)), {"dim": 1}, _scatter_reference, F64, name="dim1")
    yield Sample(
        (Input(x), Input(np.array([[2, 0, 1, 2]]), I64), Input(values((2, 4)))),
        {"dim": 0},
        _scatter_reference,
        F64,
        name="dim0-larger-src",
    )
    for dtype in ALL:
        yield Sample(
            (Input(_data((3, 4), dtype)), Input(_UNIQUE, I64), Input(_data((3, 2), dtype, key="src"))),
            {"dim": 1},
            _scatter_reference,
            dtype,
            name="dtype",
        )
    yield Sample(
        (Input(x), Input(np.zeros((3, 0)), I64), Input(src)), {"dim": 1}, _scatter_reference, F64, name="size0"
    )
    yield Sample(
        (Input(values((3, 4)), layout="transposed"), Input(_UNIQUE, I64), Input(src, layout="stepped")),
        {"dim": 1},
        _scatter_reference,
        F64,
        name="non-contiguous",
    )
    # through the public function: a number, a negative dim, a 0-d tensor, the deprecated reduce
    yield Sample(
        (Input(x), Input(_UNIQUE, I64)),
        {},
        lambda x, i: _scatter_reference(x, i, np.full(i.shape, 1.5), 1),
        F64,
        name="value",
        call=lambda t, i: t.scatter(-1, i, 1.5),
    )
    yield Sample(
        (Input(np.array(1.0)), Input(np.array(0), I64), Input(np.array(2.5))),
        {},
        lambda x, i, s: s,
        F64,
        name="0d",
        call=lambda t, i, s: _sg().scatter(t, 0, i, s),
    )
    for reduce, name in (("add", "sum"), ("multiply", "prod")):
        yield Sample(
            (Input(x), Input(_REPEATS, I64), Input(src)),
            {},
            lambda x, i, s, r=name: _scatter_reduce_reference(x, i, s, 1, r, True),
            F64,
            name=f"reduce-{reduce}",
            call=lambda t, i, s, r=reduce: t.scatter(1, i, s, reduce=r),
        )
    yield ErrorSample(
        (Input(x), Input(np.zeros((4, 2)), I64), Input(src)),
        {"dim": 1},
        RuntimeError,
        "to be no larger than self",
        name="bad-shape",
    )
    yield ErrorSample(
        (Input(x), Input(np.array([0, 1]), I64), Input(src)),
        {"dim": 1},
        RuntimeError,
        "same number of dimensions",
        name="bad-rank",
    )
    yield ErrorSample(
        (Input(x), Input(np.array([[4]]), I64), Input(src)),
        {},
        IndexError,
        "out of bounds",
        name="out-of-range",
        call=lambda t, i, s: t.scatter(1, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(_UNIQUE, I64), Input(src, F32)),
        {},
        RuntimeError,
        "self.dtype to be equal to src.dtype",
        dtype=F64,
        name="dtype-mismatch",
        call=lambda t, i, s: t.scatter(1, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(_UNIQUE.astype(np.float64), F32), Input(src)),
        {},
        RuntimeError,
        "index must be an integer tensor",
        name="float-index",
        call=lambda t, i, s: t.scatter(1, i, s),
    )
    yield ErrorSample(
        (Input(x), Input(_UNIQUE, I64), Input(src)),
        {},
        RuntimeError,
        "reduce argument must be either add or multiply",
        name="bad-reduce",
        call=lambda t, i, s: t.scatter(1, i, s, reduce="sum"),
    )


@register_samples("scatter_reduce")
def _scatter_reduce_samples():
    x = distinct((3, 4), key="scatter_reduce", spacing=0.3)
    src = distinct((3, 3), key="scatter_reduce-src", spacing=0.3) + 0.1
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            params = {"dim": 1, "reduce": reduce, "include_self": include_self}
            yield Sample(
                (Input(x), Input(_REPEATS, I64), Input(src)),
                params,
                _scatter_reduce_reference,
                F64,
                name=f"{reduce}-self{include_self}",
            )
        yield Sample(
            (Input(x), Input(np.array([[2, 0, 2, 1]]), I64), Input(values((2, 4), key=reduce))),
            {"dim": 0, "reduce": reduce, "include_self": True},
            _scatter_reduce_reference,
            F64,
            name=f"{reduce}-dim0-larger-src",
        )
        for dtype in (*FLOATS, *INTEGERS, BOOL):
            if dtype is BOOL and reduce == "mean":
                continue
            # small integers, so that products of four stay in range of int8
            data = [
                _data(shape, dtype, key) if dtype.is_floating_point else values(shape, 1, 2, integer=True, key=key)
                for shape, key in (((3, 4), None), ((3, 3), "src"))
            ]
            yield Sample(
                (Input(data[0]), Input(_REPEATS, I64), Input(data[1])),
                {"dim": 1, "reduce": reduce, "include_self": True},
                _scatter_reduce_reference,
                dtype,
                name=f"{reduce}-dtype",
                rtol=2e-2 if dtype in (dtypes.float16, dtypes.bfloat16) else None,
            )
    # ties: the gradient of amax/amin is shared evenly among the elements equal to the result
    ties_x = np.array([[1.0, 2.0, 0.5, 0.0], [3.0, 1.0, 1.0, 2.0]])
    ties_src = np.array([[2.0, 2.0, 1.0], [3.0, 0.0, 4.0]])
    ties_index = np.array([[1, 1, 2], [0, 1, 1]])
    for reduce in ("amax", "amin"):
        yield Sample(
            (Input(ties_x), Input(ties_index, I64), Input(ties_src)),
            {"dim": 1, "reduce": reduce, "include_self": True},
            _scatter_reduce_reference,
            F64,
            name=f"{reduce}-ties",
            grad=False,  # no derivative at a tie: PyTorch's even split is checked in the parity tests
        )
    # zeros: prod's gradient without dividing by them
    zeros_x = np.array([[0.0, 2.0, 1.5, -1.0], [1.0, 0.0, 2.0, 0.5]])
    zeros_src = np.array([[0.0, 1.5, 2.0], [0.5, -2.0, 0.0]])
    for include_self in (True, False):
        yield Sample(
            (Input(zeros_x), Input(np.array([[0, 1, 1], [1, 3, 2]]), I64), Input(zeros_src)),
            {"dim": 1, "reduce": "prod", "include_self": include_self},
            _scatter_reduce_reference,
            F64,
            name=f"prod-zeros-self{include_self}",
        )
    yield Sample(
        (Input(x), Input(np.zeros((3, 0)), I64), Input(src)),
        {"dim": 1, "reduce": "amax", "include_self": False},
        _scatter_reduce_reference,
        F64,
        name="size0",
    )
    yield Sample(
        (Input(values((3, 4)), layout="transposed"), Input(_REPEATS, I64), Input(values((3, 3)), layout="stepped")),
        {"dim": 1, "reduce": "sum", "include_self": True},
        _scatter_reduce_reference,
        F64,
        name="non-contiguous",
    )
    long_index = values((2, 40), 0, 5, integer=True, key="long")  # runs long enough for several log-steps
    yield Sample(
        (Input(values((2, 6), key="long-x")), Input(long_index, I64), Input(values((2, 40), 0.8, 1.2, key="long-src"))),
        {"dim": 1, "reduce": "prod", "include_self": False},
        _scatter_reduce_reference,
        F64,
        name="long-runs",
    )
    yield Sample(
        (Input(np.array(1.0)), Input(np.array(0), I64), Input(np.array(2.5))),
        {},
        lambda x, i, s: np.maximum(x, s),
        F64,
        name="0d",
        call=lambda t, i, s: t.scatter_reduce(0, i, s, "amax"),
    )
    yield Sample(
        (Input(x), Input(_REPEATS, I64), Input(src)),
        {},
        lambda x, i, s: _scatter_reduce_reference(x, i, s, 1, "mean", False),
        F64,
        name="negative-dim",
        call=lambda t, i, s: t.scatter_reduce(-1, i, s, "mean", include_self=False),
    )
    yield ErrorSample(
        (Input(x), Input(_REPEATS, I64), Input(src)),
        {},
        RuntimeError,
        "reduce argument must be either sum, prod, mean, amax or amin",
        name="bad-reduce",
        call=lambda t, i, s: t.scatter_reduce(1, i, s, "add"),
    )
    yield ErrorSample(
        (Input(x), Input(np.zeros((3, 5)), I64), Input(src)),
        {"dim": 1, "reduce": "sum", "include_self": True},
        RuntimeError,
        "no larger size than src",
        name="bad-shape",
    )


# the slice writes (index_*) and the mask ops have modules of their own
from somegrad.testing.samples import masked, scatter_index  # noqa: E402, F401
