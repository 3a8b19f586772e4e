"""Samples for reductions, scans, softmax and argsort.

At the kernel level `dim` is a sorted tuple of non-negative dims (argmax/argmin, cumsum,
softmax and argsort: one non-negative int); negative dims are tested through the public
functions (`call=`), which normalise them.
"""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes, ops
from somegrad.testing.samples import (
    FLOATS,
    INTEGERS,
    ErrorSample,
    Input,
    Sample,
    register_samples,
    values,
)

F32, F64 = dtypes.float32, dtypes.float64
INF, NAN = math.inf, math.nan


def _reduction(
    op,
    reference,
    public,
    *,
    low=-2.0,
    high=2.0,
    float_dtypes=FLOATS,
    int_dtypes=(),
    nonempty=False,
    specials=None,
    extra=(),
):
    """Samples of a `(x, dim, keepdim)` reduction."""

    def ref(x, dim, keepdim):
        return reference(x, axis=dim, keepdims=keepdim)

    def samples():
        x = values((3, 4), low, high, key=op)
        for dtype in float_dtypes:
            for keepdim in (False, True):
                yield Sample(
                    (Input(x),),
                    {"dim": (0, 1), "keepdim": keepdim},
                    ref,
                    dtype,
                    name=f"all-keep{keepdim}",
                )
                yield Sample(
                    (Input(x),),
                    {"dim": (1,), "keepdim": keepdim},
                    ref,
                    dtype,
                    name=f"dim1-keep{keepdim}",
                )
        cube = values((2, 3, 4), low, high, key=op)
        yield Sample((Input(cube),), {"dim": (0, 2), "keepdim": False}, ref, F64, name="dims02")
        yield Sample((Input(cube),), {"dim": (1,), "keepdim": True}, ref, F64, name="dim1-3d")
        yield Sample(
            (Input(np.array(values((), low, high))),),
            {"dim": (), "keepdim": False},
            ref,
            F64,
            name="0d",
        )
        yield Sample(
            (Input(values((4, 3), low, high), layout="transposed"),),
            {"dim": (0,), "keepdim": False},
            ref,
            F64,
            name="transposed",
        )
        yield Sample(
            (Input(values((2, 3), low, high), layout="stepped"),),
            {"dim": (1,), "keepdim": True},
            ref,
            F64,
            name="stepped",
        )
        for keepdim in (False, True):
            yield Sample(
                (Input(x),),
                {},
                lambda x, keepdim=keepdim: reference(x, axis=-1, keepdims=keepdim),
                F64,
                name=f"negdim-keep{keepdim}",
                call=lambda t, keepdim=keepdim: public(t, -1, keepdim=keepdim),
            )
        if nonempty:
            yield ErrorSample(
                (Input(np.zeros((0, 3))),),
                {"dim": (0,), "keepdim": False},
                IndexError,
                "to have non-zero size",
                name="empty-dim",
            )
            yield Sample(
                (Input(np.zeros((0, 3))),),
                {"dim": (1,), "keepdim": False},
                ref,
                F64,
                name="size0-other-dim",
            )
        else:
            # An empty sum is 0, an empty product 1, an empty logsumexp -inf and an empty mean
            # NaN (whose gradients are not checked: finite differences of -inf and NaN are NaN).
            grad = op not in ("logsumexp", "mean")
            yield Sample(
                (Input(np.zeros((0, 3))),),
                {"dim": (0,), "keepdim": False},
                ref,
                F64,
                name="size0",
                grad=grad,
            )
            yield Sample(
                (Input(np.zeros((0, 3))),),
                {"dim": (0, 1), "keepdim": True},
                ref,
                F64,
                name="size0-all",
                grad=grad,
            )
        if specials is not None:
            for dtype in (F32, F64):
                yield Sample(
                    (Input(np.array(specials)),),
                    {"dim": (1,), "keepdim": False},
                    ref,
                    dtype,
                    name="special",
                    grad=False,
                )
        for dtype in int_dtypes:
            low_int = 0 if dtype is dtypes.uint8 else -4
            ints = values((3, 4), low_int, 4, integer=True, key=op)
            yield Sample((Input(ints),), {"dim": (1,), "keepdim": False}, ref, dtype, name="int")
            yield Sample((Input(ints),), {"dim": (0, 1), "keepdim": True}, ref, dtype, name="int-all")
        yield ErrorSample(
            (Input(x),),
            {},
            IndexError,
            "dimension out of range",
            name="bad-dim",
            call=lambda t: public(t, 2),
        )
        yield ErrorSample(
            (Input(x),),
            {},
            ValueError,
            "more than once",
            name="repeated-dim",
            call=lambda t: public(t, (1, -1)),
        )
        yield from extra

    register_samples(op)(samples)


_reduction(
    "sum",
    np.sum,
    ops.sum,
    int_dtypes=(dtypes.int64,),
    specials=[[1e30, 1e30, -1e30, 1.0], [INF, 1.0, 2.0, 3.0], [INF, -INF, 0.0, 0.0]],
)
_reduction(
    "prod",
    np.prod,
    ops.prod,
    low=0.5,
    high=1.5,
    int_dtypes=(dtypes.int64,),
    specials=[[1e20, 1e20, 1.0, 1.0], [0.0, INF, 1.0, 1.0], [-0.0, 2.0, 3.0, 4.0]],
    extra=[
        Sample(
            (Input(np.array([[0.0, 1.5, 2.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])),),
            {"dim": (1,), "keepdim": False},
            lambda x, dim, keepdim: np.prod(x, axis=dim),
            F64,
            name="zeros",
        )
    ],
)
# mean is an implicit composite (sum / count); the mean of an empty dim is NaN, as in PyTorch.
_reduction("mean", np.mean, ops.mean)


def _moment(op, reference, public):
    """var and std: `(x, dim, correction, keepdim)`, Bessel's correction 0, 1 and 2."""

    def ref(x, dim, correction, keepdim):
        return reference(x, axis=dim, ddof=correction, keepdims=keepdim)

    @register_samples(op)
    def samples():
        x = values((3, 4), key=op)
        for dtype in FLOATS:
            for correction in (0, 1):
                params = {"dim": (1,), "correction": correction, "keepdim": False}
                yield Sample((Input(x),), params, ref, dtype, name=f"dim1-c{correction}")
        for keepdim in (False, True):
            params = {"dim": (0, 1), "correction": 2, "keepdim": keepdim}
            yield Sample((Input(x),), params, ref, F64, name=f"all-c2-keep{keepdim}")
        cube = values((2, 3, 4), key=op)
        yield Sample((Input(cube),), {"dim": (0, 2), "correction": 1, "keepdim": True}, ref, F64, name="dims02")
        params = {"dim": (0,), "correction": 1, "keepdim": False}
        yield Sample((Input(values((4, 3)), layout="transposed"),), params, ref, F64, name="transposed")
        # A constant row: variance 0, where std's gradient is 0 (not NaN), as in PyTorch.
        if op == "std":
            flat = np.array([[1.5, 1.5, 1.5], [0.0, 1.0, 2.0]])
            params = {"dim": (1,), "correction": 1, "keepdim": False}
            yield Sample((Input(flat),), params, ref, F64, name="constant-row", grad_order=1)
        yield Sample(
            (Input(x),),
            {},
            lambda x: reference(x, axis=-1, ddof=1),
            F64,
            name="negdim",
            call=lambda t: public(t, -1),
        )
        yield ErrorSample((Input(x),), {}, RuntimeError, "floating point", name="int", call=lambda t: public(t.long()))


_moment("var", np.var, ops.var)
_moment("std", np.std, ops.std)


# nll_loss (declared with the nn composites): a gather of log-probabilities, reduced.
@register_samples("nll_loss")
def _nll_loss_samples():
    def ref(x, target, weight, ignore_index, reduction):
        valid = target != ignore_index
        safe = np.where(valid, target, 0)
        w = weight[safe] * valid
        loss = -x[np.arange(len(target)), safe] * w
        return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.sum() / w.sum()

    x = np.log(values((4, 3), 0.1, 1.0, key="nll"))
    target = np.array([0, 2, 1, 2])
    weight = np.array([0.5, 1.0, 2.0])
    for reduction in ("none", "sum", "mean"):
        for dtype in FLOATS:
            params = {"ignore_index": -100, "reduction": reduction}
            inputs = (Input(x), Input(target, dtypes.int64), Input(weight))
            yield Sample(inputs, params, ref, dtype, name=f"{reduction}")
    params = {"ignore_index": 2, "reduction": "mean"}
    yield Sample((Input(x), Input(target, dtypes.int64), Input(weight)), params, ref, F64, name="ignore-index")


_TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, -1.0, 2.0, 2.0], [-5.0, -5.0, -5.0, -5.0]])
_TWO_WAY_TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, -1.0, 2.0, 0.5], [-5.0, -5.0, 4.0, 1.0]])
for _op, _fn, _public in (("amax", np.max, ops.amax), ("amin", np.min, ops.amin)):
    _reduction(
        _op,
        _fn,
        _public,
        int_dtypes=INTEGERS,
        nonempty=True,
        specials=[[NAN, 1.0, 2.0, 3.0], [-INF, INF, 0.0, 1.0], [-0.0, 0.0, -1e30, 1e30]],
        extra=[
            Sample(
                (Input(_TIES),),
                {"dim": (1,), "keepdim": False},
                lambda x, dim, keepdim, _fn=_fn: _fn(x, axis=dim),
                F64,
                name="ties",
                grad=False,
            ),
            Sample(
                (Input(_TWO_WAY_TIES),),
                {"dim": (1,), "keepdim": True},
                lambda x, dim, keepdim, _fn=_fn: _fn(x, axis=dim, keepdims=True),
                F64,
                name="two-way-ties",
                grad_order=1,
            ),
        ],
    )


def _logical_reduction(op, reference, public):
    @register_samples(op)
    def samples():
        def ref(x, dim, keepdim):
            return reference(x, axis=dim, keepdims=keepdim)

        mask = np.array([[True, True, False], [True, True, True]])
        for keepdim in (False, True):
            yield Sample(
                (Input(mask),),
                {"dim": (1,), "keepdim": keepdim},
                ref,
                dtypes.bool_,
                name=f"keep{keepdim}",
            )
        yield Sample((Input(mask),), {"dim": (0, 1), "keepdim": False}, ref, dtypes.bool_, name="all-dims")
        yield Sample((Input(np.array(False)),), {"dim": (), "keepdim": False}, ref, dtypes.bool_, name="0d")
        yield Sample(
            (Input(np.zeros((0, 3), bool)),),
            {"dim": (0,), "keepdim": False},
            ref,
            dtypes.bool_,
            name="size0",
        )
        yield Sample(
            (Input(mask),),
            {},
            lambda x: reference(x, axis=-1),
            dtypes.bool_,
            name="negdim",
            call=lambda t: public(t, -1),
        )

    return samples


_logical_reduction("all", np.all, ops.all)
_logical_reduction("any", np.any, ops.any)


def _arg_reduction(op, reference, public):
    @register_samples(op)
    def samples():
        def ref(x, dim, keepdim):
            return reference(x, axis=dim, keepdims=keepdim)

        x = values((3, 4), key=op)
        for dtype in FLOATS + INTEGERS:
            data = values((3, 4), 0, 9, integer=True, key=op) if not dtype.is_floating_point else x
            for dim in (None, 0, 1):
                for keepdim in (False, True):
                    yield Sample(
                        (Input(data),),
                        {"dim": dim, "keepdim": keepdim},
                        ref,
                        dtype,
                        dtypes.int64,
                        name=f"dim{dim}-keep{keepdim}",
                    )
        # Ties: the first occurrence wins, as in PyTorch and NumPy.
        yield Sample((Input(_TIES),), {"dim": 1, "keepdim": False}, ref, F64, dtypes.int64, name="ties")
        yield Sample(
            (Input(_TIES),),
            {"dim": None, "keepdim": False},
            ref,
            F64,
            dtypes.int64,
            name="ties-flat",
        )
        yield Sample(
            (Input(np.array(2.0)),),
            {"dim": None, "keepdim": False},
            ref,
            F64,
            dtypes.int64,
            name="0d",
        )
        yield Sample(
            (Input(values((4, 3)), layout="transposed"),),
            {"dim": 1, "keepdim": False},
            ref,
            F64,
            dtypes.int64,
            name="transposed",
        )
        yield Sample(
            (Input(np.array([[-INF, 1e30, 3.0], [INF, INF, -1.0]])),),
            {"dim": 1, "keepdim": False},
            ref,
            F32,
            dtypes.int64,
            name="special",
        )
        yield Sample(
            (Input(x),),
            {},
            lambda x: reference(x, axis=-1),
            F64,
            dtypes.int64,
            name="negdim",
            call=lambda t: public(t, -1),
        )
        # Along a dim of non-zero size, an empty input gives an empty result (as in PyTorch).
        for keepdim in (False, True):
            yield Sample(
                (Input(np.zeros((0, 3))),),
                {"dim": 1, "keepdim": keepdim},
                lambda x, dim, keepdim: reference(x, axis=dim, keepdims=keepdim),
                F64,
                dtypes.int64,
                name=f"empty-keepdim{keepdim}",
            )
        for dim in (0, None):
            yield ErrorSample(
                (Input(np.zeros((0, 3))),),
                {"dim": dim, "keepdim": False},
                IndexError,
                "expected a non-empty reduction",
                name=f"empty-dim{dim}",
            )

    return samples


_arg_reduction("argmax", np.argmax, ops.argmax)
_arg_reduction("argmin", np.argmin, ops.argmin)


@register_samples("cumsum")
def _cumsum_samples():
    def ref(x, dim):
        return np.cumsum(x, axis=dim, dtype=x.dtype)

    x = values((3, 4), key="cumsum")
    for dtype in FLOATS:
        for dim in (0, 1):
            yield Sample((Input(x),), {"dim": dim}, ref, dtype, name=f"dim{dim}")
    for dtype in (dtypes.int64, dtypes.int32):
        yield Sample((Input(values((3, 4), -5, 5, integer=True)),), {"dim": 1}, ref, dtype, name="int")
    yield Sample((Input(values((2, 3, 4))),), {"dim": 1}, ref, F64, name="3d")
    yield Sample((Input(np.zeros((0, 3))),), {"dim": 0}, ref, F64, name="size0")
    yield Sample((Input(values((4, 3)), layout="transposed"),), {"dim": 1}, ref, F64, name="transposed")
    yield Sample((Input(values((2, 3)), layout="stepped"),), {"dim": 1}, ref, F64, name="stepped")
    yield Sample(
        (Input(x),),
        {},
        lambda x: np.cumsum(x, axis=-1),
        F64,
        name="negdim",
        call=lambda t: ops.cumsum(t, -1),
    )
    yield Sample(
        (Input(np.array([[1e30, -1e30, 1.0], [INF, -INF, 1.0]])),),
        {"dim": 1},
        ref,
        F64,
        name="special",
        grad=False,
    )
    yield ErrorSample(
        (Input(x),),
        {},
        IndexError,
        "dimension out of range",
        name="bad-dim",
        call=lambda t: ops.cumsum(t, 2),
    )


def _logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros([1] * x.ndim)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


_LARGE = [
    [1000.0, 1001.0, 1002.0, 999.0],
    [-1000.0, -1001.0, -1002.0, -999.0],
    [-INF, 0.0, 1.0, 2.0],
]
_reduction(
    "logsumexp",
    _logsumexp,
    ops.logsumexp,
    specials=_LARGE + [[-INF, -INF, -INF, -INF]],
    extra=[
        Sample(
            (Input(np.array(_LARGE)),),
            {"dim": (1,), "keepdim": True},
            lambda x, dim, keepdim: _logsumexp(x, dim, True),
            F64,
            name="large-magnitude",
            grad=False,
        )
    ],
)


def _softmax(x, dim):
    if x.ndim == 0:
        return np.ones_like(x)
    e = np.exp(x - np.max(x, axis=dim, keepdims=True)) if x.size else x
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax(x, dim):
    if x.ndim == 0:
        return np.zeros_like(x)
    if not x.size:
        return x
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def _softmax_like(op, reference, public):
    @register_samples(op)
    def samples():
        x = values((3, 4), -3, 3, key=op)
        for dtype in FLOATS:
            for dim in (0, 1):
                yield Sample((Input(x),), {"dim": dim}, reference, dtype, name=f"dim{dim}")
        yield Sample((Input(values((2, 3, 4))),), {"dim": 1}, reference, F64, name="3d")
        yield Sample((Input(np.array(0.5)),), {"dim": 0}, reference, F64, name="0d")
        yield Sample((Input(np.zeros((0, 3))),), {"dim": 1}, reference, F64, name="size0")
        yield Sample(
            (Input(values((4, 3)), layout="transposed"),),
            {"dim": 1},
            reference,
            F64,
            name="transposed",
        )
        yield Sample((Input(values((2, 3)), layout="stepped"),), {"dim": 1}, reference, F64, name="stepped")
        yield Sample(
            (Input(x),),
            {},
            lambda x: reference(x, -1),
            F64,
            name="negdim",
            call=lambda t: public(t, -1),
        )
        # exp(1000) overflows: a stable kernel subtracts the max first.
        for dtype in FLOATS:
            yield Sample(
                (Input(np.array(_LARGE)),),
                {"dim": 1},
                reference,
                dtype,
                name="large-magnitude",
                grad=False,
            )
        yield Sample(
            (Input(np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])),),
            {"dim": 1},
            reference,
            F64,
            name="large-grad",
        )
        yield ErrorSample(
            (Input(x),),
            {},
            IndexError,
            "dimension out of range",
            name="bad-dim",
            call=lambda t: public(t, 2),
        )

    return samples


_softmax_like("softmax", _softmax, ops.softmax)
_softmax_like("log_softmax", _log_softmax, ops.log_softmax)


@register_samples("argsort")
def _argsort_samples():
    def ref(x, dim, descending, stable):
        if descending:
            return np.argsort(-x.astype(np.float64), axis=dim, kind="stable")
        return np.argsort(x, axis=dim, kind="stable")

    x = values((3, 4), key="argsort")
    for dtype in FLOATS + INTEGERS:
        data = x if dtype.is_floating_point else values((3, 4), 0, 9, integer=True, key="argsort")
        for descending in (False, True):
            yield Sample(
                (Input(data),),
                {"dim": 1, "descending": descending, "stable": True},
                ref,
                dtype,
                dtypes.int64,
                name=f"desc{descending}",
            )
    for descending in (False, True):
        # Ties keep their original order (a stable sort), ascending and descending.
        yield Sample(
            (Input(_TIES),),
            {"dim": 1, "descending": descending, "stable": True},
            ref,
            F64,
            dtypes.int64,
            name=f"ties-desc{descending}",
        )
        yield Sample(
            (Input(_TIES),),
            {"dim": 0, "descending": descending, "stable": True},
            ref,
            F64,
            dtypes.int64,
            name=f"ties-dim0-desc{descending}",
        )
    yield Sample(
        (Input(np.zeros((0, 3))),),
        {"dim": 1, "descending": False, "stable": True},
        ref,
        F64,
        dtypes.int64,
        name="size0",
    )
    yield Sample(
        (Input(values((4, 3)), layout="transposed"),),
        {"dim": 1, "descending": False, "stable": True},
        ref,
        F64,
        dtypes.int64,
        name="transposed",
    )
    yield Sample(
        (Input(np.array([[INF, -INF, 1e30, -1e30, 0.0]])),),
        {"dim": 1, "descending": False, "stable": True},
        ref,
        F32,
        dtypes.int64,
        name="special",
    )
    yield Sample(
        (Input(x),),
        {},
        lambda x: np.argsort(x, axis=0, kind="stable"),
        F64,
        dtypes.int64,
        name="negdim",
        call=lambda t: ops.argsort(t, -2),
    )
