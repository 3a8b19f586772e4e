"""nn.functional against float64 NumPy references, finite-difference gradients, and the
fused kernels against the reference decompositions."""

import math

import numpy as np
import pytest
from nn_testing import (
    RNG,
    array,
    assert_close,
    assert_fused_matches_decomposition,
    gradcheck,
    t64,
    value,
)

import somegrad as sg
import somegrad.nn.functional as F


# --- NumPy references (float64, written independently of somegrad) -------------------------------
def ref_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def ref_softmax(x, axis):
    return np.exp(ref_log_softmax(x, axis))


def ref_layer_norm(x, w, b, n, eps=1e-5):
    axes = tuple(range(x.ndim - n, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def ref_cross_entropy(x, y, weight=None, ignore_index=-100, smoothing=0.0, reduction="mean"):
    n, c = x.shape
    weight = np.ones(c) if weight is None else weight
    logp = ref_log_softmax(x, 1)
    losses, weights = [], []
    for i in range(n):
        if y[i] == ignore_index:
            losses.append(0.0)
            weights.append(0.0)
            continue
        nll = -weight[y[i]] * logp[i, y[i]]
        smooth = -(weight * logp[i]).sum() / c
        losses.append((1 - smoothing) * nll + smoothing * smooth)
        weights.append(weight[y[i]])
    losses = np.array(losses)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / np.sum(weights)


def ref_conv2d(x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    ho = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(ho):
            for j in range(wo):
                patch = xp[
                    :,
                    g * cg : (g + 1) * cg,
                    i * stride[0] : i * stride[0] + dilation[0] * (kh - 1) + 1 : dilation[0],
                    j * stride[1] : j * stride[1] + dilation[1] * (kw - 1) + 1 : dilation[1],
                ]
                out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out


def ref_conv_transpose2d(x, w, stride, padding, output_padding):
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    full_h, full_w = (h - 1) * stride + kh, (wd - 1) * stride + kw
    out = np.zeros((n, cout, full_h + output_padding, full_w + output_padding))
    for i in range(h):
        for j in range(wd):
            out[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw] += np.einsum(
                "nc,cokl->nokl", x[:, :, i, j], w
            )
    return out[
        :,
        :,
        padding : padding + (h - 1) * stride - 2 * padding + kh + output_padding,
        padding : padding + (wd - 1) * stride - 2 * padding + kw + output_padding,
    ]


def ref_pool(x, k, s, p, op, pad_value):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = op(xp[:, :, i * s : i * s + k, j * s : j * s + k], axis=(2, 3))
    return out


def ref_attention(q, k, v, mask=None, causal=False):
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    if causal:
        length, source = scores.shape[-2:]
        scores = np.where(np.tril(np.ones((length, source), dtype=bool)), scores, -np.inf)
    return ref_softmax(scores, -1) @ v


# --- linear, embedding ------------------------------------------------------------------------------
def test_linear_matches_reference_and_gradients():
    x, w, b = array(2, 3, 5), array(4, 5), array(4)
    assert_close(F.linear(t64(x), t64(w), t64(b)), x @ w.T + b)
    assert_close(F.linear(t64(x), t64(w)), x @ w.T)
    gradcheck(F.linear, [t64(x), t64(w), t64(b)])
    gradcheck(lambda x, w: F.linear(x, w), [t64(x), t64(w)])
    assert_fused_matches_decomposition(F.linear, [t64(x), t64(w), t64(b)])


def test_linear_shape_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) and weight of shape \(4, 3\)"):
        F.linear(sg.randn(2, 5), sg.randn(4, 3), sg.randn(4))


def test_embedding_gathers_rows_and_skips_padding_gradient():
    w = array(7, 3)
    idx = sg.tensor([[1, 3, 3], [0, 6, 1]])
    assert_close(F.embedding(idx, t64(w)), w[idx.numpy()])
    weight = t64(w)
    F.embedding(idx, weight, padding_idx=3).sum().backward()
    expected = np.zeros((7, 3))
    for i in idx.numpy().ravel():
        expected[i] += 1
    expected[3] = 0
    assert_close(weight.grad, expected)
    assert_fused_matches_decomposition(lambda w: F.embedding(idx, w, padding_idx=1), [t64(w)])
    gradcheck(lambda w: F.embedding(idx, w), [t64(w)])


def test_embedding_rejects_out_of_range_indices():
    with pytest.raises(IndexError, match="index 7 is out of range"):
        F.embedding(sg.tensor([0, 7]), sg.randn(7, 2))


# --- activations ------------------------------------------------------------------------------------
ACTIVATIONS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x))),
    "sigmoid": (F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (F.tanh, np.tanh),
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x))),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "softmax": (lambda x: F.softmax(x, -1), lambda x: ref_softmax(x, -1)),
    "log_softmax": (lambda x: F.log_softmax(x, 1), lambda x: ref_log_softmax(x, 1)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation(name):
    fn, ref = ACTIVATIONS[name]
    x = array(3, 4) + 0.05  # away from the kinks at 0
    assert_close(fn(t64(x)), ref(x), atol=1e-7 if name == "gelu" else 1e-10)
    gradcheck(fn, [t64(x)])


# --- dropout ----------------------------------------------------------------------------------------
def test_dropout_statistics_scaling_and_seeding():
    x = sg.ones(200, 500)
    y = F.dropout(x, 0.3, training=True)
    kept = value(y) != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(value(y)[kept], 1 / 0.7, rtol=1e-6)
    assert F.dropout(x, 0.3, training=False) is x
    sg.manual_seed(5)
    a = value(F.dropout(x, 0.5))
    sg.manual_seed(5)
    b = value(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, value(F.dropout(x, 0.5)))


def test_dropout_gradient_uses_the_same_mask():
    x = t64(array(50, 40))
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(value(x.grad), (value(y) != 0) * 2.0)


# --- normalisation ----------------------------------------------------------------------------------
def test_layer_norm():
    x, w, b = array(2, 3, 6), array(6), array(6)
    assert_close(F.layer_norm(t64(x), (6,), t64(w), t64(b)), ref_layer_norm(x, w, b, 1))
    assert_close(F.layer_norm(t64(x), (3, 6)), ref_layer_norm(x, 1, 0, 2))
    gradcheck(lambda x, w, b: F.layer_norm(x, (6,), w, b), [t64(x), t64(w), t64(b)])
    gradcheck(lambda x: F.layer_norm(x, (3, 6)), [t64(x)])
    assert_fused_matches_decomposition(lambda x, w, b: F.layer_norm(x, (6,), w, b), [t64(x), t64(w), t64(b)])


def test_layer_norm_second_order_gradient():
    x, w = t64(array(3, 5)), t64(array(5))
    gradcheck(
        lambda x, w: sg.autograd.grad((F.layer_norm(x, (5,), w) ** 2).sum(), [x], create_graph=True)[0],
        [x, w],
    )


def test_batch_norm_training_and_eval():
    x, w, b = array(4, 3, 2, 5), array(3), array(3)
    mu = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    expected = (x - mu) / np.sqrt(var + 1e-5) * w.reshape(1, 3, 1, 1) + b.reshape(1, 3, 1, 1)
    rm, rv = sg.zeros(3, dtype=sg.float64), sg.ones(3, dtype=sg.float64)
    out = F.batch_norm(t64(x), rm, rv, t64(w), t64(b), training=True, momentum=0.1)
    assert_close(out, expected)
    assert_close(rm, 0.1 * mu.ravel())
    assert_close(rv, 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1))
    gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [t64(x), t64(w), t64(b)])
    assert_fused_matches_decomposition(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [t64(x), t64(w), t64(b)]
    )
    rm, rv = array(3), array(3, low=0.5, high=2.0)
    out = F.batch_norm(t64(x), t64(rm, False), t64(rv, False), t64(w), t64(b), training=False)
    shape = (1, 3, 1, 1)
    assert_close(
        out,
        (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + 1e-5) * w.reshape(shape) + b.reshape(shape),
    )


def test_group_norm_and_rms_norm():
    x, w, b = array(2, 4, 3, 3), array(4), array(4)
    grouped = x.reshape(2, 2, -1)
    expected = ((grouped - grouped.mean(-1, keepdims=True)) / np.sqrt(grouped.var(-1, keepdims=True) + 1e-5)).reshape(
        x.shape
    )
    expected = expected * w.reshape(1, 4, 1, 1) + b.reshape(1, 4, 1, 1)
    assert_close(F.group_norm(t64(x), 2, t64(w), t64(b)), expected)
    gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), [t64(x), t64(w), t64(b)])
    y, g = array(3, 5), array(5)
    assert_close(
        F.rms_norm(t64(y), (5,), t64(g), 1e-6),
        y / np.sqrt((y**2).mean(-1, keepdims=True) + 1e-6) * g,
    )
    gradcheck(lambda y, g: F.rms_norm(y, 5, g), [t64(y), t64(g)])


# --- losses -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_class_indices(reduction, smoothing, weighted):
    x = array(6, 5)
    y = np.array([0, 4, -100, 2, 2, 1])
    weight = array(5, low=0.5, high=2.0) if weighted else None
    w = t64(weight, False) if weighted else None
    target = sg.tensor(y)
    out = F.cross_entropy(t64(x), target, w, reduction=reduction, label_smoothing=smoothing)
    assert_close(out, ref_cross_entropy(x, y, weight, -100, smoothing, reduction))
    fn = lambda x: F.cross_entropy(x, target, w, reduction=reduction, label_smoothing=smoothing)  # noqa: E731
    gradcheck(fn, [t64(x)])
    assert_fused_matches_decomposition(fn, [t64(x)])


def test_cross_entropy_spatial_and_probabilities():
    x = array(2, 4, 3)
    y = RNG.integers(0, 4, (2, 3))
    flat = np.moveaxis(x, 1, -1).reshape(-1, 4)
    assert_close(
        F.cross_entropy(t64(x), sg.tensor(y), reduction="none"),
        ref_cross_entropy(flat, y.ravel(), reduction="none").reshape(2, 3),
    )
    p = ref_softmax(array(3, 4), 1)
    z = array(3, 4)
    assert_close(F.cross_entropy(t64(z), t64(p, False)), -(p * ref_log_softmax(z, 1)).sum(1).mean())
    smoothed = p * 0.9 + 0.1 / 4
    assert_close(
        F.cross_entropy(t64(z), t64(p, False), label_smoothing=0.1),
        -(smoothed * ref_log_softmax(z, 1)).sum(1).mean(),
    )
    gradcheck(lambda z, p: F.cross_entropy(z, p), [t64(z), t64(p)])


def test_cross_entropy_is_stable_for_huge_logits():
    x = sg.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], requires_grad=True)
    loss = F.cross_entropy(x, sg.tensor([1, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and abs(loss.item() - 1e4) < 1
    assert np.isfinite(value(x.grad)).all()


def test_cross_entropy_second_order_gradient():
    x = t64(array(3, 4))
    target = sg.tensor([0, 3, 1])
    gradcheck(lambda x: sg.autograd.grad(F.cross_entropy(x, target), [x], create_graph=True)[0], [x])


def test_nll_loss():
    logp = ref_log_softmax(array(5, 4), 1)
    y = np.array([1, 0, 3, -100, 2])
    weight = array(4, low=0.5, high=2)
    target = sg.tensor(y)
    assert_close(F.nll_loss(t64(logp), target, t64(weight, False)), ref_cross_entropy(logp, y, weight))
    gradcheck(lambda lp: F.nll_loss(lp, target), [t64(logp)])


def test_regression_losses():
    a, b = array(4, 3), array(4, 3)
    assert_close(F.mse_loss(t64(a), t64(b)), ((a - b) ** 2).mean())
    assert_close(F.l1_loss(t64(a), t64(b), reduction="sum"), np.abs(a - b).sum())
    d = np.abs(a - b)
    assert_close(
        F.smooth_l1_loss(t64(a), t64(b), beta=0.5),
        np.where(d < 0.5, 0.5 * d**2 / 0.5, d - 0.25).mean(),
    )
    assert_close(
        F.huber_loss(t64(a), t64(b), delta=0.5),
        np.where(d < 0.5, 0.5 * d**2, 0.5 * (d - 0.25)).mean(),
    )
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        gradcheck(fn, [t64(a), t64(b)])


def test_binary_cross_entropy_losses():
    p, y = array(4, 3, low=0.05, high=0.95), array(4, 3, low=0.0, high=1.0)
    assert_close(F.binary_cross_entropy(t64(p), t64(y)), -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
    gradcheck(lambda p: F.binary_cross_entropy(p, t64(y, False)), [t64(p)])
    z = array(4, 3) * 3
    pos = array(3, low=0.5, high=3)
    sig = 1 / (1 + np.exp(-z))
    expected = -(pos * y * np.log(sig) + (1 - y) * np.log(1 - sig)).mean()
    assert_close(F.binary_cross_entropy_with_logits(t64(z), t64(y), pos_weight=t64(pos, False)), expected)
    gradcheck(lambda z, y: F.binary_cross_entropy_with_logits(z, y), [t64(z), t64(y)])


def test_losses_are_stable_for_huge_logits():
    z = sg.tensor([1e4, -1e4, 0.0], requires_grad=True)
    y = sg.tensor([0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="sum")
    loss.backward()
    assert abs(loss.item() - (2e4 + math.log(2))) < 1
    assert np.isfinite(value(z.grad)).all()
    p = sg.tensor([0.0, 1.0])
    assert np.isfinite(F.binary_cross_entropy(p, sg.tensor([1.0, 0.0])).item())


# --- attention ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["plain", "causal", "float_mask", "bool_mask"])
def test_scaled_dot_product_attention(case):
    q, k, v = array(2, 3, 4, 5), array(2, 3, 6, 5), array(2, 3, 6, 7)
    mask, expected_mask, kwargs = None, None, {}
    if case == "causal":
        q, k, v = array(2, 3, 6, 5), array(2, 3, 6, 5), array(2, 3, 6, 7)
        kwargs = {"is_causal": True}
    elif case == "float_mask":
        expected_mask = array(4, 6)
        mask = t64(expected_mask)
    elif case == "bool_mask":
        allowed = RNG.random((4, 6)) > 0.3
        allowed[:, 0] = True
        expected_mask = np.where(allowed, 0.0, -np.inf)
        mask = sg.tensor(allowed)
    expected = ref_attention(q, k, v, expected_mask, causal=case == "causal")
    fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kwargs)  # noqa: E731
    assert_close(fn(t64(q), t64(k), t64(v)), expected)
    gradcheck(fn, [t64(q), t64(k), t64(v)])
    assert_fused_matches_decomposition(fn, [t64(q), t64(k), t64(v)])
    if case == "float_mask":
        gradcheck(
            lambda q, m: F.scaled_dot_product_attention(q, t64(k, False), t64(v, False), attn_mask=m),
            [t64(q), t64(expected_mask)],
        )


def test_attention_dropout_is_seeded_and_scaled():
    q = sg.randn(1, 1, 8, 4)
    sg.manual_seed(3)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    sg.manual_seed(3)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    np.testing.assert_array_equal(value(a), value(b))
    assert not np.allclose(value(a), value(F.scaled_dot_product_attention(q, q, q)))


# --- convolution and pooling ----------------------------------------------------------------------------
CONV_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=1, groups=1),
    dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=1),
    dict(stride=1, padding=1, dilation=1, groups=2),
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv2d(case):
    params = CONV_CASES[case]
    x, w, b = array(2, 4, 7, 6), array(6, 4 // params["groups"], 3, 2), array(6)
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    expected = ref_conv2d(
        x,
        w,
        pair(params["stride"]),
        pair(params["padding"]),
        pair(params["dilation"]),
        params["groups"],
    ) + b.reshape(1, -1, 1, 1)
    fn = lambda x, w, b: F.conv2d(x, w, b, **params)  # noqa: E731
    assert_close(fn(t64(x), t64(w), t64(b)), expected)
    gradcheck(fn, [t64(x), t64(w), t64(b)])
    assert_fused_matches_decomposition(fn, [t64(x), t64(w), t64(b)])


def test_conv2d_same_padding_and_conv1d():
    x, w = array(1, 2, 5, 6), array(3, 2, 4, 3)
    out = F.conv2d(t64(x), t64(w), padding="same")
    assert out.shape == (1, 3, 5, 6)
    # 'same' puts the extra padding after: rows (1, 2), cols (1, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 1)))
    assert_close(out, ref_conv2d(xp, w))
    s, k = array(2, 3, 9), array(4, 3, 3)
    assert_close(
        F.conv1d(t64(s), t64(k), stride=2, padding=1),
        ref_conv2d(s[:, :, None], k[:, :, None], (1, 2), (0, 1))[:, :, 0],
    )


def test_conv2d_double_backward():
    x, w = t64(array(1, 2, 5, 5)), t64(array(3, 2, 3, 3))
    gradcheck(
        lambda x, w: sg.autograd.grad((F.conv2d(x, w, stride=2, padding=1) ** 2).sum(), [w], create_graph=True)[0],
        [x, w],
    )


def test_conv2d_backward_computes_only_the_gradients_that_are_needed(monkeypatch):
    backend = sg.backends.get_backend("numpy")
    calls = []
    for name in ("conv2d_backward_input", "conv2d_backward_weight"):
        kernel = backend.kernels[name]
        monkeypatch.setitem(backend.kernels, name, lambda *a, _k=kernel, _n=name, **p: calls.append(_n) or _k(*a, **p))
    sg.ops.dispatch.clear_kernel_cache()
    try:
        data, w = t64(array(2, 2, 5, 5), requires_grad=False), t64(array(3, 2, 3, 3))
        F.conv2d(data, w, padding=1).sum().backward()  # a first layer: no input gradient to make
        assert calls == ["conv2d_backward_weight"] and data.grad is None and w.grad is not None
        calls.clear()
        x, frozen = t64(array(2, 2, 5, 5)), t64(array(3, 2, 3, 3), requires_grad=False)
        F.conv2d(x, frozen, padding=1).sum().backward()
        assert calls == ["conv2d_backward_input"] and x.grad is not None
    finally:
        sg.ops.dispatch.clear_kernel_cache()


def test_conv_transpose2d():
    x, w, b = array(2, 3, 4, 5), array(3, 2, 3, 3), array(2)
    out = F.conv_transpose2d(t64(x), t64(w), t64(b), stride=2, padding=1, output_padding=1)
    assert_close(out, ref_conv_transpose2d(x, w, 2, 1, 1) + b.reshape(1, -1, 1, 1))
    fn = lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)  # noqa: E731
    gradcheck(fn, [t64(x), t64(w)])
    assert_fused_matches_decomposition(fn, [t64(x), t64(w)])


def test_conv2d_error_names_channels():
    with pytest.raises(RuntimeError, match="has 3 channels"):
        F.conv2d(sg.randn(1, 3, 5, 5), sg.randn(2, 4, 3, 3))


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_max_pool2d(k, s, p):
    x = array(2, 3, 7, 6)
    assert_close(F.max_pool2d(t64(x), k, s, p), ref_pool(x, k, s, p, np.max, -np.inf))
    gradcheck(lambda x: F.max_pool2d(x, k, s, p), [t64(x)])
    assert_fused_matches_decomposition(lambda x: F.max_pool2d(x, k, s, p), [t64(x)])


def test_max_pool2d_gradient_goes_to_the_first_maximum():
    x = sg.tensor([[[[1.0, 1.0], [0.0, 1.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(value(x.grad), [[[[1.0, 0.0], [0.0, 0.0]]]])


@pytest.mark.parametrize("k,s,p,include", [(2, 2, 0, True), (3, 2, 1, True), (3, 2, 1, False)])
def test_avg_pool2d(k, s, p, include):
    x = array(2, 3, 7, 6)
    if include:
        expected = ref_pool(x, k, s, p, np.mean, 0.0)
    else:
        expected = ref_pool(x, k, s, p, np.sum, 0.0) / ref_pool(np.ones((1, 1, 7, 6)), k, s, p, np.sum, 0.0)
    fn = lambda x: F.avg_pool2d(x, k, s, p, count_include_pad=include)  # noqa: E731
    assert_close(fn(t64(x)), expected)
    gradcheck(fn, [t64(x)])
    assert_fused_matches_decomposition(fn, [t64(x)])


def test_adaptive_avg_pool2d():
    x = array(2, 3, 6, 5)
    assert_close(F.adaptive_avg_pool2d(t64(x), 1), x.mean(axis=(2, 3), keepdims=True))
    assert_close(F.adaptive_avg_pool2d(t64(x), (3, 5)), x.reshape(2, 3, 3, 2, 5).mean(3))
    out = F.adaptive_avg_pool2d(t64(x), (4, 3))
    assert out.shape == (2, 3, 4, 3)
    assert_close(out[:, :, 0, 0], x[:, :, 0:2, 0:2].mean(axis=(2, 3)))
    gradcheck(lambda x: F.adaptive_avg_pool2d(x, (4, 3)), [t64(x)])


def test_one_hot():
    np.testing.assert_array_equal(value(F.one_hot(sg.tensor([0, 2, 1]), 3)), np.eye(3, dtype=np.int64)[[0, 2, 1]])
