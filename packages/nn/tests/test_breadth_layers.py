"""The activations, normalisations, small layers and losses that follow PyTorch (their values
against PyTorch are in tests/parity/test_nn_layers.py): second-order gradients, in-place
semantics, EmbeddingBag against its definition, running statistics, reprs and training."""

from __future__ import annotations

import math

import numpy as np
import pytest

import somegrad as sg
import somegrad.nn.functional as F
from somegrad import nn
from somegrad.testing.gradcheck import check_grads


def t64(a, grad=True):
    return sg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


RNG = np.random.default_rng(0)
X = RNG.uniform(-2, 2, size=(3, 4))
Y = RNG.uniform(-2, 2, size=(3, 4))
SIGNS = sg.tensor([1.0, -1.0, 1.0])

SECOND_ORDER = {
    "prelu": (lambda x, w: F.prelu(x.reshape(1, 3, 4), w), [X, [0.2, -0.1, 0.3]]),
    "softmin": (lambda x: F.softmin(x, 1), [X]),
    "glu": (lambda x: F.glu(x, 1), [X]),
    "tanhshrink": (F.tanhshrink, [X]),
    "normalize-p2": (lambda x: F.normalize(x, dim=1), [X]),
    "normalize-p3-tuple": (lambda x: F.normalize(x.reshape(1, 3, 4), p=3.0, dim=(1, 2)), [X]),
    "instance_norm": (
        lambda x, w, b: F.instance_norm(x.reshape(1, 3, 4), weight=w, bias=b),
        [X, [1.0, 2.0, 0.5], [0.1, 0.2, 0.3]],
    ),
    "local_response_norm": (lambda x: F.local_response_norm(x.reshape(1, 3, 4), 2, alpha=0.5), [X]),
    "bilinear": (lambda a, b, w: F.bilinear(a, b, w), [X, Y[:, :3], RNG.normal(size=(2, 4, 3))]),
    "kl_div": (lambda x, t: F.kl_div(x.log_softmax(1), t.softmax(1), reduction="batchmean"), [X, Y]),
    "huber": (lambda x, t: F.huber_loss(x, t, delta=0.5), [X, Y]),
    "smooth_l1": (lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), [X, Y]),
    "cosine_embedding": (lambda a, b: F.cosine_embedding_loss(a, b, SIGNS, margin=-0.5), [X, Y]),
    "margin_ranking": (lambda a, b: F.margin_ranking_loss(a[:, 0], b[:, 0], SIGNS, margin=1.0), [X, Y]),
    "soft_margin": (lambda x: F.soft_margin_loss(x[:, 0], SIGNS), [X]),
    "multilabel_soft_margin": (lambda x, t: F.multilabel_soft_margin_loss(x, t.sigmoid()), [X, Y]),
    "multi_margin-p2": (lambda x: F.multi_margin_loss(x, sg.tensor([0, 3, 1]), p=2, margin=2.0), [X]),
    "triplet": (lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, swap=True), [X, Y, X * 0.5 - Y]),
    "poisson": (lambda x, t: F.poisson_nll_loss(x, t.abs(), full=True), [X, Y * 2]),
    "gaussian": (lambda x, t, v: F.gaussian_nll_loss(x, t, v.abs() + 0.5), [X, Y, X[:, :1]]),
    "embedding_bag-mean": (
        lambda w: F.embedding_bag(sg.tensor([0, 2, 1, 1, 2]), w, sg.tensor([0, 2, 2])),
        [RNG.normal(size=(3, 4))],
    ),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order_gradients(name):
    fn, arrays = SECOND_ORDER[name]
    check_grads(fn, [t64(a) for a in arrays], order=2)


# --- in place --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, args",
    [("elu", ()), ("selu", ()), ("celu", (0.5,)), ("hardtanh", (-0.5, 0.5)), ("relu6", ()), ("leaky_relu", (0.2,))]
    + [("hardswish", ()), ("hardsigmoid", ()), ("silu", ()), ("mish", ()), ("threshold", (0.1, 5.0)), ("rrelu", ())],
)
def test_inplace_forms_write_into_the_input_and_keep_the_gradient(name, args):
    fn = getattr(F, name)
    expected = fn(t64(X, grad=False), *args)
    x = t64(X)
    y = x * 1.0
    version = y._version
    out = fn(y, *args, inplace=True)
    assert out is y and y._version > version
    np.testing.assert_array_equal(y.detach().numpy(), expected.numpy())
    (y * t64(Y, grad=False)).sum().backward()
    x2 = t64(X)
    (fn(x2, *args) * t64(Y, grad=False)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-12)


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="leaf"):
        F.elu_(t64(X))


def test_inplace_modules_write_into_their_input():
    x = t64(X, grad=False)
    assert nn.Hardswish(inplace=True)(x) is x
    assert repr(nn.Hardswish(inplace=True)) == "Hardswish(inplace=True)"


def test_rrelu_draws_slopes_in_its_bounds_in_training_and_follows_the_seed():
    x = -sg.ones(1000, dtype=sg.float64)
    sg.manual_seed(3)
    first = F.rrelu(x, 0.1, 0.3, training=True)
    sg.manual_seed(3)
    again = nn.RReLU(0.1, 0.3)(x)
    slopes = -first.numpy()
    assert 0.1 <= slopes.min() < slopes.max() <= 0.3 and np.unique(slopes).size > 900
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert F.rrelu(x, 0.1, 0.3).numpy().tolist() == [-0.2] * 1000  # evaluation: the mean slope


# --- EmbeddingBag and Embedding ----------------------------------------------------------------
WEIGHT = RNG.normal(size=(6, 3))
INDICES = np.array([4, 1, 4, 0, 5, 2, 2, 4])
OFFSETS = np.array([0, 3, 3, 6])


def _bags():
    ends = list(OFFSETS[1:]) + [len(INDICES)]
    return [INDICES[s:e] for s, e in zip(OFFSETS, ends)]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_is_the_reduction_of_each_bags_rows(mode):
    reduce = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode]
    expected = np.stack([reduce(WEIGHT[bag], 0) if len(bag) else np.zeros(3) for bag in _bags()])
    got = F.embedding_bag(sg.tensor(INDICES), t64(WEIGHT), sg.tensor(OFFSETS), mode=mode)
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-12)
    layer = nn.EmbeddingBag.from_pretrained(t64(WEIGHT, grad=False), mode=mode)
    np.testing.assert_allclose(layer(sg.tensor(INDICES), sg.tensor(OFFSETS)).numpy(), expected, rtol=1e-12)


def test_embedding_bag_scale_grad_by_freq_divides_by_each_index_count():
    weight = t64(WEIGHT)
    F.embedding_bag(
        sg.tensor(INDICES), weight, sg.tensor(OFFSETS), mode="sum", scale_grad_by_freq=True
    ).sum().backward()
    counts = np.bincount(INDICES, minlength=6)
    # each occurrence contributes 1 / count: a row that is looked up at all gets exactly 1
    np.testing.assert_allclose(weight.grad.numpy(), np.repeat((counts > 0)[:, None] * 1.0, 3, 1), rtol=1e-12)


def test_embedding_bag_padding_idx_leaves_entries_out_of_sum_and_mean():
    bags = sg.tensor([[1, 3, 3], [3, 3, 3]])
    mean = F.embedding_bag(bags, t64(WEIGHT), mode="mean", padding_idx=3)
    np.testing.assert_allclose(mean.detach().numpy(), np.stack([WEIGHT[1], np.zeros(3)]), rtol=1e-12)


def test_embedding_max_norm_rescales_the_looked_up_rows_in_place():
    layer = nn.Embedding.from_pretrained(t64(WEIGHT * 3, grad=False), max_norm=1.0)
    before = layer.weight.detach().numpy().copy()
    out = layer(sg.tensor([0, 2, 2]))
    after = layer.weight.detach().numpy()
    norms = np.linalg.norm(before, axis=1)
    for row in range(6):
        if row in (0, 2) and norms[row] > 1.0:
            np.testing.assert_allclose(after[row], before[row] / (norms[row] + 1e-7), rtol=1e-12)
        else:
            np.testing.assert_array_equal(after[row], before[row])
    np.testing.assert_allclose(out.numpy(), after[[0, 2, 2]])


def test_embedding_options_and_reprs():
    layer = nn.Embedding(10, 4, padding_idx=-1, max_norm=2.0, scale_grad_by_freq=True)
    assert layer.padding_idx == 9 and not layer.weight[9].detach().numpy().any()
    assert repr(layer) == "Embedding(10, 4, padding_idx=9, max_norm=2.0, scale_grad_by_freq=True)"
    assert repr(nn.EmbeddingBag(5, 2, mode="max")) == "EmbeddingBag(5, 2, mode='max')"
    frozen = nn.Embedding.from_pretrained(sg.ones(3, 2))
    assert not frozen.weight.requires_grad
    assert nn.Embedding.from_pretrained(sg.ones(3, 2), freeze=False).weight.requires_grad
    with pytest.raises(AssertionError):
        nn.Embedding(3, 2, padding_idx=3)


# --- normalisation -----------------------------------------------------------------------------
def test_instance_norm_tracks_running_statistics_without_counting_batches():
    layer = nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.5, dtype=sg.float64)
    x = sg.tensor(RNG.normal(size=(2, 3, 5)))
    layer(x)
    rows = x.numpy()
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.5 * rows.mean(2).mean(0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.5 + 0.5 * rows.var(2, ddof=1).mean(0), rtol=1e-12)
    assert layer.num_batches_tracked.item() == 0
    layer.eval()
    expected = (rows - layer.running_mean.numpy()[:, None]) / np.sqrt(layer.running_var.numpy()[:, None] + 1e-5)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-12)
    assert list(layer.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    assert repr(layer) == (
        "InstanceNorm1d(3, eps=1e-05, momentum=0.5, affine=False, bias=False, track_running_stats=True)"
    )


def test_instance_norm_normalises_each_sample_and_channel():
    x = sg.tensor(RNG.normal(size=(2, 3, 4, 4)))
    out = nn.InstanceNorm2d(3)(x).numpy()
    np.testing.assert_allclose(out.mean((2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var((2, 3)), 1 / (1 + 1e-5 / x.numpy().var((2, 3))), rtol=1e-9)


# --- losses ------------------------------------------------------------------------------------
def test_legacy_reduction_flags_and_positional_reduction():
    a, b = t64(X, grad=False), t64(Y, grad=False)
    total = ((X - Y) ** 2).sum()
    assert F.mse_loss(a, b, size_average=False).item() == pytest.approx(total)
    assert F.mse_loss(a, b, reduce=False).shape == (3, 4)
    assert F.mse_loss(a, b, "sum").item() == pytest.approx(total)  # somegrad's earlier positional form
    assert nn.MSELoss(False).reduction == "sum" and nn.L1Loss(None, False).reduction == "none"
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.margin_ranking_loss(a, b, b, reduction="avg")


def test_gaussian_nll_clamps_the_variance_but_keeps_its_gradient():
    var = t64([1e-9, 2.0])
    loss = F.gaussian_nll_loss(t64([0.0, 0.0], grad=False), t64([1.0, 1.0], grad=False), var, eps=1e-3, reduction="sum")
    clamped = np.array([1e-3, 2.0])
    assert loss.item() == pytest.approx(0.5 * np.sum(np.log(clamped) + 1 / clamped))
    loss.backward()
    np.testing.assert_allclose(var.grad.numpy(), 0.5 * (1 / clamped - 1 / clamped**2), rtol=1e-12)


def test_kl_div_batchmean_is_the_per_sample_divergence():
    p = np.full((2, 4), 0.25)
    q = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    got = F.kl_div(t64(np.log(q)), t64(p), reduction="batchmean").item()
    assert got == pytest.approx(np.sum(p * np.log(p / q)) / 2)
    assert F.kl_div(t64(np.log(q)), t64(np.zeros((2, 4))), reduction="sum").item() == 0.0


def test_loss_module_reprs_and_buffers():
    loss = nn.MultiMarginLoss(weight=sg.ones(3))
    assert list(loss.state_dict()) == ["weight"]
    assert nn.TripletMarginLoss().margin == 1.0 and nn.PoissonNLLLoss().log_input
    assert nn.GaussianNLLLoss(full=True).full


# --- models ------------------------------------------------------------------------------------
def test_a_classifier_with_the_new_layers_trains():
    sg.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 16),
        nn.PReLU(16),
        nn.Unflatten(1, (4, 4)),
        nn.InstanceNorm1d(4, affine=True),
        nn.Flatten(),
        nn.Hardswish(),
        nn.Linear(16, 3),
        nn.LogSigmoid(),
    )
    x = sg.tensor(RNG.normal(size=(32, 4)), dtype=sg.float32)
    labels = sg.tensor((RNG.normal(size=32) > 0).astype(np.int64) + (RNG.normal(size=32) > 1))
    optimizer = sg.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        loss = nn.MultiMarginLoss()(model(x), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "3.weight", "3.bias", "6.weight", "6.bias"]


def test_activation_reprs_follow_pytorch():
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"
    assert repr(nn.CELU(0.5, inplace=True)) == "CELU(alpha=0.5, inplace=True)"
    assert repr(nn.Threshold(0.1, 20.0)) == "Threshold(threshold=0.1, value=20.0)"
    assert repr(nn.Softshrink()) == "Softshrink(0.5)"
    assert repr(nn.RReLU()) == f"RReLU(lower={1 / 8}, upper={1 / 3})"
    assert repr(nn.Softmin(1)) == "Softmin(dim=1)"
    assert repr(nn.ReLU6(inplace=True)) == "ReLU6(inplace=True)"
    assert repr(nn.LocalResponseNorm(2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"
    assert math.isclose(nn.PReLU(init=0.1).weight.item(), 0.1, rel_tol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_of_bags_of_every_length(mode):
    """Bags from empty to 40 long, in random order: grouped by length inside, in order outside."""
    rng = np.random.default_rng(8)
    lengths = rng.permutation(np.concatenate([np.arange(41), [0, 0, 1, 3]]))
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    indices = rng.integers(0, 6, size=int(lengths.sum()))
    weight = t64(WEIGHT)
    out = F.embedding_bag(sg.tensor(indices), weight, sg.tensor(offsets), mode=mode, padding_idx=5)
    reduce = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode]
    expected = []
    for start, length in zip(offsets, lengths):
        bag = [i for i in indices[start : start + length] if i != 5]
        expected.append(reduce(WEIGHT[bag], 0) if bag else np.zeros(3))
    np.testing.assert_allclose(out.detach().numpy(), np.stack(expected), rtol=1e-12, atol=1e-15)
    out.sum().backward()
    assert not weight.grad.numpy()[5].any()


def test_normalize_writes_into_out():
    out = sg.empty(3, 4, dtype=sg.float64)
    result = F.normalize(t64(X, grad=False), p=1.0, dim=1, out=out)
    assert result is out
    np.testing.assert_allclose(out.numpy(), X / np.abs(X).sum(1, keepdims=True), rtol=1e-12)
