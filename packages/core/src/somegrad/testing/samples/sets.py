"""Samples for `somegrad.ops.sets`: unique, unique_consecutive, searchsorted, bucketize, bincount,
histc, count_nonzero, isin, isreal, kthvalue, msort; and for `somegrad.ops.joins`: tile, ravel,
fliplr, flipud, broadcast_tensors, cartesian_prod, combinations, block_diag, diagflat.

Ops with several outputs are checked one output at a time, through the public function (`call`)."""

from __future__ import annotations

import itertools

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, distinct, register_samples, values
from somegrad.testing.samples.layout import SOME, data

F32, F64, I64, I32, U8, BOOL = dtypes.float32, dtypes.float64, dtypes.int64, dtypes.int32, dtypes.uint8, dtypes.bool_
ORDERED = (F32, F64, dtypes.float16, I64, I32, U8)


def _sg():
    import somegrad

    return somegrad


def _repeats(shape, dtype, key):
    """Values with repeats (small integers, as floats for a floating dtype)."""
    if dtype is BOOL:
        return values(shape, key=key) > 0
    return values(shape, 0, 4, integer=True, key=key)


# --- unique, unique_consecutive ------------------------------------------------------------------
def _np_unique(x, dim, inverse, counts):
    out = np.unique(x, return_inverse=True, return_counts=True, axis=dim)
    values_, inv, cnt = out
    pieces = [values_]
    if inverse:
        pieces.append(inv.reshape(x.shape) if dim is None else inv.reshape(-1))
    if counts:
        pieces.append(cnt)
    return pieces


def _np_consecutive(x, dim, inverse, counts):
    if dim is None:
        flat = x.reshape(-1)
        starts = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else np.zeros(0, bool)
        values_ = flat[starts]
    else:
        moved = np.moveaxis(x, dim, 0).reshape(x.shape[dim], -1)
        starts = np.concatenate([[True], (moved[1:] != moved[:-1]).any(axis=1)])
        values_ = np.moveaxis(np.moveaxis(x, dim, 0)[starts], 0, dim)
    group = np.cumsum(starts) - 1
    where = np.flatnonzero(starts)
    pieces = [values_]
    if inverse:
        pieces.append(group.reshape(x.shape) if dim is None else group)
    if counts:
        pieces.append(np.diff(np.append(where, starts.size)))
    return pieces


def _unique_samples(op, reference):
    @register_samples(op)
    def samples():
        fn = getattr(_sg(), op)
        cases = [("flat", (3, 4), None), ("dim0", (5, 3), 0), ("dim1", (2, 6), 1), ("dim-neg", (2, 5, 2), -2)]
        for i, (name, shape, dim) in enumerate(cases):
            kinds = (*ORDERED, BOOL) if i == 0 else (F64, I64)
            for dtype in kinds:
                x = np.repeat(_repeats(shape, dtype, (op, name)), 2, axis=0) if dim is not None else None
                x = _repeats(shape, dtype, (op, name)) if x is None else x
                # rows made to repeat: consecutive and scattered duplicates along dim
                for k, out_dtype in enumerate((dtype, I64, I64)):
                    yield Sample(
                        (Input(x),),
                        {},
                        lambda a, dim=dim, k=k: reference(a, None if dim is None else dim % a.ndim, True, True)[k],
                        dtype,
                        out_dtype=out_dtype,
                        name=f"{name}-{k}",
                        grad=False,
                        call=lambda t, dim=dim, k=k: fn(t, return_inverse=True, return_counts=True, dim=dim)[k],
                    )
        yield Sample(
            (Input(_repeats((4, 3), F64, op), layout="transposed"),),
            {},
            lambda a: reference(a, None, False, False)[0],
            F64,
            name="transposed",
            grad=False,
            call=lambda t: fn(t),
        )
        for name, shape in (("size0", (0,)), ("0d", ())):
            yield Sample(
                (Input(_repeats(shape, F64, op)),),
                {},
                lambda a: reference(a, None, False, True)[1],
                F64,
                out_dtype=I64,
                name=name,
                grad=False,
                call=lambda t: fn(t, return_counts=True)[1],
            )
        yield ErrorSample((Input(values((2, 3))),), {}, IndexError, "out of range", call=lambda t: fn(t, dim=2))
        yield ErrorSample((Input(values(())),), {}, IndexError, "0-d", name="0d", call=lambda t: fn(t, dim=0))

    return samples


_unique_samples("unique", _np_unique)
_unique_samples("unique_consecutive", _np_consecutive)


# --- searchsorted, bucketize ---------------------------------------------------------------------
def _np_searchsorted(seq, v, right):
    side = "right" if right else "left"
    if seq.ndim == 1:
        return np.searchsorted(seq, v, side=side)
    rows = [
        np.searchsorted(s, r, side=side) for s, r in zip(seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1]))
    ]
    return np.stack(rows).reshape(v.shape)


@register_samples("searchsorted")
def _searchsorted_samples():
    sg = _sg()
    for dtype in ORDERED:
        seq = np.array([0, 1, 1, 3, 5, 5, 8])
        v = _repeats((3, 4), dtype, "v") * 2 - 1
        if dtype is U8:
            v = np.abs(v)
        for right in (False, True):
            yield Sample(
                (Input(seq), Input(v)),
                {"right": right, "out_int32": False},
                lambda s, x, right, out_int32: _np_searchsorted(s, x, right),
                dtype,
                out_dtype=I64,
                name=f"1d-{'right' if right else 'left'}",
                grad=False,
            )
    seq = np.sort(values((2, 3, 5), key="batched"), axis=-1)
    v = values((2, 3, 4), key="bv")
    for right in (False, True):
        yield Sample(
            (Input(seq), Input(v)),
            {},
            lambda s, x, right=right: _np_searchsorted(s, x, right),
            F64,
            out_dtype=I64,
            name=f"batched-{right}",
            grad=False,
            call=lambda s, x, right=right: sg.searchsorted(s, x, side="right" if right else "left"),
        )
    yield Sample(
        (Input(seq), Input(v)),
        {},
        lambda s, x: _np_searchsorted(s, x, False).astype(np.int32),
        F64,
        out_dtype=I32,
        name="int32",
        grad=False,
        call=lambda s, x: sg.searchsorted(s, x, out_int32=True),
    )
    unsorted = np.array([3.0, 1.0, 2.0, 0.5])
    sorter = np.argsort(unsorted)
    yield Sample(
        (Input(unsorted), Input(np.array([0.7, 2.5, 9.0]))),
        {},
        lambda s, x: np.searchsorted(s, x, sorter=sorter),
        F64,
        out_dtype=I64,
        name="sorter",
        grad=False,
        call=lambda s, x: sg.searchsorted(s, x, sorter=sg.tensor(sorter, device=s.device)),
    )
    yield Sample(
        (Input(np.array([1.0, 2.0, 3.0])),),
        {},
        lambda s: np.searchsorted(s, 2.5),
        F64,
        out_dtype=I64,
        name="scalar",
        grad=False,
        call=lambda s: sg.searchsorted(s, 2.5),
    )
    yield Sample(
        (Input(np.zeros(0)), Input(values((3,)))),
        {},
        lambda s, x: np.zeros(3, np.int64),
        F64,
        out_dtype=I64,
        name="size0",
        grad=False,
        call=lambda s, x: sg.searchsorted(s, x),
    )
    yield ErrorSample(
        (Input(values((2, 3))), Input(values((3, 3)))),
        {},
        RuntimeError,
        "first N-1 dimensions",
        name="batch",
        call=lambda s, x: sg.searchsorted(s, x),
    )
    yield ErrorSample(
        (Input(values((3,))), Input(values((3,)))),
        {},
        RuntimeError,
        "side and right can't be set to opposites",
        name="opposites",
        call=lambda s, x: sg.searchsorted(s, x, right=True, side="left"),
    )


@register_samples("bucketize")
def _bucketize_samples():
    sg = _sg()
    boundaries = np.array([-1.0, 0.0, 0.5, 1.5])
    for dtype in (F32, F64, I64):
        x = values((3, 4), key="bucket") if dtype.is_floating_point else values((3, 4), -2, 2, integer=True)
        for right in (False, True):
            yield Sample(
                (Input(x), Input(boundaries)),
                {"right": right, "out_int32": False},
                lambda a, b, right, out_int32: np.searchsorted(b, a, side="right" if right else "left"),
                dtype,
                out_dtype=I64,
                name=f"{right}",
                grad=False,
            )
    yield ErrorSample(
        (Input(values((3,))), Input(values((2, 2)))),
        {},
        RuntimeError,
        "boundaries tensor must be 1 dimension",
        call=lambda x, b: sg.bucketize(x, b),
    )


# --- bincount, histc, count_nonzero --------------------------------------------------------------
@register_samples("bincount")
def _bincount_samples():
    sg = _sg()
    for dtype in (I64, I32, U8):
        x = values((10,), 0, 6, integer=True, key="bins")
        yield Sample((Input(x),), {}, lambda a: np.bincount(a), dtype, out_dtype=I64, call=lambda t: sg.bincount(t))
        yield Sample(
            (Input(x),),
            {},
            lambda a: np.bincount(a, minlength=12),
            dtype,
            out_dtype=I64,
            name="minlength",
            call=lambda t: sg.bincount(t, minlength=12),
        )
    x = values((10,), 0, 6, integer=True, key="bins")
    for wdtype, out in ((F32, F32), (F64, F64), (I64, F64)):
        w = values((10,), key="weights")
        w = np.round(w * 3) if wdtype is I64 else w
        yield Sample(
            (Input(x, dtype=I64), Input(w, dtype=wdtype)),
            {},
            lambda a, b: np.bincount(a, weights=b),
            wdtype,
            out_dtype=out,
            name="weights",
            grad=False,
            call=lambda t, w: sg.bincount(t, w),
        )
    yield Sample(
        (Input(np.zeros(0, np.int64)),),
        {},
        lambda a: np.zeros(3, np.int64),
        I64,
        name="size0",
        call=lambda t: sg.bincount(t, minlength=3),
    )
    yield ErrorSample(
        (Input(np.array([1, -1]), dtype=I64),), {}, RuntimeError, "non-negative", call=lambda t: sg.bincount(t)
    )
    yield ErrorSample(
        (Input(np.ones((2, 2)), dtype=I64),), {}, RuntimeError, "1-d", name="2d", call=lambda t: sg.bincount(t)
    )
    yield ErrorSample(
        (Input(np.ones(3), dtype=I64), Input(np.ones(2))),
        {},
        RuntimeError,
        "same length",
        name="weights",
        call=lambda t, w: sg.bincount(t, w),
    )
    yield ErrorSample(
        (Input(np.ones(3)),), {}, NotImplementedError, "not implemented", name="float", call=lambda t: sg.bincount(t)
    )


def _np_histc(x, bins, lo, hi):
    if lo == hi and x.size:
        lo, hi = x.min(), x.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    return np.histogram(x, bins=bins, range=(lo, hi))[0]


@register_samples("histc")
def _histc_samples():
    sg = _sg()
    for dtype in (F32, F64):
        x = values((4, 5), -3, 3, key="histc")
        for name, params in (("range", {"bins": 6, "min": -2, "max": 2}), ("data", {"bins": 5, "min": 0, "max": 0})):
            yield Sample(
                (Input(x),),
                params,
                lambda a, bins, min, max: _np_histc(a, bins, min, max),
                dtype,
                name=name,
                grad=False,
            )
    yield Sample(
        (Input(np.full(3, 2.0)),),
        {"bins": 4, "min": 0, "max": 0},
        lambda a, bins, min, max: _np_histc(a, bins, min, max),
        F64,
        name="constant",
        grad=False,
    )
    yield ErrorSample((Input(values((3,))),), {}, RuntimeError, "bins must be > 0", call=lambda t: sg.histc(t, bins=0))
    yield ErrorSample(
        (Input(values((3,))),),
        {},
        RuntimeError,
        "max must be larger",
        name="range",
        call=lambda t: sg.histc(t, 3, 2, 1),
    )
    yield ErrorSample(
        (Input(np.ones(3), dtype=I64),),
        {},
        NotImplementedError,
        "not implemented",
        name="int",
        call=lambda t: sg.histc(t),
    )


@register_samples("count_nonzero")
def _count_nonzero_samples():
    sg = _sg()
    for dtype in SOME:
        x = data((3, 4), dtype, key="count") if dtype is BOOL else _repeats((3, 4), dtype, "count")
        yield Sample((Input(x),), {"dim": None}, lambda a, dim: np.count_nonzero(a), dtype, out_dtype=I64, grad=False)
    x = _repeats((2, 3, 4), F64, "count3")
    for dim in (1, (0, 2), -1):
        yield Sample(
            (Input(x),),
            {},
            lambda a, dim=dim: np.count_nonzero(a, axis=dim),
            F64,
            out_dtype=I64,
            name=f"dim{dim}",
            grad=False,
            call=lambda t, dim=dim: sg.count_nonzero(t, dim=dim),
        )
    yield ErrorSample((Input(values((2,))),), {}, IndexError, "out of range", call=lambda t: sg.count_nonzero(t, 3))


# --- isin, isreal --------------------------------------------------------------------------------
@register_samples("isin")
def _isin_samples():
    sg = _sg()
    for dtype in ORDERED:
        e, t = _repeats((3, 4), dtype, "e") * 2, _repeats((5,), dtype, "t") * 2 + 1 - (dtype is U8)
        for invert in (False, True):
            yield Sample(
                (Input(e), Input(t)),
                {"invert": invert},
                lambda a, b, invert: np.isin(a, b, invert=invert),
                dtype,
                out_dtype=BOOL,
                name=f"{invert}",
                grad=False,
            )
    yield Sample(
        (Input(values((4,), 0, 3, integer=True)),),
        {},
        lambda a: np.isin(a, 2),
        I64,
        out_dtype=BOOL,
        name="scalar",
        call=lambda a: sg.isin(a, 2),
    )
    yield Sample(
        (Input(values((4,), 0, 3, integer=True)), Input(np.zeros(0, np.int64))),
        {},
        lambda a, b: np.isin(a, b),
        I64,
        out_dtype=BOOL,
        name="empty-test",
        call=lambda a, b: sg.isin(a, b, assume_unique=True),
    )


@register_samples("isreal")
def _isreal_samples():
    for dtype in SOME:  # complex inputs: tests/parity/test_sets.py
        x = data((3,), dtype, key="real")
        yield Sample((Input(x),), {}, np.isreal, dtype, out_dtype=BOOL, grad=False)


# --- kthvalue, msort -----------------------------------------------------------------------------
def _np_kth(x, k, dim, keepdim, piece):
    if x.ndim == 0:
        return x if piece == 0 else np.zeros((), np.int64)
    order = np.argsort(x, axis=dim, kind="stable")
    idx = np.take(order, [k - 1], axis=dim)
    out = np.take_along_axis(x, idx, axis=dim) if piece == 0 else idx
    return out if keepdim else np.squeeze(out, axis=dim)


@register_samples("kthvalue")
def _kthvalue_samples():
    sg = _sg()
    cases = [("last", (3, 5), 2, -1, False), ("dim0", (4, 3), 4, 0, True), ("3d", (2, 3, 4), 1, 1, False)]
    for i, (name, shape, k, dim, keepdim) in enumerate(cases):
        for dtype in (F32, F64, I64, I32) if i == 0 else (F64,):
            x = distinct(shape, key=name) if dtype.is_floating_point else values(shape, -5, 5, integer=True)
            for piece in range(2):
                yield Sample(
                    (Input(x),),
                    {},
                    lambda a, k=k, dim=dim, keepdim=keepdim, piece=piece: _np_kth(a, k, dim, keepdim, piece),
                    dtype,
                    out_dtype=dtype if piece == 0 else I64,
                    name=f"{name}-{piece}",
                    grad=piece == 0 and dtype.is_floating_point,
                    call=lambda t, k=k, dim=dim, keepdim=keepdim, piece=piece: sg.kthvalue(t, k, dim, keepdim)[piece],
                )
    yield Sample(
        (Input(distinct((4, 3), key="t"), layout="transposed"),),
        {},
        lambda a: _np_kth(a, 2, 0, False, 0),
        F64,
        name="transposed",
        call=lambda t: t.kthvalue(2, dim=0).values,
    )
    yield Sample((Input(np.array(1.5)),), {}, lambda a: a, F64, name="0d", call=lambda t: sg.kthvalue(t, 1).values)
    yield ErrorSample((Input(values((3,))),), {}, RuntimeError, "out of range", call=lambda t: sg.kthvalue(t, 4))


@register_samples("msort")
def _msort_samples():
    for dtype in ORDERED:
        x = distinct((4, 3), key="msort") if dtype.is_floating_point else values((4, 3), 0, 9, integer=True)
        yield Sample((Input(x),), {}, lambda a: np.sort(a, axis=0), dtype)
    yield Sample(
        (Input(distinct((3, 4), key="m"), layout="transposed"),), {}, lambda a: np.sort(a, axis=0), F64, name="t"
    )


# --- the layout composites in `somegrad.ops.joins` -----------------------------------------------
def _simple(op, cases, errors=()):
    """`cases`: (name, shapes, call, reference), the first in every dtype of SOME; `errors`:
    (name, shapes, call, error class, match)."""

    @register_samples(op)
    def samples():
        sg = _sg()
        for i, (name, shapes, call, reference) in enumerate(cases):
            for dtype in SOME if i == 0 else (F64,):
                inputs = tuple(Input(data(s, dtype, key=(op, name, k))) for k, s in enumerate(shapes))
                yield Sample(inputs, {}, reference, dtype, name=name, call=lambda *t, call=call: call(sg, *t))
            if all(len(s) >= 2 for s in shapes) and shapes:
                inputs = tuple(Input(values(s, key=(op, k)), layout="transposed") for k, s in enumerate(shapes))
                yield Sample(inputs, {}, reference, F64, name=f"{name}-t", call=lambda *t, call=call: call(sg, *t))
        for name, shapes, call, error, match in errors:
            yield ErrorSample(
                tuple(Input(values(s)) for s in shapes), {}, error, match, name=name, call=lambda *t, c=call: c(sg, *t)
            )

    return samples


_simple(
    "tile",
    [
        ("pad", [(2, 3)], lambda sg, t: sg.tile(t, (2,)), lambda a: np.tile(a, (2,))),
        ("more", [(2, 3)], lambda sg, t: t.tile((2, 1, 2)), lambda a: np.tile(a, (2, 1, 2))),
        ("0d", [()], lambda sg, t: sg.tile(t, (3,)), lambda a: np.tile(a, (3,))),
        ("zero", [(2,)], lambda sg, t: sg.tile(t, (0,)), lambda a: np.tile(a, (0,))),
    ],
    [("negative", [(2,)], lambda sg, t: sg.tile(t, (-1,)), RuntimeError, "negative dimension")],
)
_simple(
    "ravel",
    [("2d", [(2, 3)], lambda sg, t: sg.ravel(t), np.ravel), ("0d", [()], lambda sg, t: t.ravel(), np.ravel)],
)
_simple(
    "fliplr",
    [("2d", [(2, 3)], lambda sg, t: sg.fliplr(t), np.fliplr), ("3d", [(2, 3, 2)], lambda sg, t: t.fliplr(), np.fliplr)],
    [("1d", [(3,)], lambda sg, t: sg.fliplr(t), RuntimeError, "Input must be >= 2-d.")],
)
_simple(
    "flipud",
    [("2d", [(2, 3)], lambda sg, t: sg.flipud(t), np.flipud), ("1d", [(4,)], lambda sg, t: t.flipud(), np.flipud)],
    [("0d", [()], lambda sg, t: sg.flipud(t), RuntimeError, "Input must be >= 1-d.")],
)


def _broadcast_piece(k, listed=False):
    return (
        (lambda sg, *t: sg.broadcast_tensors(list(t))[k]) if listed else (lambda sg, *t: sg.broadcast_tensors(*t)[k]),
        lambda *a: np.broadcast_arrays(*a)[k],
    )


_simple(
    "broadcast_tensors",
    [
        ("pair-0", [(3, 1), (4,)], *_broadcast_piece(0)),
        ("pair-1", [(3, 1), (4,)], *_broadcast_piece(1)),
        ("0d-0", [(), (2, 3)], *_broadcast_piece(0, listed=True)),
        ("three-2", [(2, 1, 1), (3, 1), (4,)], *_broadcast_piece(2)),
    ],
    [("mismatch", [(3,), (4,)], lambda sg, a, b: sg.broadcast_tensors(a, b), RuntimeError, "cannot be broadcast")],
)


def _np_cartesian(*arrays):
    if len(arrays) == 1:
        return arrays[0]
    return np.stack([g.reshape(-1) for g in np.meshgrid(*arrays, indexing="ij")], axis=1)


_simple(
    "cartesian_prod",
    [
        ("two", [(2,), (3,)], lambda sg, a, b: sg.cartesian_prod(a, b), _np_cartesian),
        ("three", [(2,), (1,), (3,)], lambda sg, a, b, c: sg.cartesian_prod(a, b, c), _np_cartesian),
        ("one", [(3,)], lambda sg, a: sg.cartesian_prod(a), _np_cartesian),
    ],
    [("2d", [(2, 2), (2,)], lambda sg, a, b: sg.cartesian_prod(a, b), RuntimeError, "1D vector")],
)


def _np_combinations(a, r, with_replacement):
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(a.shape[0]), r))
    return a[np.array(rows, dtype=np.int64).reshape(len(rows), r)] if r else a[:0]


_simple(
    "combinations",
    [
        ("pairs", [(4,)], lambda sg, a: sg.combinations(a), lambda a: _np_combinations(a, 2, False)),
        ("triples", [(5,)], lambda sg, a: sg.combinations(a, r=3), lambda a: _np_combinations(a, 3, False)),
        ("replacement", [(3,)], lambda sg, a: sg.combinations(a, 2, True), lambda a: _np_combinations(a, 2, True)),
        ("too-many", [(2,)], lambda sg, a: sg.combinations(a, 3), lambda a: _np_combinations(a, 3, False)),
        ("zero", [(3,)], lambda sg, a: sg.combinations(a, 0), lambda a: _np_combinations(a, 0, False)),
    ],
    [
        ("2d", [(2, 2)], lambda sg, a: sg.combinations(a), RuntimeError, "Expect a 1D vector"),
        ("negative", [(2,)], lambda sg, a: sg.combinations(a, -1), RuntimeError, "non-negative"),
    ],
)


def _np_block_diag(*arrays):
    blocks = [np.atleast_2d(a) for a in arrays]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)), dtype=np.result_type(*blocks))
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


_simple(
    "block_diag",
    [
        ("mixed", [(2, 3), (), (2,), (1, 1)], lambda sg, *t: sg.block_diag(*t), _np_block_diag),
        ("square", [(2, 2), (3, 3)], lambda sg, *t: sg.block_diag(*t), _np_block_diag),
        ("empty", [(0, 2), (2, 0)], lambda sg, *t: sg.block_diag(*t), _np_block_diag),
    ],
    [("3d", [(2, 2, 2)], lambda sg, t: sg.block_diag(t), RuntimeError, "2 or fewer dimensions")],
)
_simple(
    "diagflat",
    [
        ("2d", [(2, 2)], lambda sg, t: sg.diagflat(t), np.diagflat),
        ("offset", [(3,)], lambda sg, t: t.diagflat(1), lambda a: np.diagflat(a, 1)),
        ("below", [(3,)], lambda sg, t: sg.diagflat(t, -2), lambda a: np.diagflat(a, -2)),
    ],
)
