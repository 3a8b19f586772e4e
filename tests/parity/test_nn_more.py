"""PyTorch parity of nn's parameter containers, BatchNorm1d/2d/3d, the dropout family (in eval
mode and at p 0 and 1, where they are deterministic), multilabel_margin_loss,
triplet_margin_with_distance_loss, pdist and the *_with_indices pooling forms: values and
gradients in float64 and float32, exception classes, state-dict keys and reprs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from harness import Case, ModuleCase, check, check_error, check_module, torch

import somegrad as sg

pytestmark = pytest.mark.parity


def F(lib):
    return lib.nn.functional


TARGETS = np.array([[3, 0, -1, 1], [1, 1, -1, 2], [-1, 2, 0, 1], [0, 1, 2, 3]])


def _cosine_distance(lib):
    return lambda a, b: 1.0 - F(lib).cosine_similarity(a, b)


CASES = [
    # dropout family: deterministic where PyTorch is
    Case("dropout1d-eval", lambda lib, x: F(lib).dropout1d(x, 0.5, training=False), [(2, 3, 4)]),
    Case("dropout1d-p0", lambda lib, x: F(lib).dropout1d(x, 0.0), [(3, 4)]),
    Case("dropout1d-p1", lambda lib, x: F(lib).dropout1d(x, 1.0), [(2, 3, 4)]),
    Case("dropout2d-eval", lambda lib, x: F(lib).dropout2d(x, 0.3, training=False), [(2, 3, 4, 4)]),
    Case("dropout2d-p1", lambda lib, x: F(lib).dropout2d(x, 1.0), [(2, 3, 4, 4)]),
    Case("dropout3d-eval", lambda lib, x: F(lib).dropout3d(x, 0.3, False), [(2, 3, 2, 2, 2)]),
    Case("dropout3d-p1-unbatched", lambda lib, x: F(lib).dropout3d(x, 1.0), [(3, 2, 2, 2)]),
    Case("dropout-p1", lambda lib, x: F(lib).dropout(x, 1.0), [(3, 4)]),
    Case("alpha_dropout-default-eval", lambda lib, x: F(lib).alpha_dropout(x, 0.5), [(3, 4)]),
    Case("alpha_dropout-p0", lambda lib, x: F(lib).alpha_dropout(x, 0.0, True), [(3, 4)]),
    Case("alpha_dropout-p1", lambda lib, x: F(lib).alpha_dropout(x, 1.0, True), [(3, 4)]),
    Case("feature_alpha_dropout-eval", lambda lib, x: F(lib).feature_alpha_dropout(x, 0.2), [(2, 3, 4)]),
    Case("feature_alpha_dropout-p1", lambda lib, x: F(lib).feature_alpha_dropout(x, 1.0, True), [(2, 3, 4)]),
    # multilabel_margin_loss
    Case("multilabel_margin_loss", lambda lib, x, t: F(lib).multilabel_margin_loss(x, t), [(4, 4), TARGETS]),
    Case(
        "multilabel_margin_loss-none",
        lambda lib, x, t: F(lib).multilabel_margin_loss(x, t, reduction="none"),
        [(4, 4), TARGETS],
    ),
    Case(
        "multilabel_margin_loss-sum",
        lambda lib, x, t: F(lib).multilabel_margin_loss(x * 0.3, t, reduction="sum"),
        [(4, 4), TARGETS],
    ),
    Case(
        "multilabel_margin_loss-1d",
        lambda lib, x, t: F(lib).multilabel_margin_loss(x, t, reduction="none"),
        [(5,), np.array([4, 1, -1, 0, 2])],
    ),
    Case(
        "multilabel_margin_loss-legacy",
        lambda lib, x, t: F(lib).multilabel_margin_loss(x, t, size_average=False),
        [(4, 4), TARGETS],
    ),
    Case(
        "MultiLabelMarginLoss-module",
        lambda lib, x, t: lib.nn.MultiLabelMarginLoss(reduction="none")(x, t),
        [(4, 4), TARGETS],
    ),
    # triplet_margin_with_distance_loss
    Case(
        "triplet_margin_with_distance_loss",
        lambda lib, a, p, n: F(lib).triplet_margin_with_distance_loss(a, p, n),
        [(5, 3), (5, 3), (5, 3)],
    ),
    Case(
        "triplet_margin_with_distance_loss-cosine-swap",
        lambda lib, a, p, n: F(lib).triplet_margin_with_distance_loss(
            a, p, n, distance_function=_cosine_distance(lib), margin=0.5, swap=True, reduction="none"
        ),
        [(5, 3), (5, 3), (5, 3)],
    ),
    Case(
        "triplet_margin_with_distance_loss-1d-sum",
        lambda lib, a, p, n: F(lib).triplet_margin_with_distance_loss(a, p, n, margin=2.0, reduction="sum"),
        [(4,), (4,), (4,)],
    ),
    Case(
        "TripletMarginWithDistanceLoss-module",
        lambda lib, a, p, n: lib.nn.TripletMarginWithDistanceLoss(
            distance_function=lib.nn.PairwiseDistance(p=1.0), margin=1.5, swap=True
        )(a, p, n),
        [(5, 3), (5, 3), (5, 3)],
    ),
    Case(
        "TripletMarginWithDistanceLoss-default",
        lambda lib, a, p, n: lib.nn.TripletMarginWithDistanceLoss(reduction="none")(a, p, n),
        [(5, 3), (5, 3), (5, 3)],
    ),
    # pdist
    Case("pdist", lambda lib, x: F(lib).pdist(x), [(5, 3)]),
    Case("pdist-p1", lambda lib, x: F(lib).pdist(x, p=1), [(5, 3)]),
    Case("pdist-p3", lambda lib, x: F(lib).pdist(x, 3.0), [(4, 6)]),
    Case("pdist-p0.5", lambda lib, x: F(lib).pdist(x, 0.5), [(4, 3)], rtol=1e-9),
    Case("pdist-inf", lambda lib, x: F(lib).pdist(x, math.inf), [(4, 3)]),
    Case("pdist-one-row", lambda lib, x: F(lib).pdist(x), [(1, 3)]),
    Case("pdist-two-rows", lambda lib, x: F(lib).pdist(x * 2.0), [(2, 7)]),
    # the *_with_indices forms (return_indices ignored: always a pair)
    Case("max_pool1d_with_indices", lambda lib, x: F(lib).max_pool1d_with_indices(x, 2), [(2, 3, 8)]),
    Case(
        "max_pool2d_with_indices",
        lambda lib, x: F(lib).max_pool2d_with_indices(x, 3, stride=2, padding=1),
        [(2, 3, 6, 6)],
    ),
    Case("max_pool3d_with_indices", lambda lib, x: F(lib).max_pool3d_with_indices(x, 2), [(1, 2, 4, 4, 4)]),
    Case("adaptive_max_pool1d_with_indices", lambda lib, x: F(lib).adaptive_max_pool1d_with_indices(x, 3), [(2, 7)]),
    Case(
        "adaptive_max_pool2d_with_indices",
        lambda lib, x: F(lib).adaptive_max_pool2d_with_indices(x, (2, 3)),
        [(2, 3, 5, 7)],
    ),
    Case(
        "adaptive_max_pool3d_with_indices",
        lambda lib, x: F(lib).adaptive_max_pool3d_with_indices(x, 2),
        [(1, 2, 4, 5, 3)],
    ),
    Case(
        "fractional_max_pool2d_with_indices",
        lambda lib, x, s: F(lib).fractional_max_pool2d_with_indices(x, 2, output_size=3, _random_samples=s.detach()),
        [(2, 3, 7, 7), np.random.default_rng(5).random((2, 3, 2))],
    ),
    Case(
        "fractional_max_pool3d_with_indices",
        lambda lib, x, s: F(lib).fractional_max_pool3d_with_indices(x, 2, output_size=2, _random_samples=s.detach()),
        [(1, 2, 5, 5, 5), np.random.default_rng(6).random((1, 2, 3))],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_functional(case, dtype):
    check(case, dtype)


def _list_model(lib):
    return lib.nn.ParameterList([lib.nn.Parameter(lib.randn(3, 4)), lib.randn(4)])


def _dict_model(lib):
    return lib.nn.ParameterDict({"scale": lib.nn.Parameter(lib.randn(4)), "shift": lib.randn(4)})


MODULES = [
    ModuleCase("ParameterList", _list_model, [(2, 3)], call=lambda m, x: x @ m[0] + m[1] * m[-1]),
    ModuleCase(
        "ParameterList-iter",
        lambda lib: _list_model(lib).append(lib.nn.Parameter(lib.randn(4))),
        [(2, 3)],
        call=lambda m, x: sum(p.sum() for p in m) * x,
    ),
    ModuleCase("ParameterDict", _dict_model, [(2, 4)], call=lambda m, x: x * m["scale"] + m["shift"]),
    ModuleCase("BatchNorm1d", lambda lib: lib.nn.BatchNorm1d(3), [(6, 3)]),
    ModuleCase("BatchNorm1d-3d", lambda lib: lib.nn.BatchNorm1d(3, momentum=None), [(4, 3, 5)]),
    ModuleCase("BatchNorm1d-eval", lambda lib: lib.nn.BatchNorm1d(3), [(4, 3, 5)], train=False),
    ModuleCase("BatchNorm2d", lambda lib: lib.nn.BatchNorm2d(3, eps=1e-3), [(2, 3, 4, 4)]),
    ModuleCase("BatchNorm2d-eval", lambda lib: lib.nn.BatchNorm2d(3), [(2, 3, 4, 4)], train=False),
    ModuleCase("BatchNorm3d", lambda lib: lib.nn.BatchNorm3d(2), [(2, 2, 3, 4, 3)]),
    ModuleCase("BatchNorm3d-noaffine", lambda lib: lib.nn.BatchNorm3d(2, affine=False), [(2, 2, 3, 3, 3)]),
    ModuleCase("BatchNorm3d-nostats", lambda lib: lib.nn.BatchNorm3d(2, track_running_stats=False), [(2, 2, 2, 3, 3)]),
    ModuleCase("BatchNorm3d-eval", lambda lib: lib.nn.BatchNorm3d(2), [(2, 2, 2, 3, 3)], train=False),
    ModuleCase("Dropout1d-eval", lambda lib: lib.nn.Dropout1d(0.4), [(2, 3, 4)], train=False),
    ModuleCase("Dropout2d-eval", lambda lib: lib.nn.Dropout2d(), [(2, 3, 4, 4)], train=False),
    ModuleCase("Dropout3d-eval", lambda lib: lib.nn.Dropout3d(), [(2, 3, 2, 2, 2)], train=False),
    ModuleCase("Dropout3d-p1", lambda lib: lib.nn.Dropout3d(1.0), [(2, 3, 2, 2, 2)]),
    ModuleCase("AlphaDropout-eval", lambda lib: lib.nn.AlphaDropout(0.2), [(3, 4)], train=False),
    ModuleCase("AlphaDropout-p0", lambda lib: lib.nn.AlphaDropout(0.0), [(3, 4)]),
    ModuleCase("FeatureAlphaDropout-eval", lambda lib: lib.nn.FeatureAlphaDropout(0.2), [(2, 3, 4)], train=False),
    ModuleCase("FeatureAlphaDropout-p1", lambda lib: lib.nn.FeatureAlphaDropout(1.0), [(2, 3, 4)]),
    ModuleCase(
        "BatchNorm3d-in-model",
        lambda lib: lib.nn.Sequential(
            lib.nn.Conv3d(2, 3, 2),
            lib.nn.BatchNorm3d(3),
            lib.nn.ReLU(),
        ),
        [(2, 2, 4, 4, 4)],
    ),
]


@pytest.mark.parametrize("case", MODULES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_module(case, dtype):
    check_module(case, dtype)


@pytest.mark.parametrize("cls", ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats(cls, momentum):
    shape = {"BatchNorm1d": (6, 3, 4), "BatchNorm2d": (4, 3, 3, 3), "BatchNorm3d": (2, 3, 2, 3, 3)}[cls]
    rng = np.random.default_rng(3)
    mods = {lib: getattr(lib.nn, cls)(3, momentum=momentum).double() for lib in (torch, sg)}
    for _ in range(3):
        x = rng.normal(1.0, 2.0, size=shape)
        for lib, mod in mods.items():
            mod(lib.tensor(x))
    t_state, s_state = mods[torch].state_dict(), mods[sg].state_dict()
    assert list(s_state) == list(t_state)
    for key in t_state:
        np.testing.assert_allclose(s_state[key].numpy(), t_state[key].numpy(), rtol=1e-12, err_msg=key)


def test_reprs():
    def same(make):
        want = repr(make(torch)).replace("torch.", "somegrad.")
        assert repr(make(sg)) == want

    same(lambda lib: lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 3)), lib.zeros(3)]))
    same(lambda lib: lib.nn.ParameterList([lib.zeros(3)]))
    same(lambda lib: lib.nn.ParameterList())
    same(lambda lib: lib.nn.ParameterDict({"b": lib.zeros(2), "a": lib.nn.Parameter(lib.zeros(1, 4))}))
    same(lambda lib: lib.nn.BatchNorm3d(4, momentum=None, affine=False))
    for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
        same(lambda lib, name=name: getattr(lib.nn, name)(0.25, inplace=True))
        same(lambda lib, name=name: getattr(lib.nn, name)())
    same(lambda lib: lib.nn.MultiLabelMarginLoss())
    same(lambda lib: lib.nn.TripletMarginWithDistanceLoss())
    same(lambda lib: lib.nn.TripletMarginWithDistanceLoss(distance_function=lib.nn.PairwiseDistance(p=1.0)))


def test_parameter_containers_state_dict_round_trip():
    for make in (_list_model, _dict_model):
        t_mod, s_mod = make(torch), make(sg)
        assert list(s_mod.state_dict()) == list(t_mod.state_dict())
        s_mod.load_state_dict({k: sg.tensor(v.numpy()) for k, v in t_mod.state_dict().items()})
        for (sk, sv), (tk, tv) in zip(s_mod.named_parameters(), t_mod.named_parameters()):
            assert sk == tk
            np.testing.assert_array_equal(sv.detach().numpy(), tv.detach().numpy())


ERRORS = [
    (lambda lib, x: F(lib).dropout1d(x, 0.5), [(2, 3, 4, 5)]),
    (lambda lib, x: F(lib).dropout1d(x, 1.5), [(2, 3, 4)]),
    (lambda lib, x: F(lib).dropout2d(x, -0.1), [(2, 3, 4, 4)]),
    (lambda lib, x: F(lib).alpha_dropout(x, 2.0, True), [(3, 4)]),
    (lambda lib, x: F(lib).feature_alpha_dropout(x, 0.5, True), [(4,)]),
    (lambda lib, x: lib.nn.Dropout1d(1.2), []),
    (lambda lib: lib.nn.AlphaDropout(-0.5), []),
    (lambda lib, x: lib.nn.BatchNorm3d(3)(x), [(2, 3, 4, 4)]),
    (lambda lib, x: lib.nn.BatchNorm2d(3)(x), [(2, 3, 4, 4, 4)]),
    (lambda lib, x, t: F(lib).multilabel_margin_loss(x, t), [(2, 4), np.array([[4, 0, -1, 1], [1, 1, -1, 2]])]),
    (lambda lib, x, t: F(lib).multilabel_margin_loss(x, t), [(2, 4), np.array([[1, 0, -1], [1, 1, -1]])]),
    (lambda lib, x, t: F(lib).multilabel_margin_loss(x, t), [(2, 4), np.zeros((2, 4), dtype=np.int32)]),
    (lambda lib, x, t: F(lib).multilabel_margin_loss(x, t, reduction="avg"), [(2, 4), TARGETS[:2]]),
    (lambda lib, a, p, n: F(lib).triplet_margin_with_distance_loss(a, p, n), [(3, 4), (3, 4), (4,)]),
    (lambda lib, a, p, n: F(lib).triplet_margin_with_distance_loss(a, p, n, margin=0.0), [(3, 4), (3, 4), (3, 4)]),
    (lambda lib: lib.nn.TripletMarginWithDistanceLoss(margin=-1.0), []),
    (lambda lib, x: F(lib).pdist(x), [(3,)]),
    (lambda lib, x: F(lib).pdist(x, p=-1.0), [(3, 2)]),
    (lambda lib, x: F(lib).pdist(x), [(2, 3, 2)]),
    (lambda lib: lib.nn.ParameterList([lib.zeros(2)])[3], []),
    (lambda lib: lib.nn.ParameterDict()["missing"], []),
    (lambda lib: lib.nn.ParameterList([lib.zeros(2)])(lib.zeros(2)), []),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    call, inputs = ERRORS[index]
    check_error(call, inputs)


# --- lazy modules: materialised at the first call, then the eager layer ----------------------------
def _dry_run(make, shape):
    def build(lib):
        module = make(lib)
        module(lib.zeros(shape))
        return module

    return build


LAZY = [
    ("LazyLinear", lambda lib: lib.nn.LazyLinear(5), (2, 3), "Linear"),
    ("LazyLinear-nobias-3d", lambda lib: lib.nn.LazyLinear(4, bias=False), (2, 3, 6), "Linear"),
    ("LazyConv1d", lambda lib: lib.nn.LazyConv1d(4, 3, padding=1), (2, 3, 7), "Conv1d"),
    ("LazyConv1d-unbatched", lambda lib: lib.nn.LazyConv1d(4, 2), (3, 7), "Conv1d"),
    ("LazyConv2d", lambda lib: lib.nn.LazyConv2d(6, 3, stride=2, groups=2), (2, 4, 7, 7), "Conv2d"),
    ("LazyConv3d", lambda lib: lib.nn.LazyConv3d(2, 2, bias=False), (1, 3, 4, 4, 4), "Conv3d"),
    ("LazyConvTranspose1d", lambda lib: lib.nn.LazyConvTranspose1d(4, 3, stride=2), (2, 3, 5), "ConvTranspose1d"),
    ("LazyConvTranspose2d", lambda lib: lib.nn.LazyConvTranspose2d(4, 3, groups=2), (2, 6, 4, 4), "ConvTranspose2d"),
    ("LazyConvTranspose3d", lambda lib: lib.nn.LazyConvTranspose3d(2, 2), (1, 3, 3, 3, 3), "ConvTranspose3d"),
    ("LazyBatchNorm1d", lambda lib: lib.nn.LazyBatchNorm1d(), (4, 3), "BatchNorm1d"),
    ("LazyBatchNorm2d", lambda lib: lib.nn.LazyBatchNorm2d(momentum=None), (2, 3, 4, 4), "BatchNorm2d"),
    ("LazyBatchNorm3d", lambda lib: lib.nn.LazyBatchNorm3d(affine=False), (2, 3, 2, 3, 3), "BatchNorm3d"),
    ("LazyInstanceNorm1d", lambda lib: lib.nn.LazyInstanceNorm1d(affine=True), (2, 3, 5), "InstanceNorm1d"),
    ("LazyInstanceNorm2d", lambda lib: lib.nn.LazyInstanceNorm2d(), (2, 3, 4, 4), "InstanceNorm2d"),
    (
        "LazyInstanceNorm3d",
        lambda lib: lib.nn.LazyInstanceNorm3d(affine=True, track_running_stats=True),
        (2, 3, 2, 3, 3),
        "InstanceNorm3d",
    ),
]


@pytest.mark.parametrize("name, make, shape, becomes", LAZY, ids=[item[0] for item in LAZY])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lazy_module(name, make, shape, becomes, dtype):
    check_module(ModuleCase(name, _dry_run(make, shape), [shape]), dtype)


@pytest.mark.parametrize("name, make, shape, becomes", LAZY, ids=[item[0] for item in LAZY])
def test_lazy_module_lifecycle(name, make, shape, becomes):
    t_mod, s_mod = make(torch), make(sg)
    assert repr(s_mod) == repr(t_mod)
    assert list(s_mod.state_dict()) == list(t_mod.state_dict())
    assert s_mod.has_uninitialized_params() == t_mod.has_uninitialized_params()
    held = dict(s_mod.named_parameters())
    t_mod(torch.zeros(shape))
    s_mod(sg.zeros(shape))
    assert type(s_mod).__name__ == type(t_mod).__name__ == becomes
    assert repr(s_mod) == repr(t_mod)
    t_state, s_state = t_mod.state_dict(), s_mod.state_dict()
    assert list(s_state) == list(t_state)
    for key in t_state:
        assert tuple(s_state[key].shape) == tuple(t_state[key].shape), key
        assert s_state[key].dtype.name == str(t_state[key].dtype).removeprefix("torch."), key
    for key, param in s_mod.named_parameters():
        assert type(param) is sg.nn.Parameter and param is held[key]  # materialised in place


@pytest.mark.parametrize("name, make, shape, becomes", LAZY, ids=[item[0] for item in LAZY])
def test_lazy_module_loads_a_state_dict(name, make, shape, becomes):
    torch.manual_seed(0)
    t_mod = make(torch)
    t_mod(torch.zeros(shape))
    t_mod.train(False)
    s_mod = make(sg)
    s_mod.load_state_dict({k: sg.tensor(v.numpy()) for k, v in t_mod.state_dict().items()})
    s_mod.train(False)
    x = np.random.default_rng(2).normal(size=shape).astype(np.float32)
    got = s_mod(sg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, t_mod(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert type(s_mod).__name__ == becomes


def test_lazy_errors():
    check_error(lambda lib, x: lib.nn.LazyConv2d(4, 3, groups=2)(x), [(1, 3, 5, 5)])
    check_error(lambda lib, x: lib.nn.LazyConv2d(4, 3)(x), [(5, 5)])
    assert repr(sg.nn.UninitializedParameter()) == repr(torch.nn.UninitializedParameter())
