"""Samples for the composites in `somegrad.ops.nn`: linear, embedding, layer_norm, batch_norm,
cross_entropy, scaled_dot_product_attention, conv2d, max_pool2d, avg_pool2d, and the ops that
compute their backward passes.

The samples call the core's public wrappers (`somegrad.ops.nn.conv2d`, ...), which own the
argument handling. The `*_backward` ops run when a gradient is taken without `create_graph`,
so their samples take one with `autograd.grad`; their reference is the vector-Jacobian product
of the forward reference, by central differences in float64 (exact for the linear ones).
"""

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

F32, F64 = dtypes.float32, dtypes.float64
I64 = dtypes.int64


def _nn():
    from somegrad.ops import nn

    return nn


def _grad_of(forward, wrt=0):
    """A sample call: the gradient of `forward(*inputs[:-1])` for the cotangent `inputs[-1]`."""

    def call(*tensors):
        from somegrad import autograd

        *inputs, g = tensors
        inputs = [t.detach().requires_grad_() if t.dtype.is_floating_point else t for t in inputs]
        out = forward(*inputs)
        return autograd.grad(out, [inputs[wrt]], grad_outputs=g)[0]

    return call


def _numeric_vjp(reference, wrt=0, eps=1e-6):
    """The reference of a `_grad_of` sample: J^T g of `reference` by central differences."""

    def vjp(*arrays):
        *inputs, g = arrays
        x = np.array(inputs[wrt], dtype=np.float64)
        out = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            args = list(inputs)
            plus, minus = x.copy(), x.copy()
            plus[i] += eps
            minus[i] -= eps
            args[wrt] = plus
            f_plus = reference(*args)
            args[wrt] = minus
            f_minus = reference(*args)
            out[i] = np.sum(g * (f_plus - f_minus)) / (2 * eps)
        return out

    return vjp


# --- linear ----------------------------------------------------------------------------------
def _linear(x, w, b):
    return x @ w.T + b


@register_samples("linear")
def _linear_samples():
    call = lambda x, w, b: _nn().linear(x, w, b)  # noqa: E731
    for dtype in FLOATS:
        yield Sample(
            (Input(values((4, 3))), Input(values((5, 3), key=1)), Input(values((5,), key=2))),
            {},
            _linear,
            dtype,
            name="2d",
            call=call,
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (Input(values((2, 4, 3))), Input(values((5, 3), key=1)), Input(values((5,), key=2))),
        {},
        _linear,
        F64,
        name="3d",
        call=call,
    )
    yield Sample(
        (Input(values((0, 3))), Input(values((5, 3), key=1)), Input(values((5,), key=2))),
        {},
        _linear,
        F64,
        name="size0",
        call=call,
    )
    yield Sample(
        (
            Input(values((4, 3)), layout="transposed"),
            Input(values((5, 3), key=1), layout="transposed"),
            Input(values((5,), key=2)),
        ),
        {},
        _linear,
        F64,
        name="transposed",
        call=call,
    )
    yield ErrorSample(
        (Input(values((4, 3))), Input(values((5, 4))), Input(values((5,)))),
        {},
        ValueError,
        "linear",
        name="bad-in-features",
        call=call,
    )
    yield ErrorSample(
        (Input(np.array([[1, 2]]), I64), Input(values((3, 2))), Input(values((3,)))),
        {},
        TypeError,
        "linear: input of dtype int64 and weight of dtype float32",
        name="integer-input",
        call=call,
    )
    yield ErrorSample(
        (Input(np.zeros(())), Input(values((2, 1)))),
        {},
        ValueError,
        "linear",
        name="0d-input-no-bias",
        call=lambda x, w: _nn().linear(x, w),
    )


@register_samples("linear_backward")
def _linear_backward_samples():
    forward = lambda x, w, b: _nn().linear(x, w, b)  # noqa: E731
    for x_shape in ((4, 3), (2, 4, 3)):
        for wrt, name in enumerate(("input", "weight", "bias")):
            for dtype in (F32, F64):
                yield Sample(
                    (
                        Input(values(x_shape)),
                        Input(values((5, 3), key=1)),
                        Input(values((5,), key=2)),
                        Input(values(x_shape[:-1] + (5,), key=3)),
                    ),
                    {},
                    _numeric_vjp(_linear, wrt=wrt),
                    dtype,
                    name=f"{len(x_shape)}d-{name}",
                    call=_grad_of(forward, wrt=wrt),
                    grad=False,
                    rtol=1e-5 if dtype is F32 else 1e-7,
                    atol=1e-5 if dtype is F32 else 1e-8,
                )


# --- embedding -------------------------------------------------------------------------------
_INDICES = np.array([[0, 2, 2], [4, 0, 1]])


@register_samples("embedding")
def _embedding_samples():
    def call(weight, indices, padding_idx=None):
        return _nn().embedding(indices, weight, padding_idx)

    for dtype in FLOATS:
        yield Sample(
            (Input(values((5, 3))), Input(_INDICES, I64)),
            {},
            lambda w, i: w[i],
            dtype,
            name="2d",
            call=call,
        )
    yield Sample(
        (Input(values((5, 3))), Input(np.array(3), I64)),
        {},
        lambda w, i: w[i],
        F64,
        name="0d",
        call=call,
    )
    yield Sample(
        (Input(values((5, 3))), Input(np.zeros(0), I64)),
        {},
        lambda w, i: w[i],
        F64,
        name="size0",
        call=call,
    )
    yield Sample(
        (Input(values((5, 3)), layout="transposed"), Input(_INDICES, I64)),
        {},
        lambda w, i: w[i],
        F64,
        name="transposed",
        call=call,
    )
    yield Sample(
        (Input(values((5, 3))), Input(_INDICES, I64)),
        {},
        lambda w, i: w[i],
        F64,
        name="padding-idx",
        call=lambda w, i: call(w, i, padding_idx=2),
        grad=False,
    )
    yield ErrorSample(
        (Input(values((5, 3))), Input(np.array([0, 5]), I64)),
        {},
        IndexError,
        "out of range",
        name="out-of-range",
        call=call,
    )


@register_samples("embedding_backward")
def _embedding_backward_samples():
    def forward(weight, indices, padding_idx=None):
        return _nn().embedding(indices, weight, padding_idx)

    def reference(w, i, g, padding_idx=None):
        out = np.zeros_like(w)
        np.add.at(out, i, g)
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    inputs = (Input(values((5, 3))), Input(_INDICES, I64), Input(values((2, 3, 3), key="g")))
    for dtype in (F32, F64):
        yield Sample(inputs, {}, reference, dtype, name="repeated", call=_grad_of(forward), grad=False)
    yield Sample(
        inputs,
        {},
        lambda w, i, g: reference(w, i, g, 2),
        F64,
        name="padding-idx",
        grad=False,
        call=_grad_of(lambda w, i: forward(w, i, 2)),
    )


# --- layer_norm and batch_norm ---------------------------------------------------------------
def _layer_norm(x, w, b, dims=1, eps=1e-5):
    axes = tuple(range(x.ndim - dims, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


@register_samples("layer_norm")
def _layer_norm_samples():
    def call(x, w, b):
        return _nn().layer_norm(x, tuple(w.shape), w, b, 1e-5)

    for dtype in FLOATS:
        yield Sample(
            (Input(values((4, 6))), Input(values((6,), 0.5, 1.5)), Input(values((6,), key=1))),
            {},
            _layer_norm,
            dtype,
            name="2d",
            call=call,
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (Input(values((2, 3, 4))), Input(values((3, 4), 0.5, 1.5)), Input(values((3, 4), key=1))),
        {},
        lambda x, w, b: _layer_norm(x, w, b, dims=2),
        F64,
        name="two-dims",
        call=call,
    )
    yield Sample(
        (Input(values((0, 6))), Input(values((6,), 0.5, 1.5)), Input(values((6,), key=1))),
        {},
        _layer_norm,
        F64,
        name="size0",
        call=call,
    )
    yield Sample(
        (
            Input(values((4, 6)), layout="transposed"),
            Input(values((6,), 0.5, 1.5)),
            Input(values((6,), key=1)),
        ),
        {},
        _layer_norm,
        F64,
        name="transposed",
        call=call,
    )
    yield Sample(
        (Input(values((3, 6), 1000.0, 1001.0)), Input(np.ones(6)), Input(np.zeros(6))),
        {},
        _layer_norm,
        F32,
        name="large-offset",
        call=call,
        rtol=1e-2,
        atol=1e-2,
        grad=False,
    )
    yield ErrorSample(
        (Input(values((4, 6))), Input(values((5,))), Input(values((5,)))),
        {},
        ValueError,
        "layer_norm",
        name="bad-shape",
        call=call,
    )


@register_samples("layer_norm_backward")
def _layer_norm_backward_samples():
    def forward(x, w, b):
        return _nn().layer_norm(x, tuple(w.shape), w, b, 1e-5)

    inputs = (
        Input(values((3, 5))),
        Input(values((5,), 0.5, 1.5)),
        Input(values((5,), key=1)),
        Input(values((3, 5), key="g")),
    )
    for wrt, name in ((0, "input"), (1, "weight")):
        for dtype in (F32, F64):
            yield Sample(
                inputs,
                {},
                _numeric_vjp(_layer_norm, wrt),
                dtype,
                name=name,
                grad=False,
                call=_grad_of(forward, wrt),
                rtol=1e-5 if dtype is F32 else 1e-6,
                atol=1e-5 if dtype is F32 else 1e-7,
            )


def _batch_norm(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


@register_samples("batch_norm")
def _batch_norm_samples():
    def call(x, w, b):
        return _nn().batch_norm_train(x, w, b, 1e-5)

    for dtype in FLOATS:
        yield Sample(
            (Input(values((4, 3))), Input(values((3,), 0.5, 1.5)), Input(values((3,), key=1))),
            {},
            _batch_norm,
            dtype,
            name="2d",
            call=call,
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (Input(values((2, 3, 2, 2))), Input(values((3,), 0.5, 1.5)), Input(values((3,), key=1))),
        {},
        _batch_norm,
        F64,
        name="4d",
        call=call,
    )
    yield Sample(
        (
            Input(values((2, 3, 2, 2)), layout="transposed"),
            Input(values((3,), 0.5, 1.5)),
            Input(values((3,), key=1)),
        ),
        {},
        _batch_norm,
        F64,
        name="transposed",
        call=call,
    )
    yield ErrorSample(
        (Input(values((1, 3))), Input(values((3,)))),
        {},
        ValueError,
        "more than 1 value per channel",
        name="one-value",
        call=lambda x, w: call(x, w, w),
    )
    yield ErrorSample(
        (Input(values((4, 3))), Input(values((2,)))),
        {},
        ValueError,
        "batch_norm",
        name="bad-channels",
        call=lambda x, w: call(x, w, w),
    )


# --- cross_entropy ---------------------------------------------------------------------------
def _cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    n, c = x.shape
    weight = np.ones(c) if weight is None else weight
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    nll = -log_p[np.arange(n), safe] * weight[safe]
    smooth = -(log_p * weight).sum(axis=1) / c
    loss = np.where(valid, (1 - label_smoothing) * nll + label_smoothing * smooth, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / np.where(valid, weight[safe], 0).sum()


_TARGET = np.array([0, 3, 1, 3])


@register_samples("cross_entropy")
def _cross_entropy_samples():
    def call_with(**params):
        return lambda x, t: _nn().cross_entropy(x, t, **params)

    for dtype in FLOATS:
        yield Sample(
            (Input(values((4, 5))), Input(_TARGET, I64)),
            {},
            _cross_entropy,
            dtype,
            name="mean",
            call=call_with(),
            rtol=1e-5 if dtype is F32 else None,
        )
    for params in (
        {"reduction": "sum"},
        {"reduction": "none"},
        {"ignore_index": 3},
        {"label_smoothing": 0.1},
        {"ignore_index": 3, "reduction": "sum"},
    ):
        name = "-".join(f"{k}{v}" for k, v in params.items())
        yield Sample(
            (Input(values((4, 5))), Input(_TARGET, I64)),
            {},
            lambda x, t, params=params: _cross_entropy(x, t, **params),
            F64,
            name=name,
            call=call_with(**params),
        )
    weight = np.array([1.0, 2.0, 0.5, 1.5, 1.0])
    # The class weights are constants: the op gives them no gradient (PyTorch raises if asked).
    yield Sample(
        (Input(values((4, 5))), Input(_TARGET, I64), Input(weight, F64)),
        {},
        lambda x, t, w: _cross_entropy(x, t, w),
        F64,
        name="weight",
        call=lambda x, t, w: _nn().cross_entropy(x, t, weight=w),
    )
    yield Sample(
        (Input(values((4, 5)), layout="transposed"), Input(_TARGET, I64)),
        {},
        _cross_entropy,
        F64,
        name="transposed",
        call=call_with(),
    )
    large = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    yield Sample(
        (Input(large), Input(np.array([0, 2]), I64)),
        {},
        _cross_entropy,
        F32,
        name="large-logits",
        call=call_with(),
        grad=False,
    )
    yield ErrorSample(
        (Input(values((4, 5))), Input(np.array([0, 1]), I64)),
        {},
        ValueError,
        "expected target of shape (4,)",
        name="bad-target",
        call=call_with(),
    )
    yield ErrorSample(
        (Input(values((4, 5))), Input(_TARGET, I64)),
        {},
        ValueError,
        "reduction must be",
        name="bad-reduction",
        call=call_with(reduction="avg"),
    )
    for name, target in (("target-past-the-classes", [0, 5, 1, 3]), ("negative-target", [0, -1, 1, 3])):
        yield ErrorSample(
            (Input(values((4, 5))), Input(np.array(target), I64)),
            {},
            IndexError,
            f"cross_entropy: Target {target[1]} is out of bounds",
            name=name,
            call=call_with(),
        )
    yield ErrorSample(
        (Input(values((4, 0))), Input(np.zeros(4, dtype=np.int64), I64)),
        {},
        ValueError,
        "cross_entropy: input of shape (4, 0) has no classes",
        name="no-classes",
        call=call_with(),
    )


@register_samples("cross_entropy_backward")
def _cross_entropy_backward_samples():
    for params in ({}, {"ignore_index": 3, "label_smoothing": 0.1}):
        name = "-".join(f"{k}{v}" for k, v in params.items()) or "mean"
        forward = lambda x, t, params=params: _nn().cross_entropy(x, t, **params)  # noqa: E731
        reference = lambda x, t, params=params: _cross_entropy(x, t, **params)  # noqa: E731
        for dtype in (F32, F64):
            yield Sample(
                (Input(values((4, 5))), Input(_TARGET, I64), Input(np.array(1.5))),
                {},
                _numeric_vjp(reference),
                dtype,
                name=name,
                call=_grad_of(forward),
                grad=False,
                rtol=1e-6,
                atol=1e-6 if dtype is F64 else 1e-5,
            )


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
        yield ErrorSample(
            (Input(values((1, 1, 4, 4))),),
            {},
            NotImplementedError,
            "ceil_mode",
            name="ceil-mode",
            call=lambda x: getattr(_nn(), op)(x, 2, ceil_mode=True),
        )

    return samples


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
