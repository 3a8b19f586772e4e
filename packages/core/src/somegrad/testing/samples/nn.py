"""Samples for the composites in `somegrad.ops.nn` that work on rows: linear, embedding,
layer_norm, batch_norm, cross_entropy, and the ops that compute their backward passes
(attention, convolution and pooling are in `nn_spatial`).

The samples call the core's public wrappers (`somegrad.ops.nn.conv2d`, ...), which own the
argument handling. The `*_backward` ops run when a gradient is taken without `create_graph`,
so their samples take one with `autograd.grad`; their reference is the vector-Jacobian product
of the forward reference, by central differences in float64 (exact for the linear ones).
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    FLOATS,
    ErrorSample,
    Input,
    Sample,
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
