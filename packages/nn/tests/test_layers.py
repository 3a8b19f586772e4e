"""Layers: shapes, PyTorch's default initialisations, BatchNorm statistics, Dropout modes,
attention, loss modules, nn.init and nn.utils."""

import math

import numpy as np
import pytest
from nn_testing import array, assert_close, gradcheck, t64, value

import somegrad as sg
import somegrad.nn.functional as F
from somegrad import nn


def test_linear_and_conv_default_init_bounds():
    lin = nn.Linear(50, 30)
    bound = 1 / math.sqrt(50)
    for p in (lin.weight, lin.bias):
        assert value(p).min() >= -bound and value(p).max() <= bound
    assert value(lin.weight).std() > bound / 2
    conv = nn.Conv2d(4, 8, 3, groups=2)
    assert conv.weight.shape == (8, 2, 3, 3)
    bound = 1 / math.sqrt(2 * 9)
    assert np.abs(value(conv.weight)).max() <= bound and np.abs(value(conv.bias)).max() <= bound
    assert nn.Linear(3, 2, bias=False).bias is None
    assert nn.Linear(3, 2, dtype=sg.float64).weight.dtype is sg.float64


def test_layer_shapes():
    x = sg.randn(2, 3, 8, 8)
    assert nn.Conv2d(3, 5, 3, stride=2, padding=1)(x).shape == (2, 5, 4, 4)
    assert nn.Conv2d(3, 5, 3, padding="same", bias=False)(x).shape == (2, 5, 8, 8)
    assert nn.ConvTranspose2d(3, 4, 2, stride=2)(x).shape == (2, 4, 16, 16)
    assert nn.Conv1d(3, 4, 3)(sg.randn(2, 3, 10)).shape == (2, 4, 8)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(3, 1, 1)(x).shape == (2, 3, 8, 8)
    assert nn.AdaptiveAvgPool2d((1, 1))(x).shape == (2, 3, 1, 1)
    assert nn.Flatten()(x).shape == (2, 192)
    assert nn.Unflatten(1, (3, 64))(nn.Flatten()(x)).shape == (2, 3, 64)
    assert nn.Identity(5, foo=1)(x) is x
    assert nn.GroupNorm(3, 3)(x).shape == x.shape
    assert nn.RMSNorm(8)(x).shape == x.shape
    assert nn.Bilinear(3, 4, 5)(sg.randn(2, 3), sg.randn(2, 4)).shape == (2, 5)


def test_embedding_layer():
    emb = nn.Embedding(10, 4, padding_idx=0)
    assert float(emb.weight[0].abs().sum()) == 0.0
    out = emb(sg.tensor([[0, 3], [9, 0]]))
    assert out.shape == (2, 2, 4)
    out.sum().backward()
    assert float(emb.weight.grad[0].abs().sum()) == 0.0
    assert float(emb.weight.grad[3].sum()) == 4.0
    frozen = nn.Embedding.from_pretrained(sg.randn(3, 2))
    assert not frozen.weight.requires_grad


def test_batch_norm_running_statistics_and_eval():
    bn = nn.BatchNorm2d(3, momentum=0.5)
    xs = [array(4, 3, 2, 2) * 2 + 1 for _ in range(3)]
    rm, rv = np.zeros(3), np.ones(3)
    for x in xs:
        out = bn(sg.tensor(x, dtype=sg.float32))
        rm = 0.5 * rm + 0.5 * x.mean(axis=(0, 2, 3))
        rv = 0.5 * rv + 0.5 * x.var(axis=(0, 2, 3), ddof=1)
        np.testing.assert_allclose(value(out).mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(value(bn.running_mean), rm, rtol=1e-5)
    np.testing.assert_allclose(value(bn.running_var), rv, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 3
    bn.eval()
    x = xs[0]
    expected = (x - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(value(bn(sg.tensor(x, dtype=sg.float32))), expected, rtol=1e-4, atol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 3  # eval leaves statistics alone
    assert set(bn.state_dict()) == {
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    }


def test_batch_norm_cumulative_average_and_without_running_stats():
    bn = nn.BatchNorm1d(2, momentum=None)
    a, b = array(5, 2), array(5, 2)
    bn(sg.tensor(a, dtype=sg.float32))
    bn(sg.tensor(b, dtype=sg.float32))
    np.testing.assert_allclose(value(bn.running_mean), (a.mean(0) + b.mean(0)) / 2, rtol=1e-5)
    free = nn.BatchNorm1d(2, track_running_stats=False).eval()
    out = free(sg.tensor(a, dtype=sg.float32))
    np.testing.assert_allclose(value(out).mean(0), 0, atol=1e-6)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn(sg.randn(2, 2, 2, 2))


def test_dropout_layer_train_and_eval():
    drop = nn.Dropout(0.25)
    x = sg.ones(100, 100)
    assert abs((value(drop(x)) == 0).mean() - 0.25) < 0.02
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_layer_norm_layer_without_bias():
    ln = nn.LayerNorm(4, bias=False)
    assert ln.bias is None and [n for n, _ in ln.named_parameters()] == ["weight"]
    x = array(3, 4)
    assert_close(
        ln(sg.tensor(x, dtype=sg.float32)),
        (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5),
        atol=1e-5,
        rtol=1e-4,
    )


def reference_mha(mha, q, k, v, mask=None):
    e, h = mha.embed_dim, mha.num_heads
    w, b = value(mha.in_proj_weight), value(mha.in_proj_bias)
    qp, kp, vp = (
        q @ w[:e].T + b[:e],
        k @ w[e : 2 * e].T + b[e : 2 * e],
        v @ w[2 * e :].T + b[2 * e :],
    )

    def heads(t):
        return t.reshape(t.shape[0], t.shape[1], h, e // h).transpose(0, 2, 1, 3)

    scores = heads(qp) @ heads(kp).transpose(0, 1, 3, 2) / math.sqrt(e // h)
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = (p @ heads(vp)).transpose(0, 2, 1, 3).reshape(q.shape[0], q.shape[1], e)
    return out @ value(mha.out_proj.weight).T + value(mha.out_proj.bias), p.mean(1)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention(need_weights):
    mha = nn.MultiheadAttention(8, 2, batch_first=True).double()
    with sg.no_grad():
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    x, kv = array(2, 5, 8), array(2, 6, 8)
    causal = np.triu(np.ones((5, 6), dtype=bool), 1)
    out, weights = mha(t64(x), t64(kv), t64(kv), attn_mask=sg.tensor(causal), need_weights=need_weights)
    expected, expected_weights = reference_mha(mha, x, kv, kv, causal)
    assert_close(out, expected)
    if need_weights:
        assert_close(weights, expected_weights)
    else:
        assert weights is None
    # (L, N, E) layout when batch_first=False; self-attention with is_causal
    seq = nn.MultiheadAttention(8, 4).double()
    y, _ = seq(
        t64(x.transpose(1, 0, 2)),
        t64(x.transpose(1, 0, 2)),
        t64(x.transpose(1, 0, 2)),
        is_causal=True,
        need_weights=need_weights,
    )
    assert y.shape == (5, 2, 8)
    expected, _ = reference_mha(seq, x, x, x, np.triu(np.ones((5, 5), dtype=bool), 1))
    assert_close(y, expected.transpose(1, 0, 2))
    assert [n for n, _ in seq.named_parameters()] == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]


def test_multihead_attention_gradients():
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    gradcheck(lambda x: mha(x, x, x, need_weights=False, is_causal=True)[0], [t64(array(2, 3, 4))])


def test_loss_modules_match_functional():
    x, y = sg.randn(4, 5), sg.tensor([0, 1, 4, 2])
    w = sg.rand(5) + 0.5
    assert_close(
        nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)(x, y),
        value(F.cross_entropy(x, y, w, label_smoothing=0.1)),
    )
    assert_close(nn.NLLLoss()(F.log_softmax(x, 1), y), value(F.cross_entropy(x, y)), atol=1e-6)
    a, b = sg.randn(3, 2), sg.rand(3, 2)
    assert_close(nn.MSELoss(reduction="sum")(a, b), value(F.mse_loss(a, b, "sum")))
    assert_close(nn.L1Loss()(a, b), value(F.l1_loss(a, b)))
    assert_close(nn.SmoothL1Loss(beta=0.5)(a, b), value(F.smooth_l1_loss(a, b, beta=0.5)))
    assert_close(nn.BCEWithLogitsLoss()(a, b), value(F.binary_cross_entropy_with_logits(a, b)))
    assert_close(nn.BCELoss()(a.sigmoid(), b), value(F.binary_cross_entropy(a.sigmoid(), b)))
    assert nn.CrossEntropyLoss(reduction="none")(x, y).shape == (4,)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


def test_activation_layers():
    x = sg.randn(3, 4)
    for layer, fn in [
        (nn.ReLU(), F.relu),
        (nn.GELU("tanh"), lambda t: F.gelu(t, "tanh")),
        (nn.SiLU(), F.silu),
        (nn.Tanh(), F.tanh),
        (nn.Sigmoid(), F.sigmoid),
        (nn.Softmax(1), lambda t: F.softmax(t, 1)),
        (nn.LogSoftmax(-1), lambda t: F.log_softmax(t, -1)),
        (nn.Softplus(), F.softplus),
        (nn.LeakyReLU(0.1), lambda t: F.leaky_relu(t, 0.1)),
    ]:
        np.testing.assert_array_equal(value(layer(x)), value(fn(x)))
    assert repr(nn.GELU(approximate="tanh")) == "GELU(approximate='tanh')"


# --- init -----------------------------------------------------------------------------------------
def test_init_functions():
    w = sg.empty(200, 300)
    nn.init.xavier_uniform_(w)
    bound = math.sqrt(6 / 500)
    assert np.abs(value(w)).max() <= bound and value(w).std() > bound / 2
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(value(w).std() - math.sqrt(2 / 300)) < 0.005
    nn.init.kaiming_uniform_(w, mode="fan_out")
    assert np.abs(value(w)).max() <= math.sqrt(2.0) * math.sqrt(3 / 200) + 1e-7
    nn.init.trunc_normal_(w, std=1.0, a=-1.0, b=1.5)
    assert value(w).min() >= -1.0 and value(w).max() <= 1.5
    nn.init.constant_(w, 0.5)
    assert (value(w) == 0.5).all()
    nn.init.zeros_(w)
    nn.init.ones_(w[0])
    assert value(w).sum() == 300
    assert nn.init.calculate_gain("tanh") == 5 / 3
    sg.manual_seed(1)
    a = value(nn.init.normal_(sg.empty(5))).copy()
    sg.manual_seed(1)
    np.testing.assert_array_equal(a, value(nn.init.normal_(sg.empty(5))))


# --- utils ----------------------------------------------------------------------------------------
def test_clip_grad_norm_and_value():
    params = [nn.Parameter(sg.zeros(3)), nn.Parameter(sg.zeros(2, 2))]
    params[0].grad = sg.tensor([3.0, 0.0, 0.0])
    params[1].grad = sg.tensor([[0.0, 4.0], [0.0, 0.0]])
    total = nn.utils.clip_grad_norm_(params, 1.0)
    assert abs(total.item() - 5.0) < 1e-6
    norm = math.sqrt(sum(float((p.grad**2).sum()) for p in params))
    assert abs(norm - 1.0) < 1e-4
    total_inf = nn.utils.clip_grad_norm_(params, 10.0, norm_type=math.inf)
    assert abs(total_inf.item() - 0.8) < 1e-5
    nn.utils.clip_grad_value_(params, 0.1)
    assert float(params[1].grad.max()) == pytest.approx(0.1)
    params[0].grad = sg.tensor([float("nan"), 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_parameters_to_vector_and_back():
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(sg.arange(8).float(), model.parameters())
    np.testing.assert_array_equal(value(model.weight), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(value(model.bias), [6, 7])
