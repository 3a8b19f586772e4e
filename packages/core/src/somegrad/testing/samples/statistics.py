"""Samples for `somegrad.ops.statistics`: var_mean, std_mean, aminmax, nansum, nanmean, the medians,
the quantiles and mode.

The ops with two outputs are checked one output at a time, through their public function (as
`multi_output.py` does for sort and max). Values are distinct where gradients are checked, so
that no tie makes the selection ambiguous; ties get their own samples (mode's smallest most
frequent value at its last occurrence; aminmax's shared gradient)."""

from __future__ import annotations

import math

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
NAN = math.nan


def _sg():
    import somegrad

    return somegrad


def _pick(call, output):
    def picked(*tensors):
        return call(*tensors)[output]

    return picked


def _with_nans(shape, key):
    x = distinct(shape, key=key)
    x.reshape(-1)[::3] = NAN
    return x


# --- var_mean, std_mean ---------------------------------------------------------------------------
def _moments(op, spread):
    @register_samples(op)
    def samples():
        x = values((3, 4), key=op)
        for dtype in FLOATS:
            for output in (0, 1):
                yield Sample(
                    (Input(x),),
                    {},
                    lambda x, o=output: spread(x, axis=1, ddof=1) if o == 0 else np.mean(x, axis=1),
                    dtype,
                    name=f"dim1-{output}",
                    call=_pick(lambda t: getattr(_sg(), op)(t, 1), output),
                )
        for correction in (0, 2):
            yield Sample(
                (Input(x),),
                {},
                lambda x, c=correction: spread(x, axis=0, ddof=c, keepdims=True),
                F64,
                name=f"correction{correction}-keepdim",
                call=_pick(lambda t, c=correction: getattr(_sg(), op)(t, 0, keepdim=True, correction=c), 0),
            )
        yield Sample(
            (Input(x),),
            {},
            lambda x: spread(x, ddof=0),
            F64,
            name="all-unbiased-false",
            call=_pick(lambda t: getattr(_sg(), op)(t, unbiased=False), 0),
        )
        yield Sample(
            (Input(x, layout="transposed"),),
            {},
            lambda x: spread(x, axis=-1, ddof=1),
            F64,
            name="negdim-transposed",
            call=_pick(lambda t: getattr(_sg(), op)(t, -1, True), 0),
        )
        yield Sample(
            (Input(values((2, 3, 4), key=op)),),
            {"dim": (0, 2), "correction": 1, "keepdim": False},
            lambda x, dim, correction, keepdim: spread(x, axis=dim, ddof=correction),
            F64,
            name="dims02",
            call=_pick(lambda t: getattr(_sg(), op)(t, (0, 2)), 0),
        )
        yield ErrorSample(
            (Input(values((2, 3), 0, 5, integer=True)),),
            {},
            RuntimeError,
            "needs a floating point input",
            dtype=I64,
            call=lambda t: getattr(_sg(), op)(t),
            name="int",
        )

    return samples


_moments("var_mean", np.var)
_moments("std_mean", np.std)


# --- aminmax ---------------------------------------------------------------------------------------
@register_samples("aminmax")
def _aminmax_samples():
    x = distinct((3, 4), key="aminmax")
    for dtype in FLOATS + INTEGERS:
        data = x if dtype.is_floating_point else values((3, 4), 0, 9, integer=True, key="aminmax")
        for output, reference in ((0, np.min), (1, np.max)):
            yield Sample(
                (Input(data),),
                {},
                lambda x, r=reference: r(x, axis=1),
                dtype,
                name=f"dim1-{output}",
                call=_pick(lambda t: _sg().aminmax(t, dim=1), output),
                grad=dtype.is_floating_point,
            )
    yield Sample(
        (Input(x),),
        {},
        lambda x: np.max(x),
        F64,
        name="all",
        call=lambda t: _sg().aminmax(t).max,
    )
    yield Sample(
        (Input(x, layout="transposed"),),
        {},
        lambda x: np.min(x, axis=0, keepdims=True),
        F64,
        name="dim0-keepdim-transposed",
        call=lambda t: _sg().aminmax(t, dim=-2, keepdim=True).min,
    )
    ties = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, -1.0, 2.0, -1.0]])
    yield Sample(
        (Input(ties),),
        {},
        lambda x: np.max(x, axis=1),
        F64,
        name="ties",
        call=lambda t: _sg().aminmax(t, dim=1).max,
        grad_order=1,
    )
    yield Sample((Input(np.array(2.5)),), {}, lambda x: x, F64, name="0d", call=lambda t: _sg().aminmax(t).min)
    yield ErrorSample(
        (Input(np.zeros((0, 3))),),
        {},
        RuntimeError,
        "cannot compute aminmax over an empty dimension",
        call=lambda t: _sg().aminmax(t, dim=0),
        name="empty",
    )


# --- nansum, nanmean ------------------------------------------------------------------------------
def _nan_reduction(op, reference, int_dtypes):
    @register_samples(op)
    def samples():
        x = _with_nans((3, 4), op)
        for dtype in FLOATS:
            for dim, keepdim in (((1,), False), ((0,), True), ((0, 1), False)):
                yield Sample(
                    (Input(x),),
                    {"dim": dim, "keepdim": keepdim},
                    lambda x, dim, keepdim: reference(x, axis=dim, keepdims=keepdim),
                    dtype,
                    name=f"dim{dim}-keep{keepdim}",
                )
        yield Sample(
            (Input(values((3, 4), key=op), layout="transposed"),),
            {},
            lambda x: reference(x, axis=-1),
            F64,
            name="negdim-transposed",
            call=lambda t: getattr(_sg(), op)(t, -1),
        )
        yield Sample((Input(x),), {}, lambda x: reference(x), F64, name="all", call=lambda t: getattr(_sg(), op)(t))
        yield Sample(
            (Input(np.full((2, 3), NAN)),),
            {"dim": (1,), "keepdim": False},
            lambda x, dim, keepdim: reference(x, axis=dim),
            F64,
            name="all-nan",
            grad=False,
        )
        yield Sample(
            (Input(np.zeros((0, 3))),),
            {"dim": (1,), "keepdim": False},
            lambda x, dim, keepdim: reference(x, axis=dim),
            F64,
            name="size0",
        )
        for dtype in int_dtypes:
            yield Sample(
                (Input(values((3, 4), 0, 9, integer=True, key=op)),),
                {},
                lambda x: np.sum(x, axis=1).astype(np.int64),
                dtype,
                I64,
                name="int",
                call=lambda t: getattr(_sg(), op)(t, 1),
            )
        if not int_dtypes:
            yield ErrorSample(
                (Input(values((2, 3), 0, 5, integer=True)),),
                {},
                RuntimeError,
                "needs a floating point input",
                dtype=I64,
                call=lambda t: getattr(_sg(), op)(t),
                name="int",
            )

    return samples


_nan_reduction("nansum", np.nansum, INTEGERS + (dtypes.bool_,))
_nan_reduction("nanmean", np.nanmean, ())


# --- median, nanmedian ----------------------------------------------------------------------------
def _median_reference(ignore_nan, axis, output, keepdims=False):
    def reference(x):
        if output == 1:
            # the position of the lower median (distinct values), or of the first NaN
            n = x.shape[axis]
            order = np.argsort(x, axis=axis, kind="stable")
            nans = np.isnan(x).sum(axis=axis, keepdims=True)
            k = np.maximum(n - nans - 1, 0) // 2 if ignore_nan else np.where(nans > 0, n - nans, (n - 1) // 2)
            out = np.take_along_axis(order, k, axis)
            return out if keepdims else np.squeeze(out, axis)
        quantile = np.nanquantile if ignore_nan else np.quantile
        return quantile(x, 0.5, axis=axis, method="lower", keepdims=keepdims)

    return reference


def _medians(op, ignore_nan):
    @register_samples(op)
    def samples():
        x = distinct((3, 5), key=op)
        even = distinct((4, 4), key=(op, "even"))
        public = lambda *a, **k: getattr(_sg(), op)(*a, **k)  # noqa: E731
        for dtype in FLOATS + INTEGERS:
            data = x if dtype.is_floating_point else values((3, 5), 0, 50, integer=True, key=op)
            for output, out_dtype in ((0, dtype), (1, I64)):
                if output == 1 and not dtype.is_floating_point:
                    continue  # equal integers: PyTorch's index among them is its sort's
                yield Sample(
                    (Input(data),),
                    {},
                    _median_reference(ignore_nan, 1, output),
                    dtype,
                    out_dtype,
                    name=f"dim1-{output}",
                    call=_pick(lambda t: public(t, 1), output),
                    grad=output == 0 and dtype.is_floating_point,
                )
        for output, out_dtype in ((0, F64), (1, I64)):
            yield Sample(
                (Input(even, layout="transposed"),),
                {},
                _median_reference(ignore_nan, 0, output, keepdims=True),
                F64,
                out_dtype,
                name=f"even-dim0-keepdim-{output}",
                call=_pick(lambda t: public(t, -2, keepdim=True), output),
                grad=output == 0,
            )
            nans = _with_nans((3, 5), (op, "nan"))
            nans[2] = NAN
            yield Sample(
                (Input(nans),),
                {},
                _median_reference(ignore_nan, 1, output),
                F64,
                out_dtype,
                name=f"nan-{output}",
                call=_pick(lambda t: public(t, 1), output),
                grad=False,
            )
        yield Sample((Input(np.array(2.5)),), {}, lambda x: x, F64, name="0d", call=_pick(lambda t: public(t, 0), 0))
        yield Sample(
            (Input(np.zeros((0, 3))),),
            {},
            lambda x: np.zeros((0,)),
            F64,
            name="size0-other-dim",
            call=_pick(lambda t: public(t, 0 + 1), 0),
        )
        yield ErrorSample(
            (Input(np.zeros((2, 0))),),
            {},
            IndexError,
            "to have non-zero size",
            call=lambda t: public(t, 1),
            name="empty-dim",
        )

    return samples


_medians("median", False)
_medians("nanmedian", True)


def _whole_medians(op, public_name, ignore_nan):
    quantile = np.nanquantile if ignore_nan else np.quantile

    @register_samples(op)
    def samples():
        for dtype in FLOATS:
            yield Sample(
                (Input(distinct((3, 5), key=op)),), {}, lambda x: quantile(x, 0.5, method="lower"), dtype, name="3x5"
            )
        yield Sample(
            (Input(distinct((4, 4), key=op), layout="transposed"),),
            {},
            lambda x: quantile(x, 0.5, method="lower"),
            F64,
            name="even-transposed",
        )
        ties = np.array([[1.0, 2.0, 2.0], [3.0, 2.0, 0.0]])
        # ties share the gradient (not differentiable there: the parity tests compare it with PyTorch's)
        yield Sample((Input(ties),), {}, lambda x: quantile(x, 0.5, method="lower"), F64, name="ties", grad=False)
        yield Sample(
            (Input(_with_nans((3, 4), op)),),
            {},
            lambda x: quantile(x, 0.5, method="lower"),
            F64,
            name="nan",
            grad=False,
        )
        yield Sample((Input(np.zeros((0, 2))),), {}, lambda x: np.array(NAN), F64, name="size0", grad=False)
        yield Sample((Input(np.array(-1.5)),), {}, lambda x: x, F64, name="0d")
        for dtype in (dtypes.int32, I64):
            yield Sample(
                (Input(values((3, 4), -9, 9, integer=True, key=op)),),
                {},
                lambda x: np.sort(x.reshape(-1))[(x.size - 1) // 2],
                dtype,
                name="int",
                call=lambda t: getattr(_sg(), public_name)(t),
            )

    return samples


_whole_medians("median_all", "median", False)
_whole_medians("nanmedian_all", "nanmedian", True)


# --- quantile, nanquantile ------------------------------------------------------------------------
_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantiles(op, ignore_nan):
    reference_fn = np.nanquantile if ignore_nan else np.quantile

    def sample(x, q, dtype=F64, *, dim=None, keepdim=False, interpolation="linear", layout="contiguous", **kw):
        def call(t):
            q_tensor = _sg().tensor(q, dtype=t.dtype, device=t.device) if isinstance(q, np.ndarray) else q
            return getattr(_sg(), op)(t, q_tensor, dim, keepdim, interpolation=interpolation)

        def reference(x):
            axis = dim if dim is None or dim >= 0 else x.ndim + dim
            return reference_fn(x, q, axis=axis, keepdims=keepdim, method=interpolation)

        return Sample((Input(x, layout=layout),), {}, reference, dtype, call=call, **kw)

    @register_samples(op)
    def samples():
        x = distinct((3, 6), key=op)
        qs = np.array([0.0, 0.1, 0.25, 0.5, 0.7, 1.0])
        for interpolation in _METHODS:
            yield sample(x, qs, dim=1, interpolation=interpolation, name=f"dim1-{interpolation}")
        for dtype in (F32, F64):
            yield sample(x, np.array(0.3), dtype, name="all-0d-q")
        yield sample(x, qs[:3], dim=0, keepdim=True, interpolation="midpoint", name="dim0-keepdim")
        yield sample(x, 0.4, keepdim=True, interpolation="higher", layout="transposed", name="all-keepdim-transposed")
        yield sample(x, 0.75, dim=-1, name="negdim-float-q")
        # ranks x.5 round half to even under "nearest", as PyTorch's round does
        halves = distinct((1, 5), key=(op, "halves"))
        yield sample(halves, np.array([0.125, 0.375, 0.625, 0.875]), dim=1, interpolation="nearest", name="halves")
        nans = _with_nans((3, 6), (op, "nan"))
        nans[2] = NAN
        for interpolation in ("linear", "lower"):
            yield sample(nans, qs, dim=1, interpolation=interpolation, name=f"nan-{interpolation}", grad=False)
        # q as an input of the op: its gradient (through the linear weights) is checked too
        yield Sample(
            (Input(x), Input(np.array([0.35, 0.62]))),
            {"dim": 1, "keepdim": False, "interpolation": "linear"},
            lambda x, q, dim, keepdim, interpolation: reference_fn(x, q, axis=dim, method=interpolation),
            F64,
            name="q-input",
        )
        yield ErrorSample(
            (Input(x),),
            {},
            RuntimeError,
            "q must be in the range [0, 1]",
            call=lambda t: getattr(_sg(), op)(t, 1.5),
            name="q-range",
        )
        yield ErrorSample(
            (Input(x), Input(np.array([0.5, -0.1]))),
            {},
            RuntimeError,
            "q values must be in the range [0, 1]",
            call=lambda t, q: getattr(_sg(), op)(t, q),
            name="q-tensor-range",
        )
        yield ErrorSample(
            (Input(x), Input(np.array([0.5]), dtype=F32)),
            {"dim": 1, "keepdim": False, "interpolation": "linear"},
            RuntimeError,
            "q has dtype float32, but it must have the input's, float64",
            dtype=F64,
            name="q-dtype",
        )
        yield ErrorSample(
            (Input(x), Input(np.full((2, 2), 0.5))),
            {"dim": 1, "keepdim": False, "interpolation": "linear"},
            RuntimeError,
            "q must be a scalar or 1D tensor",
            name="q-2d",
        )
        yield ErrorSample(
            (Input(np.zeros((0,))), Input(np.array(0.5))),
            {"dim": None, "keepdim": False, "interpolation": "linear"},
            RuntimeError,
            "must be non-empty",
            name="empty",
        )
        yield ErrorSample(
            (Input(x), Input(np.array(0.5))),
            {"dim": 1, "keepdim": False, "interpolation": "cubic"},
            RuntimeError,
            "interpolation must be one of",
            name="interpolation",
        )

    return samples


_quantiles("quantile", False)
_quantiles("nanquantile", True)


# --- mode ------------------------------------------------------------------------------------------
def _mode_reference(axis, output, keepdims=False):
    def reference(x):
        moved = np.moveaxis(x, axis, -1)
        flat = moved.reshape(-1, moved.shape[-1])
        values_out, indices_out = [], []
        for row in flat:
            unique, counts = np.unique(row, return_counts=True)
            value = unique[np.argmax(counts)]  # the first most frequent: the smallest
            values_out.append(value)
            indices_out.append(np.flatnonzero(row == value)[-1])  # its last occurrence
        out = np.array(indices_out if output == 1 else values_out).reshape(moved.shape[:-1])
        return np.expand_dims(out, axis) if keepdims else out

    return reference


@register_samples("mode")
def _mode_samples():
    repeats = np.array(
        [[3.0, 1.0, 1.0, 3.0, 2.0, 1.0, 3.0], [5.0, 5.0, 2.0, 2.0, 7.0, 7.0, 0.0], [4, 3, 2, 1, 0, 6, 5]]
    )
    for dtype in FLOATS + INTEGERS:
        data = repeats if dtype is not dtypes.uint8 else np.abs(repeats)
        for output, out_dtype in ((0, dtype), (1, I64)):
            yield Sample(
                (Input(data),),
                {},
                _mode_reference(1, output),
                dtype,
                out_dtype,
                name=f"repeats-{output}",
                call=_pick(lambda t: _sg().mode(t), output),
                grad=False,  # ties: the parity tests compare the gradient with PyTorch's
            )
    for output, out_dtype in ((0, F64), (1, I64)):
        yield Sample(
            (Input(repeats.T.copy(), layout="transposed"),),
            {},
            _mode_reference(0, output, keepdims=True),
            F64,
            out_dtype,
            name=f"dim0-keepdim-transposed-{output}",
            call=_pick(lambda t: _sg().mode(t, -2, keepdim=True), output),
            grad=False,
        )
    yield Sample((Input(np.array(2.5)),), {}, lambda x: x, F64, name="0d", call=_pick(lambda t: _sg().mode(t), 0))
    yield ErrorSample(
        (Input(np.zeros((2, 0))),),
        {},
        IndexError,
        "to have non-zero size",
        call=lambda t: _sg().mode(t),
        name="empty-dim",
    )
