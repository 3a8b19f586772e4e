"""Samples for the composites in `somegrad.ops.nn` over sequences and images:
scaled_dot_product_attention, conv2d, max_pool2d, avg_pool2d, and the ops that compute their
backward passes (the helpers and conventions are those of `somegrad.testing.samples.nn`)."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    FLOATS,
    ErrorSample,
    Input,
    Sample,
    distinct,
    register_samples,
    values,
)
from somegrad.testing.samples.nn import _grad_of, _nn, _numeric_vjp

F32, F64 = dtypes.float32, dtypes.float64
I64 = dtypes.int64


# --- attention -------------------------------------------------------------------------------
def _attention(q, k, v, mask=None, is_causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    scores = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    return (p / p.sum(axis=-1, keepdims=True)) @ v


@register_samples("scaled_dot_product_attention")
def _attention_samples():
    def call_with(**params):
        return lambda q, k, v, *mask: _nn().scaled_dot_product_attention(q, k, v, *mask, **params)

    q, k, v = values((2, 3, 4), key="q"), values((2, 5, 4), key="k"), values((2, 5, 2), key="v")
    for dtype in FLOATS:
        yield Sample(
            (Input(q), Input(k), Input(v)),
            {},
            _attention,
            dtype,
            name="3d",
            call=call_with(),
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (
            Input(values((2, 4, 4), key="q")),
            Input(values((2, 4, 4), key="k")),
            Input(values((2, 4, 3))),
        ),
        {},
        lambda q, k, v: _attention(q, k, v, is_causal=True),
        F64,
        name="causal",
        call=call_with(is_causal=True),
    )
    yield Sample(
        (Input(q), Input(k), Input(v)),
        {},
        lambda q, k, v: _attention(q, k, v, scale=0.3),
        F64,
        name="scale",
        call=call_with(scale=0.3),
    )
    mask = np.array([[True, False, True, True, False]] * 3)
    yield Sample(
        (Input(q), Input(k), Input(v), Input(mask, dtypes.bool_)),
        {},
        _attention,
        F64,
        name="bool-mask",
        call=call_with(),
    )
    yield Sample(
        (Input(q), Input(k), Input(v), Input(values((3, 5), key="m"))),
        {},
        _attention,
        F64,
        name="float-mask",
        call=call_with(),
    )
    yield Sample(
        (Input(q * 100), Input(k * 100), Input(v)),
        {},
        _attention,
        F32,
        name="large-scores",
        call=call_with(),
        grad=False,
        rtol=1e-4,
        atol=1e-4,
    )
    yield Sample(
        (Input(q, layout="transposed"), Input(k, layout="stepped"), Input(v)),
        {},
        _attention,
        F64,
        name="non-contiguous",
        call=call_with(),
    )
    yield ErrorSample(
        (Input(q), Input(values((2, 5, 3))), Input(v)),
        {},
        ValueError,
        "scaled_dot_product_attention",
        name="bad-key",
        call=call_with(),
    )


def _probabilities(q, k, mask=None, is_causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    if mask is not None:
        scores = scores + mask
    scores = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    return p / p.sum(axis=-1, keepdims=True)


def _call_probabilities(is_causal=False, scale=0.5):
    def call(q, k, *mask):
        from somegrad.ops.creation import zeros

        mask = mask[0] if mask else zeros((), dtype=q.dtype, device=q.device)
        return _nn().attention.attention_probabilities(q, k, mask, is_causal, scale)

    return call


@register_samples("attention_probabilities")
def _probabilities_samples():
    q, k = values((2, 3, 4), key="q"), values((2, 5, 4), key="k")
    for dtype in FLOATS:
        yield Sample(
            (Input(q), Input(k)),
            {},
            lambda q, k: _probabilities(q, k, scale=0.5),
            dtype,
            name="3d",
            call=_call_probabilities(),
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (Input(values((2, 4, 4), key="q")), Input(values((2, 4, 4), key="k"))),
        {},
        lambda q, k: _probabilities(q, k, is_causal=True, scale=0.5),
        F64,
        name="causal",
        call=_call_probabilities(is_causal=True),
    )
    yield Sample(
        (Input(q), Input(k), Input(values((3, 5), key="m"))),
        {},
        lambda q, k, m: _probabilities(q, k, m, scale=0.5),
        F64,
        name="float-mask",
        call=_call_probabilities(),
    )
    yield Sample(
        (Input(q, layout="transposed"), Input(k, layout="stepped")),
        {},
        lambda q, k: _probabilities(q, k, scale=0.5),
        F64,
        name="non-contiguous",
        call=_call_probabilities(),
    )
    yield ErrorSample(
        (Input(q), Input(values((2, 5, 3)))),
        {},
        ValueError,
        "scaled_dot_product_attention",
        name="bad-key",
        call=_call_probabilities(),
    )


@register_samples("attention_probabilities_backward")
def _probabilities_backward_samples():
    def case(name, q, k, mask=None, is_causal=False):
        tensors = (q, k) if mask is None else (q, k, mask)
        out_shape = _probabilities(*tensors, is_causal=is_causal, scale=0.5).shape
        inputs = tuple(Input(t) for t in tensors) + (Input(values(out_shape, key="g")),)
        forward = _call_probabilities(is_causal=is_causal)
        reference = lambda *arrays: _probabilities(*arrays, is_causal=is_causal, scale=0.5)  # noqa: E731
        for wrt in range(2):
            for dtype in (F32, F64):
                yield Sample(
                    inputs,
                    {},
                    _numeric_vjp(reference, wrt),
                    dtype,
                    name=f"{name}-{'qk'[wrt]}",
                    grad=False,
                    call=_grad_of(forward, wrt),
                    rtol=1e-4 if dtype is F32 else 1e-6,
                    atol=1e-5 if dtype is F32 else 1e-7,
                )

    q, k = values((2, 3, 4), key="q"), values((2, 5, 4), key="k")
    yield from case("3d", q, k)
    yield from case("causal", values((2, 4, 4), key="q"), values((2, 4, 4), key="k"), is_causal=True)
    yield from case("float-mask", q, k, values((3, 5), key="m"))
    yield from case("broadcast-query", q[:1], k)


# --- convolution and pooling -----------------------------------------------------------------
def _conv2d(x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    n, c, h, width = x.shape
    o, cg, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    oh = (x.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (x.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for oc in range(o):
        g = oc // per_group
        for i in range(oh):
            for j in range(ow):
                patch = x[
                    :,
                    g * cg : (g + 1) * cg,
                    i * stride[0] : i * stride[0] + dilation[0] * (kh - 1) + 1 : dilation[0],
                    j * stride[1] : j * stride[1] + dilation[1] * (kw - 1) + 1 : dilation[1],
                ]
                out[:, oc, i, j] = np.sum(patch * w[oc], axis=(1, 2, 3))
    return out


_CONV_CASES = (
    ("plain", (2, 3, 5, 5), (4, 3, 3, 3), {}),
    ("stride-padding", (1, 2, 6, 5), (3, 2, 3, 2), {"stride": (2, 1), "padding": (1, 2)}),
    ("dilation", (1, 2, 7, 7), (2, 2, 3, 3), {"dilation": (2, 2)}),
    ("groups", (1, 4, 4, 4), (6, 2, 2, 2), {"groups": 2}),
)


def _conv_call(params):
    return lambda x, w: _nn().conv2d(x, w, **params)


@register_samples("conv2d")
def _conv2d_samples():
    for name, x_shape, w_shape, params in _CONV_CASES:
        yield Sample(
            (Input(values(x_shape)), Input(values(w_shape, key="w"))),
            {},
            lambda x, w, params=params: _conv2d(x, w, **params),
            F64,
            name=name,
            call=_conv_call(params),
        )
    for dtype in FLOATS:
        yield Sample(
            (Input(values((2, 3, 5, 5))), Input(values((4, 3, 3, 3), key="w"))),
            {},
            _conv2d,
            dtype,
            name="dtype",
            call=_conv_call({}),
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (Input(values((2, 3, 5, 5)), layout="transposed"), Input(values((4, 3, 3, 3), key="w"))),
        {},
        _conv2d,
        F64,
        name="transposed",
        call=_conv_call({}),
    )
    yield ErrorSample(
        (Input(values((1, 3, 5, 5))), Input(values((4, 2, 3, 3)))),
        {},
        ValueError,
        "conv2d",
        name="bad-channels",
        call=_conv_call({}),
    )
    for name, params, match in (
        ("zero-stride", {"stride": 0}, "conv2d: stride (0, 0)"),
        ("negative-padding", {"padding": -1}, "conv2d: padding ((-1, -1), (-1, -1)) must be non-negative"),
    ):
        yield ErrorSample(
            (Input(values((1, 3, 5, 5))), Input(values((4, 3, 3, 3)))),
            {},
            ValueError,
            match,
            name=name,
            call=_conv_call(params),
        )


def _conv_backward_samples(wrt):
    for name, x_shape, w_shape, params in _CONV_CASES:
        out_shape = _conv2d(np.zeros(x_shape), np.zeros(w_shape), **params).shape
        reference = _numeric_vjp(lambda x, w, params=params: _conv2d(x, w, **params), wrt)
        yield Sample(
            (
                Input(values(x_shape)),
                Input(values(w_shape, key="w")),
                Input(values(out_shape, key="g")),
            ),
            {},
            reference,
            F64,
            name=name,
            call=_grad_of(_conv_call(params), wrt),
            grad=False,
        )
    yield Sample(
        (
            Input(values((2, 3, 5, 5))),
            Input(values((4, 3, 3, 3), key="w")),
            Input(values((2, 4, 3, 3), key="g")),
        ),
        {},
        _numeric_vjp(_conv2d, wrt),
        F32,
        name="float32",
        call=_grad_of(_conv_call({}), wrt),
        grad=False,
        rtol=1e-5,
    )


register_samples("conv2d_backward_input")(lambda: _conv_backward_samples(0))
register_samples("conv2d_backward_weight")(lambda: _conv_backward_samples(1))


def _windows(x, kernel, stride, padding, dilation, fill):
    """(N, C, OH, OW, kh*kw) windows of x padded with `fill`."""
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=fill)
    kh, kw = kernel
    oh = (x.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (x.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.empty(x.shape[:2] + (oh, ow, kh * kw))
    for i in range(oh):
        for j in range(ow):
            window = x[
                :,
                :,
                i * stride[0] : i * stride[0] + dilation[0] * (kh - 1) + 1 : dilation[0],
                j * stride[1] : j * stride[1] + dilation[1] * (kw - 1) + 1 : dilation[1],
            ]
            out[:, :, i, j] = window.reshape(x.shape[:2] + (-1,))
    return out


def _max_pool2d(x, kernel, stride=None, padding=(0, 0), dilation=(1, 1)):
    return _windows(x, kernel, stride or kernel, padding, dilation, -np.inf).max(axis=-1)


def _avg_pool2d(x, kernel, stride=None, padding=(0, 0), count_include_pad=True):
    total = _windows(x, kernel, stride or kernel, padding, (1, 1), 0.0).sum(axis=-1)
    if count_include_pad:
        return total / (kernel[0] * kernel[1])
    return total / _windows(np.ones_like(x), kernel, stride or kernel, padding, (1, 1), 0.0).sum(axis=-1)


_POOL_CASES = (
    ("2x2", (2, 3, 4, 4), {"kernel": (2, 2)}),
    ("stride-padding", (1, 2, 5, 5), {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1)}),
)


def _pool_call(op, params):
    def call(x):
        kwargs = {
            "kernel_size": params["kernel"],
            "stride": params.get("stride"),
            "padding": params.get("padding", 0),
        }
        if "count_include_pad" in params:
            kwargs["count_include_pad"] = params["count_include_pad"]
        return getattr(_nn(), op)(x, **kwargs)

    return call


def _pool_samples(op, reference, extra_cases=()):
    def samples():
        for name, shape, params in _POOL_CASES + extra_cases:
            # Distinct values keep max pooling away from ties, where it has no derivative.
            yield Sample(
                (Input(distinct(shape)),),
                {},
                lambda x, params=params: reference(x, **params),
                F64,
                name=name,
                call=_pool_call(op, params),
            )
        for dtype in FLOATS:
            yield Sample(
                (Input(distinct((2, 3, 4, 4))),),
                {},
                lambda x: reference(x, (2, 2)),
                dtype,
                name="dtype",
                call=_pool_call(op, {"kernel": (2, 2)}),
            )
        yield Sample(
            (Input(distinct((2, 3, 4, 4)), layout="transposed"),),
            {},
            lambda x: reference(x, (2, 2)),
            F64,
            name="transposed",
            call=_pool_call(op, {"kernel": (2, 2)}),
        )
        # ceil_mode: the last window overhangs the bottom edge by one row, which counts for nothing
        yield Sample(
            (Input(distinct((1, 2, 6, 7))),),
            {},
            lambda x: _overhang(reference, x),
            F64,
            name="ceil-mode",
            call=lambda x: getattr(_nn(), op)(x, 3, 2, ceil_mode=True),
        )
        yield ErrorSample(
            (Input(values((1, 1, 4, 4))),),
            {},
            RuntimeError,
            "pad should be at most half",
            name="padding-over-half",
            call=lambda x: getattr(_nn(), op)(x, 2, padding=2),
        )

    return samples


def _overhang(reference, x):
    """The ceil_mode result of a 3x3, stride-2 pool of (N, C, 6, 7): a 7th row that no real
    pixel is in (-inf for max, nothing counted for the mean)."""
    if reference is _max_pool2d:
        return _max_pool2d(np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 0)), constant_values=-np.inf), (3, 3), (2, 2))
    padded = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 0)))
    counts = np.pad(np.ones_like(x), ((0, 0), (0, 0), (0, 1), (0, 0)))
    return _avg_pool2d(padded, (3, 3), (2, 2)) / _avg_pool2d(counts, (3, 3), (2, 2))


def _pool_backward_samples(op, reference, extra_cases=()):
    def samples():
        for name, shape, params in _POOL_CASES + extra_cases:
            forward = lambda x, params=params: reference(x, **params)  # noqa: E731
            out_shape = forward(np.zeros(shape)).shape
            yield Sample(
                (Input(distinct(shape)), Input(values(out_shape, key="g"))),
                {},
                _numeric_vjp(forward),
                F64,
                name=name,
                call=_grad_of(_pool_call(op, params)),
                grad=False,
            )

    return samples


_AVG_EXTRA = (
    (
        "exclude-pad",
        (1, 2, 5, 5),
        {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1), "count_include_pad": False},
    ),
)
register_samples("max_pool2d")(_pool_samples("max_pool2d", _max_pool2d))
register_samples("max_pool2d_backward")(_pool_backward_samples("max_pool2d", _max_pool2d))
register_samples("avg_pool2d")(_pool_samples("avg_pool2d", _avg_pool2d, _AVG_EXTRA))
register_samples("avg_pool2d_backward")(_pool_backward_samples("avg_pool2d", _avg_pool2d, _AVG_EXTRA))

from somegrad.testing.samples import nn_spatial3d  # noqa: E402, F401  (conv3d, 3-d pools, indices)
