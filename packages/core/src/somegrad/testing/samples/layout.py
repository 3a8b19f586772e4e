"""Samples for `somegrad.ops.layout` and `somegrad.ops.diagonals`: diagonal, diag_embed, diag, trace,
diagonal_scatter, fill_diagonal, tril/triu_indices, roll,
Tensor.unfold, repeat_interleave, movedim, rot90, t, select (the splits and joins are in
`somegrad.testing.samples.splits`)."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, register_samples, values

F32, F64 = dtypes.float32, dtypes.float64
SOME = (F32, F64, dtypes.float16, dtypes.bfloat16, dtypes.int64, dtypes.int32, dtypes.uint8, dtypes.bool_)


def data(shape, dtype, key=None):
    """Values of `shape` suited to `dtype` (small ints for integer dtypes, bools for bool)."""
    if dtype is dtypes.bool_:
        return values(shape, key=key) > 0
    if not dtype.is_floating_point:
        return values(shape, 0, 9, integer=True, key=key)
    return values(shape, key=key)


def one_input(op, cases, errors=(), kinds=SOME):
    """Register `cases`: (name, shape, params, reference) for a one-input op, the first in every
    dtype of `kinds`, each of 2 or more dims also transposed and stepped; `errors`: (name,
    shape, params, match) that raise RuntimeError."""

    @register_samples(op)
    def samples():
        for i, (name, shape, params, reference) in enumerate(cases):
            for dtype in kinds if i == 0 else (F64,):
                yield Sample((Input(data(shape, dtype, key=(op, name))),), params, reference, dtype, name=name)
            if len(shape) >= 2:
                for layout in ("transposed", "stepped"):
                    x = Input(values(shape, key=(op, name, layout)), layout=layout)
                    yield Sample((x,), params, reference, F64, name=f"{name}-{layout}")
        for name, shape, params, match in errors:
            yield ErrorSample((Input(values(shape)),), params, RuntimeError, match, name=name)
        yield from _extra(op)

    return samples


def _diagonal(x, offset, dim1, dim2):
    return np.diagonal(x, offset, dim1, dim2)


def _diag_embed(x, offset, dim1, dim2):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
    rows = np.arange(x.shape[-1]) + max(-offset, 0)
    out[..., rows, rows + offset] = x
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


one_input(
    "diagonal",
    [
        ("main", (3, 4), {"offset": 0, "dim1": 0, "dim2": 1}, _diagonal),
        ("above", (3, 4), {"offset": 1, "dim1": 0, "dim2": 1}, _diagonal),
        ("below", (4, 3), {"offset": -2, "dim1": 0, "dim2": 1}, _diagonal),
        ("past", (3, 4), {"offset": 5, "dim1": 0, "dim2": 1}, _diagonal),
        ("dims", (2, 3, 4), {"offset": 1, "dim1": 2, "dim2": 0}, _diagonal),
        ("batch", (2, 3, 3), {"offset": 0, "dim1": 1, "dim2": 2}, _diagonal),
        ("size0", (0, 3), {"offset": 0, "dim1": 0, "dim2": 1}, _diagonal),
    ],
)
one_input(
    "diag_embed",
    [
        ("main", (2, 3), {"offset": 0, "dim1": 1, "dim2": 2}, _diag_embed),
        ("above", (2, 3), {"offset": 1, "dim1": 1, "dim2": 2}, _diag_embed),
        ("below-dims", (2, 3), {"offset": -1, "dim1": 2, "dim2": 0}, _diag_embed),
        ("vector", (4,), {"offset": 0, "dim1": 0, "dim2": 1}, _diag_embed),
        ("empty", (0,), {"offset": 2, "dim1": 0, "dim2": 1}, _diag_embed),
    ],
)
one_input(
    "diag",
    [
        ("vector", (4,), {"offset": 0}, lambda x, offset: np.diag(x, offset)),
        ("vector-below", (3,), {"offset": -2}, lambda x, offset: np.diag(x, offset)),
        ("matrix", (3, 5), {"offset": 0}, lambda x, offset: np.diag(x, offset)),
        ("matrix-above", (3, 5), {"offset": 2}, lambda x, offset: np.diag(x, offset)),
    ],
    errors=[("3d", (2, 2, 2), {"offset": 0}, "diag(): Supports 1D or 2D tensors. Got 3D")],
)


def _diagonal_scatter(x, src, offset, dim1, dim2):
    out = np.array(x, copy=True)
    view = np.diagonal(out, offset, dim1, dim2)
    view.setflags(write=True)  # NumPy's diagonal is a read-only view of the same memory
    view[...] = src
    return out


@register_samples("diagonal_scatter")
def _diagonal_scatter_samples():
    cases = [
        ("main", (3, 4), (3,), {"offset": 0, "dim1": 0, "dim2": 1}),
        ("above", (3, 4), (3,), {"offset": 1, "dim1": 0, "dim2": 1}),
        ("below-dims", (2, 3, 4), (3, 2), {"offset": -1, "dim1": 2, "dim2": 0}),
        ("empty", (2, 3), (0,), {"offset": 4, "dim1": 0, "dim2": 1}),
    ]
    for i, (name, shape, src, params) in enumerate(cases):
        for dtype in SOME if i == 0 else (F64,):
            inputs = (Input(data(shape, dtype, key=(name, 0))), Input(data(src, dtype, key=(name, 1))))
            yield Sample(inputs, params, _diagonal_scatter, dtype, name=name)
    yield Sample(
        (Input(values((4, 3)), layout="transposed"), Input(values((3,)))),
        {"offset": 0, "dim1": 0, "dim2": 1},
        _diagonal_scatter,
        F64,
        name="transposed",
    )
    yield ErrorSample(
        (Input(values((3, 4))), Input(values((2,)))),
        {"offset": 1, "dim1": 0, "dim2": 1},
        RuntimeError,
        "diagonal_scatter: source has shape (2,)",
        name="src-shape",
    )


def _fill_diagonal(x, fill_value, wrap):
    out = np.array(x, copy=True)
    if out.ndim == 2 and wrap:
        np.fill_diagonal(out, fill_value, wrap=True)
    else:
        np.fill_diagonal(out, fill_value)
    return out


one_input(
    "fill_diagonal",
    [
        ("square", (3, 3), {"fill_value": 1, "wrap": False}, _fill_diagonal),
        ("wide", (3, 5), {"fill_value": -2.5, "wrap": False}, _fill_diagonal),
        ("tall", (7, 3), {"fill_value": 2.0, "wrap": False}, _fill_diagonal),
        ("tall-wrap", (7, 3), {"fill_value": 2.0, "wrap": True}, _fill_diagonal),
        ("cube", (3, 3, 3), {"fill_value": 4.0, "wrap": False}, _fill_diagonal),
        ("empty", (0, 3), {"fill_value": 4.0, "wrap": False}, _fill_diagonal),
    ],
    errors=[
        ("1d", (3,), {"fill_value": 1.0, "wrap": False}, "dimensions must larger than 1"),
        ("unequal", (3, 3, 2), {"fill_value": 1.0, "wrap": False}, "all dimensions of input must be of equal length"),
    ],
)


def _trace(x):
    return np.trace(x).astype(x.dtype if x.dtype.kind == "f" else np.int64)


@register_samples("trace")
def _trace_samples():
    for dtype in (F32, F64, dtypes.float16, dtypes.int64, dtypes.int32, dtypes.uint8):
        out = dtype if dtype.is_floating_point else dtypes.int64
        yield Sample((Input(data((4, 4), dtype, key="trace")),), {}, _trace, dtype, out, name="square")
    yield Sample((Input(values((2, 5))),), {}, _trace, F64, name="wide")
    yield Sample((Input(values((5, 2)), layout="transposed"),), {}, _trace, F64, name="transposed")
    yield Sample((Input(np.zeros((0, 3))),), {}, _trace, F64, name="size0")
    yield ErrorSample((Input(values((2, 2, 2))),), {}, RuntimeError, "trace: expected a matrix", name="3d")
    yield ErrorSample((Input(values((3,))),), {}, RuntimeError, "but got tensor with dim 1", name="1d")


def _triangle_indices(lower):
    def reference(row, col, offset, dtype):
        rows, cols = np.nonzero(
            np.tri(row, col, offset, dtype=bool) if lower else ~np.tri(row, col, offset - 1, dtype=bool)
        )
        return np.stack([rows, cols])

    return reference


for _op, _lower in (("tril_indices", True), ("triu_indices", False)):

    @register_samples(_op)
    def _indices_samples(_lower=_lower):
        reference = _triangle_indices(_lower)
        for name, row, col, offset in (("square", 4, 4, 0), ("wide", 3, 5, 1), ("tall", 5, 3, -1), ("past", 3, 3, 7)):
            params = {"row": row, "col": col, "offset": offset, "dtype": dtypes.int64}
            yield Sample((), params, reference, dtypes.int64, name=name)
        yield Sample(
            (), {"row": 3, "col": 4, "offset": 0, "dtype": dtypes.int32}, reference, dtypes.int32, name="int32"
        )
        yield Sample(
            (), {"row": 0, "col": 3, "offset": 0, "dtype": dtypes.int64}, reference, dtypes.int64, name="empty"
        )
        yield ErrorSample(
            (), {"row": -1, "col": 3, "offset": 0, "dtype": dtypes.int64}, RuntimeError, "row must be non-negative"
        )
        yield ErrorSample(
            (), {"row": 2, "col": 3, "offset": 0, "dtype": F32}, RuntimeError, "not implemented for float32"
        )


def _roll(x, shifts, dims):
    return np.roll(x, shifts, dims)


one_input(
    "roll",
    [
        ("dim1", (3, 5), {"shifts": (2,), "dims": (1,)}, _roll),
        ("negative", (3, 5), {"shifts": (-1,), "dims": (0,)}, _roll),
        ("flat", (3, 5), {"shifts": (4,), "dims": None}, lambda x, shifts, dims: np.roll(x, shifts[0])),
        ("two", (3, 4, 5), {"shifts": (1, -2), "dims": (0, 2)}, _roll),
        ("same-dim-twice", (2, 5), {"shifts": (1, 2), "dims": (1, 1)}, _roll),
        ("past", (2, 5), {"shifts": (13,), "dims": (1,)}, _roll),
        ("empty", (0, 3), {"shifts": (1,), "dims": (0,)}, _roll),
        ("0d", (), {"shifts": (3,), "dims": None}, lambda x, shifts, dims: x),
    ],
)


def _unfold(x, dimension, size, step):
    if x.ndim == 0:
        return x.reshape(1)[:size]
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dimension)
    return windows[(slice(None),) * dimension + (slice(None, None, step),)]


one_input(
    "unfold",
    [
        ("stride1", (7,), {"dimension": 0, "size": 3, "step": 1}, _unfold),
        ("step", (2, 8, 3), {"dimension": 1, "size": 2, "step": 3}, _unfold),
        ("patches", (2, 6), {"dimension": 1, "size": 2, "step": 2}, _unfold),
        ("overlap", (2, 9), {"dimension": 1, "size": 4, "step": 2}, _unfold),
        ("remainder", (7, 2), {"dimension": 0, "size": 2, "step": 3}, _unfold),
        ("size0", (3,), {"dimension": 0, "size": 0, "step": 1}, _unfold),
        ("0d", (), {"dimension": 0, "size": 1, "step": 1}, _unfold),
    ],
)


def _repeat_interleave(x, repeats, dim):
    return np.repeat(x, repeats, axis=dim)


one_input(
    "repeat_interleave",
    [
        ("int", (2, 3), {"repeats": 2, "dim": 0}, _repeat_interleave),
        ("dim1", (2, 3), {"repeats": 3, "dim": 1}, _repeat_interleave),
        ("counts", (3, 2), {"repeats": (1, 0, 2), "dim": 0}, _repeat_interleave),
        ("counts-dim1", (2, 3), {"repeats": (2, 2, 1), "dim": 1}, _repeat_interleave),
        ("zero", (2, 3), {"repeats": 0, "dim": 0}, _repeat_interleave),
    ],
)


def _movedim(x, source, destination):
    return np.moveaxis(x, source, destination)


one_input(
    "movedim",
    [
        ("one", (2, 3, 4), {"source": (0,), "destination": (2,)}, _movedim),
        ("back", (2, 3, 4), {"source": (2,), "destination": (0,)}, _movedim),
        ("two", (2, 3, 4), {"source": (0, 1), "destination": (2, 0)}, _movedim),
        ("0d", (), {"source": (), "destination": ()}, _movedim),
    ],
)


def _rot90(x, k, dims):
    return np.rot90(x, k, dims)


one_input(
    "rot90",
    [
        ("once", (2, 3), {"k": 1, "dims": (0, 1)}, _rot90),
        ("twice", (2, 3), {"k": 2, "dims": (0, 1)}, _rot90),
        ("back", (2, 3, 4), {"k": -1, "dims": (1, 2)}, _rot90),
        ("four", (2, 3), {"k": 4, "dims": (0, 1)}, _rot90),
        ("reversed-dims", (2, 3, 4), {"k": 3, "dims": (2, 0)}, _rot90),
    ],
)
one_input(
    "t",
    [
        ("matrix", (2, 3), {}, np.transpose),
        ("vector", (3,), {}, np.transpose),
        ("0d", (), {}, np.transpose),
    ],
    errors=[("3d", (2, 3, 4), {}, "t() expects a tensor with <= 2 dimensions, but self is 3D")],
)
one_input(
    "select",
    [
        ("middle", (2, 3, 4), {"dim": 1, "index": 2}, lambda x, dim, index: np.take(x, index, axis=dim)),
        ("first", (3, 2), {"dim": 0, "index": 0}, lambda x, dim, index: np.take(x, index, axis=dim)),
    ],
)


def _public_samples():
    """Samples through the public functions: negative dims, Python forms, default arguments."""
    from somegrad import ops

    yield (
        "diagonal",
        Sample(
            (Input(values((2, 3, 4))),),
            {},
            lambda x: np.diagonal(x, 0, -2, -1),
            F64,
            name="negative-dims",
            call=lambda t: ops.diagonal(t, dim1=-2, dim2=-1),
        ),
    )
    yield (
        "roll",
        Sample(
            (Input(values((3, 4))),),
            {},
            lambda x: np.roll(x, (1, 2), (-1, 0)),
            F64,
            name="public",
            call=lambda t: ops.roll(t, (1, 2), (-1, 0)),
        ),
    )
    yield (
        "movedim",
        Sample(
            (Input(values((2, 3, 4))),),
            {},
            lambda x: np.moveaxis(x, -1, 0),
            F64,
            name="negative",
            call=lambda t: ops.moveaxis(t, -1, 0),
        ),
    )
    yield (
        "repeat_interleave",
        Sample(
            (Input(values((2, 3))),),
            {},
            lambda x: np.repeat(x.reshape(-1), 2),
            F64,
            name="flattened",
            call=lambda t: ops.repeat_interleave(t, 2),
        ),
    )
    yield (
        "unfold",
        Sample(
            (Input(values((2, 5))),),
            {},
            lambda x: _unfold(x, 1, 2, 1),
            F64,
            name="negative-dim",
            call=lambda t: t.unfold(-1, 2, 1),
        ),
    )


def _errors():
    from somegrad import ops

    def error(op, shape, call, error_class, match, name):
        return op, ErrorSample((Input(values(shape)),), {}, error_class, match, name=name, call=call)

    yield error(
        "diagonal", (2, 3), lambda t: ops.diagonal(t, 0, 1, -1), RuntimeError, "cannot be identical", "same-dims"
    )
    yield error(
        "diag_embed", (3,), lambda t: ops.diag_embed(t, 0, 1, 1), RuntimeError, "cannot be identical", "same-dims"
    )
    yield error(
        "roll", (2, 3), lambda t: ops.roll(t, (1, 2), 0), RuntimeError, "shifts and dimensions must align", "align"
    )
    yield error(
        "unfold",
        (2, 3),
        lambda t: t.unfold(1, 4, 1),
        RuntimeError,
        "maximum size for tensor at dimension 1 is 3",
        "size",
    )
    yield error("unfold", (2, 3), lambda t: t.unfold(1, 2, 0), RuntimeError, "step is 0 but must be > 0", "step")
    yield error(
        "repeat_interleave",
        (3,),
        lambda t: ops.repeat_interleave(t, -1),
        RuntimeError,
        "must be non-negative",
        "negative",
    )
    yield error(
        "repeat_interleave",
        (3,),
        lambda t: ops.repeat_interleave(t, ops.tensor([1, 1])),
        RuntimeError,
        "repeats must have the same size as input along dim",
        "sizes",
    )
    yield error(
        "movedim", (2, 3, 4), lambda t: ops.movedim(t, (0, 0), (1, 2)), RuntimeError, "repeated dim", "repeated"
    )
    yield error(
        "rot90", (2, 3), lambda t: ops.rot90(t, 1, (0, 0)), RuntimeError, "rotation dims to be different", "same"
    )
    yield error("select", (2, 3), lambda t: ops.select(t, 0, 2), IndexError, "index 2 out of range", "range")


_EXTRA: dict = {}


def _extra(op):
    """The samples and errors of `op` through its public function (yielded after the generated ones)."""
    if not _EXTRA:
        for name, sample in (*_public_samples(), *_errors()):
            _EXTRA.setdefault(name, []).append(sample)
    return _EXTRA.get(op, [])


from somegrad.testing.samples import splits  # noqa: E402, F401  (the splits and joins of the same family)
