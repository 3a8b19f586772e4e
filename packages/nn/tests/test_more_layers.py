"""Dropout's random masks (the fraction dropped, whole channels, the scaling, alpha dropout's
kept moments), gumbel_softmax's distribution and straight-through gradient, and the parameter
containers' list and dict behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.nn import functional as F


@pytest.fixture(autouse=True)
def _seed():
    sg.manual_seed(1234)


# --- dropout -------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_fraction_and_scale(p):
    x = sg.ones(200, 500)
    y = F.dropout(x, p).numpy()
    dropped = (y == 0).mean()
    # 100k Bernoulli draws: the standard error is below 0.0016
    assert abs(dropped - p) < 0.01
    np.testing.assert_allclose(y[y != 0], 1.0 / (1.0 - p))


@pytest.mark.parametrize(
    "fn, shape",
    [
        (F.dropout1d, (40, 50, 7)),
        (F.dropout1d, (500, 7)),
        (F.dropout2d, (40, 50, 3, 4)),
        (F.dropout2d, (40, 50, 7)),
        (F.dropout3d, (20, 50, 2, 3, 2)),
        (F.dropout3d, (500, 2, 3, 2)),
    ],
)
def test_channel_dropout_drops_whole_channels(fn, shape):
    p = 0.3
    x = sg.rand(shape) + 0.5  # never zero
    y = fn(x, p).numpy()
    batched = fn is F.dropout2d or len(shape) == {F.dropout1d: 3, F.dropout3d: 5}[fn]
    flat = y.reshape(shape[0] * shape[1], -1) if batched else y.reshape(shape[0], -1)
    zero = flat == 0
    # every channel is all dropped or all kept
    assert np.all(zero.all(1) | (~zero).all(1))
    assert abs(zero.all(1).mean() - p) < 0.05
    kept = ~zero.all(1)
    xs = x.numpy().reshape(flat.shape)
    np.testing.assert_allclose(flat[kept], xs[kept] / (1 - p), rtol=1e-6)


def test_channel_dropout_gradient_is_the_mask():
    x = sg.randn(8, 6, 5, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    y.sum().backward()
    mask = (y.detach().numpy() != 0) / 0.5
    np.testing.assert_allclose(x.grad.numpy(), mask)


def test_dropout_eval_and_modules():
    x = sg.randn(4, 3, 5)
    for cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout):
        m = cls(0.5).eval()
        assert m(x) is x
    m = nn.Dropout1d(0.5)
    assert m.training and (m(x).numpy() == 0).any()


def test_dropout_inplace():
    x = sg.ones(50, 20, 4)
    out = F.dropout1d(x, 0.5, inplace=True)
    assert out is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}
    y = sg.ones(20, 4)
    F.dropout1d(y, 0.5, inplace=True)
    assert np.all((y.numpy() == 0).all(1) | (y.numpy() == 2).all(1))


def test_dropout_errors():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D"):
        F.dropout1d(sg.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout3d(1.5)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(sg.ones(5), 0.5, True)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(p):
    x = sg.randn(400_000)
    y = F.alpha_dropout(x, p, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1.0) < 0.01
    # the dropped ones all take one value: a * (-alpha') + b
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    low = -alpha * a + alpha * a * p
    assert abs(np.isclose(y, low).mean() - p) < 0.01


def test_alpha_dropout_defaults_to_eval():
    x = sg.randn(10)
    assert F.alpha_dropout(x, 0.5) is x
    assert F.feature_alpha_dropout(x.reshape(2, 5), 0.5) is not None


def test_feature_alpha_dropout_whole_channels_and_moments():
    p = 0.2
    x = sg.randn(400, 100, 8)
    y = F.feature_alpha_dropout(x, p, training=True).numpy()
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    low = -alpha * a + alpha * a * p
    at_low = np.isclose(y, low)
    channel_dropped = at_low.all(2)
    assert abs(channel_dropped.mean() - p) < 0.02
    kept = ~channel_dropped
    np.testing.assert_allclose(y[kept], (x.numpy() * a + alpha * a * p)[kept], rtol=1e-5, atol=1e-6)
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02


# --- gumbel_softmax ------------------------------------------------------------------------------
def test_gumbel_softmax_soft_is_a_distribution():
    logits = sg.randn(6, 5)
    y = F.gumbel_softmax(logits, tau=0.5).numpy()
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
    assert (y > 0).all()
    y0 = F.gumbel_softmax(sg.randn(4, 3, 2), dim=0).numpy()
    np.testing.assert_allclose(y0.sum(0), 1.0, rtol=1e-6)


def test_gumbel_max_frequencies_match_softmax():
    logits = sg.tensor([1.0, 0.0, -1.0, 2.0], dtype=sg.float64)
    draws = F.gumbel_softmax(logits.expand(100_000, 4), hard=True).numpy()
    assert set(np.unique(draws)) == {0.0, 1.0}
    np.testing.assert_allclose(draws.sum(1), 1.0)
    freq = draws.mean(0)
    want = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum()
    np.testing.assert_allclose(freq, want, atol=0.006)


def test_gumbel_softmax_hard_straight_through_gradient():
    weights = sg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 4)), dtype=sg.float64)
    logits_soft = sg.randn(3, 4, dtype=sg.float64, requires_grad=True)
    logits_hard = sg.tensor(logits_soft.detach().numpy(), requires_grad=True)
    sg.manual_seed(7)
    soft = F.gumbel_softmax(logits_soft, tau=0.7)
    sg.manual_seed(7)
    hard = F.gumbel_softmax(logits_hard, tau=0.7, hard=True)
    # forward: the one-hot of the soft sample's argmax; backward: the soft sample's gradient
    one_hot = np.eye(4)[soft.detach().numpy().argmax(-1)]
    np.testing.assert_allclose(hard.detach().numpy(), one_hot, atol=1e-12)
    (soft * weights).sum().backward()
    (hard * weights).sum().backward()
    np.testing.assert_allclose(logits_hard.grad.numpy(), logits_soft.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert np.abs(logits_hard.grad.numpy()).sum() > 0


# --- parameter containers ------------------------------------------------------------------------
def test_parameter_list():
    plist = nn.ParameterList([sg.ones(2), nn.Parameter(sg.zeros(3))])
    assert isinstance(plist[0], nn.Parameter) and plist[0].requires_grad
    plist.append(sg.ones(4))
    plist.extend([sg.ones(1)])
    plist += [sg.ones(5)]
    assert len(plist) == 5 and [p.shape[0] for p in plist] == [2, 3, 4, 1, 5]
    assert list(plist.state_dict()) == ["0", "1", "2", "3", "4"]
    assert len(list(plist.parameters())) == 5
    assert plist[-1] is plist[4]
    sliced = plist[1:3]
    assert isinstance(sliced, nn.ParameterList) and [p.shape[0] for p in sliced] == [3, 4]
    plist[0] = sg.zeros(7)
    assert plist[0].shape == (7,) and isinstance(plist[0], nn.Parameter)
    with pytest.raises(IndexError):
        plist[5]
    with pytest.raises(TypeError):
        plist.extend(sg.ones(3))


def test_parameter_list_in_a_model_trains():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.ParameterList(nn.Parameter(sg.randn(3, 3) * 0.1) for _ in range(2))

        def forward(self, x):
            for w in self.weights:
                x = x @ w
            return x

    model = Model()
    assert list(model.state_dict()) == ["weights.0", "weights.1"]
    model(sg.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    copy = Model()
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(copy.weights[1].detach().numpy(), model.weights[1].detach().numpy())


def test_parameter_dict():
    pdict = nn.ParameterDict({"b": sg.ones(2), "a": nn.Parameter(sg.zeros(3))})
    assert list(pdict) == ["a", "b"]  # a plain dict's keys are sorted, as in PyTorch
    assert list(pdict.state_dict()) == ["a", "b"]
    pdict["c"] = sg.ones(1)
    pdict.update([("d", sg.ones(4))])
    assert list(pdict.keys()) == ["a", "b", "c", "d"] and len(pdict) == 4 and "c" in pdict
    assert isinstance(pdict["c"], nn.Parameter)
    assert pdict.get("missing") is None and pdict.get("a") is pdict["a"]
    popped = pdict.pop("b")
    assert popped.shape == (2,) and "b" not in pdict and list(pdict.state_dict()) == ["a", "c", "d"]
    key, value = pdict.popitem()
    assert key == "d" and value.shape == (4,)
    merged = pdict | nn.ParameterDict({"z": sg.ones(1)})
    assert list(merged) == ["a", "c", "z"] and list(pdict) == ["a", "c"]
    copy = pdict.copy()
    assert copy["a"] is pdict["a"]
    pdict.clear()
    assert len(pdict) == 0 and list(pdict.parameters()) == []
    with pytest.raises(AttributeError):
        pdict["a"]


# --- losses --------------------------------------------------------------------------------------
def test_multilabel_margin_loss_by_hand():
    x = sg.tensor([[0.1, 0.2, 0.4, 0.8]])
    y = sg.tensor([[3, 0, -1, 1]])
    # PyTorch's documented example
    want = 0.25 * ((1 - (0.1 - 0.2)) + (1 - (0.1 - 0.4)) + (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4)))
    np.testing.assert_allclose(nn.MultiLabelMarginLoss()(x, y).item(), want, rtol=1e-6)


def test_pdist_matches_cdist_upper_triangle():
    x = sg.randn(6, 4, dtype=sg.float64)
    d = F.pdist(x).numpy()
    full = np.linalg.norm(x.numpy()[:, None] - x.numpy()[None], axis=-1)
    np.testing.assert_allclose(d, full[np.triu_indices(6, 1)], rtol=1e-12)


def test_batchnorm3d_normalises_per_channel():
    bn = nn.BatchNorm3d(3)
    x = sg.randn(4, 3, 2, 3, 3) * 5 + 2
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y.mean((0, 2, 3, 4)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var((0, 2, 3, 4)), 1.0, rtol=1e-3)
    assert int(bn.num_batches_tracked.item()) == 1


# --- lazy modules --------------------------------------------------------------------------------
def test_lazy_model_materialises_at_the_first_call_and_trains():
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    assert isinstance(model[0].weight, nn.UninitializedParameter)
    assert isinstance(model[1].running_mean, nn.UninitializedBuffer)
    model.double()  # before the first call: the placeholders take the dtype
    held = model[4].weight
    out = model(sg.randn(2, 3, 6, 6, dtype=sg.float64))
    assert out.shape == (2, 2) and out.dtype == sg.float64
    assert [type(m).__name__ for m in model] == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear"]
    assert model[4].weight is held and type(held) is nn.Parameter and held.shape == (2, 64)
    assert model[1].running_mean.shape == (4,) and model[1].running_mean.dtype == sg.float64
    assert int(model[1].num_batches_tracked.item()) == 1
    # initialised as the eager layers: Linear's U(-1/sqrt(64), 1/sqrt(64))
    assert np.abs(held.detach().numpy()).max() <= 1 / 8
    optimizer = sg.optim.SGD(model.parameters(), lr=0.1)
    before = held.detach().numpy().copy()
    model(sg.randn(2, 3, 6, 6, dtype=sg.float64)).sum().backward()
    optimizer.step()
    assert not np.allclose(before, held.detach().numpy())


def test_lazy_module_load_state_dict_materialises():
    source = nn.LazyLinear(3)
    source(sg.randn(2, 5))
    target = nn.LazyLinear(3)
    target.load_state_dict(source.state_dict())
    assert target.in_features == 5 and target.weight.shape == (3, 5)
    x = sg.randn(4, 5)
    np.testing.assert_allclose(target(x).detach().numpy(), source(x).detach().numpy())
    assert type(target) is nn.Linear


def test_lazy_errors_and_reprs():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.LazyConv1d(4, 3, groups=2)(sg.randn(1, 3, 5))
    with pytest.raises(RuntimeError, match="Expected 3D"):
        nn.LazyConv2d(4, 3)(sg.randn(5, 5))
    assert repr(nn.LazyLinear(4)) == "LazyLinear(in_features=0, out_features=4, bias=True)"
    assert repr(nn.LazyLinear(4).weight) == "<UninitializedParameter>"


@pytest.mark.parametrize(
    "fn", [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout]
)
@pytest.mark.parametrize("shape", [(4, 3, 5), (3, 2, 2, 2), (6, 5)])
def test_inplace_dropout_keeps_the_gradient(fn, shape):
    if fn is F.dropout1d and len(shape) == 4:
        shape = shape[:3]  # dropout1d takes 2-D or 3-D input
    x = sg.randn(*shape, dtype=sg.float64, requires_grad=True)
    y = x * 1.0
    assert fn(y, 0.4, True, True) is y
    (y * 3.0).sum().backward()
    # the gradient of an affine function of x: the mask's scale where kept, 0 where dropped
    scale = x.grad.numpy() / 3.0
    values = np.unique(np.round(scale, 12))
    assert len(values) == 2 and 0.0 in values
    if fn in (F.dropout1d, F.dropout3d, F.dropout2d, F.feature_alpha_dropout):
        lead = 1 if (fn is F.dropout1d and len(shape) == 2) or (fn is F.dropout3d and len(shape) == 4) else 2
        per_channel = scale.reshape(*shape[:lead], -1)
        assert np.all(per_channel.min(-1) == per_channel.max(-1))


def test_lazy_module_deepcopy_keeps_placeholders():
    import copy

    lazy = nn.LazyBatchNorm1d()
    twin = copy.deepcopy(lazy)
    assert isinstance(twin.weight, nn.UninitializedParameter)
    assert isinstance(twin.running_var, nn.UninitializedBuffer)
    twin(sg.randn(4, 3))
    assert type(twin) is nn.BatchNorm1d and type(lazy) is nn.LazyBatchNorm1d
    assert twin.running_var.shape == (3,)


def test_parameter_containers_deepcopy():
    import copy

    plist = nn.ParameterList([sg.ones(2), sg.zeros(3)])
    twin = copy.deepcopy(plist)
    assert len(twin) == 2 and list(twin.state_dict()) == ["0", "1"] and twin[0] is not plist[0]
    np.testing.assert_array_equal(twin[0].detach().numpy(), plist[0].detach().numpy())
    pdict = nn.ParameterDict({"a": sg.ones(2)})
    assert list(copy.deepcopy(pdict)) == ["a"]


def test_lazy_modules_nested_in_a_parent_take_a_state_dict():
    from somegrad import nn

    ref = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    lazy = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
    lazy.load_state_dict(ref.state_dict())
    x = sg.randn(5, 3)
    assert sg.equal(lazy(x), ref(x))
    assert type(lazy[0]) is nn.Linear
