"""Samples for the 3-d composites of `somegrad.ops.nn`: conv3d and its backward ops,
max_pool_indices (any number of spatial dims), max_pool3d and avg_pool3d. References loop over
kernel taps or output positions in NumPy."""

from __future__ import annotations

import itertools
import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import FLOATS, ErrorSample, Input, Sample, distinct, register_samples, values
from somegrad.testing.samples.nn import _grad_of, _nn, _numeric_vjp

F32, F64 = dtypes.float32, dtypes.float64


def _conv_params(stride=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1), groups=1):
    return {"stride": stride, "padding": tuple((p, p) for p in padding), "dilation": dilation, "groups": groups}


def _out(sizes, kernel, stride, padding, dilation):
    return tuple(
        (n + b + a - d * (k - 1) - 1) // s + 1
        for n, k, s, (b, a), d in zip(sizes, kernel, stride, padding, dilation, strict=True)
    )


def _conv3d(x, w, stride, padding, dilation, groups):
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    out = _out(x.shape[2:], w.shape[2:], stride, padding, dilation)
    result = np.zeros((x.shape[0], w.shape[0]) + out)
    cg, og = w.shape[1], w.shape[0] // groups
    for tap in np.ndindex(w.shape[2:]):
        key = tuple(
            slice(t * d, t * d + s * (n - 1) + 1, s) for t, d, s, n in zip(tap, dilation, stride, out, strict=True)
        )
        patch = xp[(slice(None), slice(None)) + key]
        for g in range(groups):
            taps = w[(slice(g * og, (g + 1) * og), slice(None)) + tap]
            result[:, g * og : (g + 1) * og] += np.einsum("nc...,oc->no...", patch[:, g * cg : (g + 1) * cg], taps)
    return result


_CONV_CASES = (
    ("plain", (2, 2, 4, 4, 4), (3, 2, 2, 2, 2), _conv_params()),
    ("stride-padding", (1, 2, 4, 5, 3), (2, 2, 3, 2, 2), _conv_params((2, 1, 2), (1, 0, 1))),
    ("dilation-groups", (1, 4, 5, 4, 4), (2, 2, 2, 2, 2), _conv_params(dilation=(2, 1, 2), groups=2)),
)


def _apply(op, params):
    from somegrad.ops.dispatch import apply
    from somegrad.ops.spec import OPS

    return lambda *tensors: apply(OPS[op], tensors, params)


@register_samples("conv3d")
def _conv3d_samples():
    for name, x_shape, w_shape, params in _CONV_CASES:
        yield Sample((Input(values(x_shape)), Input(values(w_shape, key="w"))), params, _conv3d, F64, name=name)
    for dtype in FLOATS:
        yield Sample(
            (Input(values((1, 2, 3, 4, 4))), Input(values((3, 2, 2, 2, 2), key="w"))),
            _conv_params(),
            _conv3d,
            dtype,
            name="dtype",
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (Input(values((1, 2, 3, 4, 4)), layout="transposed"), Input(values((3, 2, 2, 2, 2), key="w"))),
        _conv_params(),
        _conv3d,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(values((0, 2, 3, 3, 3))), Input(values((3, 2, 2, 2, 2), key="w"))),
        _conv_params(),
        _conv3d,
        F64,
        name="empty-batch",
        grad=False,
    )
    yield Sample(
        (Input(values((2, 3, 3, 3))), Input(values((2, 2, 3, 3, 3), key="w"))),
        {},
        lambda x, w: _conv3d(x[None], w, **_conv_params(padding=(1, 1, 1)))[0],
        F64,
        name="public-unbatched-padded",
        call=lambda x, w: _nn().conv3d(x, w, padding=1),
    )
    yield ErrorSample(
        (Input(values((1, 3, 3, 3, 3))), Input(values((2, 2, 1, 1, 1)))),
        {},
        RuntimeError,
        "conv3d",
        name="bad-channels",
        call=lambda x, w: _nn().conv3d(x, w),
    )
    yield ErrorSample(
        (Input(values((1, 2, 4))), Input(values((2, 2, 1, 1, 1)))),
        {},
        RuntimeError,
        "conv3d",
        name="bad-ndim",
        call=lambda x, w: _nn().conv3d(x, w),
    )
    yield ErrorSample(
        (Input(values((1, 2, 2, 2, 2))), Input(values((2, 2, 3, 3, 3)))),
        {},
        RuntimeError,
        "larger than",
        name="kernel-too-big",
        call=lambda x, w: _nn().conv3d(x, w),
    )


def _conv_backward_samples(wrt):
    for name, x_shape, w_shape, params in _CONV_CASES:
        out_shape = _conv3d(np.zeros(x_shape), np.zeros(w_shape), **params).shape
        yield Sample(
            (Input(values(x_shape)), Input(values(w_shape, key="w")), Input(values(out_shape, key="g"))),
            {},
            _numeric_vjp(lambda x, w, params=params: _conv3d(x, w, **params), wrt),
            F64,
            name=name,
            call=_grad_of(_apply("conv3d", params), wrt),
            grad=False,
        )
    yield Sample(
        (
            Input(values((1, 2, 3, 3, 3))),
            Input(values((2, 2, 2, 2, 2), key="w")),
            Input(values((1, 2, 2, 2, 2), key="g")),
        ),
        {},
        _numeric_vjp(lambda x, w: _conv3d(x, w, **_conv_params()), wrt),
        F32,
        name="float32",
        call=_grad_of(_apply("conv3d", _conv_params()), wrt),
        grad=False,
        rtol=1e-5,
    )


register_samples("conv3d_backward_input")(lambda: _conv_backward_samples(0))
register_samples("conv3d_backward_weight")(lambda: _conv_backward_samples(1))


# --- pooling ---------------------------------------------------------------------------------
def _windows(x, kernel_size, stride, padding, dilation, fill):
    """(out position, window values, window flat indices) of x (N, C, *spatial), padded with fill."""
    spatial = x.shape[2:]
    x = np.asarray(x, dtype=np.float64)  # integers too, to be padded with -inf
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding), constant_values=fill)
    positions = np.pad(np.arange(math.prod(spatial)).reshape(spatial), tuple(padding), constant_values=-1)
    out = _out(spatial, kernel_size, stride, padding, dilation)
    for o in itertools.product(*(range(n) for n in out)):
        key = tuple(
            slice(i * s, i * s + d * (k - 1) + 1, d)
            for i, s, d, k in zip(o, stride, dilation, kernel_size, strict=True)
        )
        window = xp[(slice(None), slice(None)) + key].reshape(x.shape[:2] + (-1,))
        yield o, window, positions[key].reshape(-1)


def _pool_params(kernel_size, stride=None, padding=None, dilation=None):
    dims = len(kernel_size)
    return {
        "kernel_size": kernel_size,
        "stride": stride or kernel_size,
        "padding": padding or ((0, 0),) * dims,
        "dilation": dilation or (1,) * dims,
    }


def _max_pool_indices(x, kernel_size, stride, padding, dilation):
    out = _out(x.shape[2:], kernel_size, stride, padding, dilation)
    result = np.zeros(x.shape[:2] + out, dtype=np.int64)
    for o, window, where in _windows(x, kernel_size, stride, padding, dilation, -np.inf):
        result[(slice(None), slice(None)) + o] = where[np.argmax(window, axis=-1)]
    return result


def _max_pool(x, kernel_size, stride, padding, dilation):
    out = _out(x.shape[2:], kernel_size, stride, padding, dilation)
    result = np.zeros(x.shape[:2] + out)
    for o, window, _ in _windows(x, kernel_size, stride, padding, dilation, -np.inf):
        result[(slice(None), slice(None)) + o] = window.max(axis=-1)
    return result


def _avg_pool(x, kernel_size, stride, padding, dilation, count_include_pad, divisor_override):
    out = _out(x.shape[2:], kernel_size, stride, padding, dilation)
    result = np.zeros(x.shape[:2] + out)
    # the counted region: the input and, with count_include_pad, its symmetric padding
    before = [b for b, _ in padding]
    if count_include_pad:
        region = np.ones(tuple(n + 2 * b for n, b in zip(x.shape[2:], before, strict=True)))
    else:
        region = np.pad(np.ones(x.shape[2:]), tuple((b, b) for b in before))
    extra = tuple((0, a - b) for b, a in padding)
    region = np.pad(region, extra)[None, None]
    counts = {o: w.sum() for o, w, _ in _windows(region, kernel_size, stride, ((0, 0),) * len(before), dilation, 0)}
    for o, window, _ in _windows(x, kernel_size, stride, padding, dilation, 0.0):
        divisor = divisor_override or counts[o]
        result[(slice(None), slice(None)) + o] = window.sum(axis=-1) / divisor
    return result


_INDEX_CASES = (
    ("2d", (2, 3, 4, 6), _pool_params((2, 2))),
    ("1d-padded", (2, 2, 9), _pool_params((3,), (2,), ((1, 1),))),
    ("3d", (1, 2, 4, 4, 4), _pool_params((2, 2, 2))),
    ("3d-all", (1, 2, 5, 5, 4), _pool_params((3, 2, 2), (2, 1, 2), ((1, 1), (1, 1), (0, 1)), (1, 2, 1))),
)


@register_samples("max_pool_indices")
def _indices_samples():
    for name, shape, params in _INDEX_CASES:
        yield Sample((Input(distinct(shape)),), params, _max_pool_indices, F64, out_dtype=dtypes.int64, name=name)
    for dtype in FLOATS[:2] + (dtypes.int32,):
        yield Sample(
            (Input(distinct((2, 2, 4, 4), spacing=1.0)),),
            _pool_params((2, 2)),
            _max_pool_indices,
            dtype,
            out_dtype=dtypes.int64,
            name="dtype",
        )
    yield Sample(
        (Input(distinct((1, 2, 4, 4, 4)), layout="transposed"),),
        _pool_params((2, 2, 2)),
        _max_pool_indices,
        F64,
        out_dtype=dtypes.int64,
        name="transposed",
    )
    yield ErrorSample((Input(values((2, 4))),), _pool_params((2,)), RuntimeError, "max_pool_indices", name="ndim")


_POOL3D_CASES = (
    ("2x2x2", (2, 2, 4, 4, 4), _pool_params((2, 2, 2))),
    ("stride-padding", (1, 2, 5, 5, 5), _pool_params((3, 3, 3), (2, 2, 2), ((1, 1),) * 3)),
    ("ceil-overhang", (1, 1, 3, 5, 5), _pool_params((2, 2, 2), padding=((0, 1), (0, 1), (0, 1)))),
)


@register_samples("max_pool3d")
def _max_pool3d_samples():
    for name, shape, params in _POOL3D_CASES + (
        ("dilation", (1, 1, 4, 5, 5), _pool_params((2, 2, 2), (1, 1, 1), None, (2, 1, 2))),
    ):
        yield Sample((Input(distinct(shape)),), params, _max_pool, F64, name=name)
    for dtype in FLOATS:
        yield Sample((Input(distinct((1, 2, 4, 4, 4))),), _pool_params((2, 2, 2)), _max_pool, dtype, name="dtype")
    yield Sample(
        (Input(distinct((1, 2, 4, 4, 4), spacing=1.0)),), _pool_params((2, 2, 2)), _max_pool, dtypes.int64, name="int64"
    )
    yield Sample(
        (Input(distinct((2, 4, 4, 4))),),
        {},
        lambda x: _max_pool(x[None], **_pool_params((2, 2, 2)))[0],
        F64,
        name="public-unbatched",
        call=lambda x: _nn().max_pool3d(x, 2),
    )
    yield Sample(
        (Input(distinct((1, 1, 3, 5, 5))),),
        {},
        lambda x: _max_pool(x, **_POOL3D_CASES[2][2]),
        F64,
        name="public-ceil",
        call=lambda x: _nn().max_pool3d(x, 2, ceil_mode=True),
    )
    yield ErrorSample(
        (Input(values((1, 1, 2, 3, 3))),),
        {},
        RuntimeError,
        "pad should be at most half",
        name="padding",
        call=lambda x: _nn().max_pool3d(x, 2, padding=2),
    )
    yield ErrorSample(
        (Input(values((1, 2, 4))),), {}, RuntimeError, "max_pool3d", name="ndim", call=lambda x: _nn().max_pool3d(x, 1)
    )


def _avg_params(count_include_pad=True, divisor_override=0, **pool):
    return {**pool, "count_include_pad": count_include_pad, "divisor_override": divisor_override}


@register_samples("avg_pool3d")
def _avg_pool3d_samples():
    for name, shape, params in _POOL3D_CASES:
        for include in (True, False):
            yield Sample(
                (Input(values(shape)),),
                _avg_params(include, **params),
                _avg_pool,
                F64,
                name=f"{name}-{'include' if include else 'exclude'}",
            )
    yield Sample(
        (Input(values((1, 2, 4, 4, 4))),),
        _avg_params(True, 3, **_pool_params((2, 2, 2))),
        _avg_pool,
        F64,
        name="divisor",
    )
    for dtype in FLOATS:
        yield Sample(
            (Input(values((1, 2, 4, 4, 4))),),
            _avg_params(**_pool_params((2, 2, 2))),
            _avg_pool,
            dtype,
            name="dtype",
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (Input(values((1, 2, 4, 4, 4)), layout="transposed"),),
        _avg_params(**_pool_params((2, 2, 2))),
        _avg_pool,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(values((1, 1, 3, 5, 5))),),
        {},
        lambda x: _avg_pool(x, **_avg_params(**_POOL3D_CASES[2][2])),
        F64,
        name="public-ceil",
        call=lambda x: _nn().avg_pool3d(x, 2, ceil_mode=True),
    )
    yield ErrorSample(
        (Input(values((1, 1, 4, 4, 4))),),
        {},
        RuntimeError,
        "pad should be at most half",
        name="padding",
        call=lambda x: _nn().avg_pool3d(x, 2, padding=2),
    )
