"""PyTorch parity of nn's activations, normalisations, small layers and losses: the same call on
both libraries, values and gradients in float64 and float32, the same exception class for bad
input, and layers compared with PyTorch's weights copied in."""

from __future__ import annotations

import math

import numpy as np
import pytest
from harness import Case, ModuleCase, check, check_module, torch

pytestmark = pytest.mark.parity


def F(lib):
    return lib.nn.functional


def _rng(seed=0):
    return np.random.default_rng(seed)


# Values kept away from each activation's kinks, so finite gradients are compared, not subgradients.
SPREAD = _rng(1).permutation(np.linspace(-4.7, 4.7, 24)).reshape(2, 3, 4) + 0.013
SIGNS = np.where(_rng(2).random(5) < 0.5, -1.0, 1.0)
CLASSES = np.array([2, 0, 3, 1, 3])
COUNTS = _rng(3).uniform(0.0, 4.0, size=(3, 4))


def _inplace(name, *args, **kwargs):
    """`F.name(y, ..., inplace=True)` on a non-leaf `y`: returns y itself, written in place."""

    def call(lib, x):
        y = x * 1.0
        out = getattr(F(lib), name)(y, *args, inplace=True, **kwargs)
        assert out is y
        return y

    return call


ACTIVATIONS = [
    Case("elu", lambda lib, x: F(lib).elu(x), [SPREAD]),
    Case("elu-alpha", lambda lib, x: F(lib).elu(x, alpha=0.4), [SPREAD]),
    Case("elu-inplace", _inplace("elu", 0.7), [SPREAD]),
    Case("elu_", lambda lib, x: F(lib).elu_(x * 1.0, 2.0), [SPREAD]),
    Case("selu", lambda lib, x: F(lib).selu(x), [SPREAD]),
    Case("selu-top", lambda lib, x: lib.selu(x), [SPREAD]),
    Case("selu-inplace", _inplace("selu"), [SPREAD]),
    Case("celu", lambda lib, x: F(lib).celu(x, alpha=1.5), [SPREAD]),
    Case("celu-top", lambda lib, x: lib.celu(x, alpha=0.5), [SPREAD]),
    Case("celu-inplace", _inplace("celu", 0.25), [SPREAD]),
    Case("hardswish", lambda lib, x: F(lib).hardswish(x), [SPREAD]),
    Case("hardswish-inplace", _inplace("hardswish"), [SPREAD]),
    # PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32, even in float64
    Case("hardsigmoid", lambda lib, x: F(lib).hardsigmoid(x), [SPREAD], rtol=1e-7),
    Case("hardsigmoid-inplace", _inplace("hardsigmoid"), [SPREAD], rtol=1e-7),
    Case("hardtanh", lambda lib, x: F(lib).hardtanh(x), [SPREAD]),
    Case("hardtanh-bounds", lambda lib, x: F(lib).hardtanh(x, -2.0, 3.0), [SPREAD]),
    Case("hardtanh-inplace", _inplace("hardtanh", -0.5, 0.5), [SPREAD]),
    Case("hardtanh_", lambda lib, x: F(lib).hardtanh_(x * 1.0, -0.5, 0.5), [SPREAD]),
    Case("relu6", lambda lib, x: F(lib).relu6(x * 2), [SPREAD]),
    Case("relu6-int", lambda lib, x: F(lib).relu6(x), [np.array([-3, 0, 4, 9])], grad=False),
    Case("hardtanh-int", lambda lib, x: F(lib).hardtanh(x, -2.0, 3.0), [np.array([-3, 0, 4, 9])], grad=False),
    Case("softsign-int", lambda lib, x: F(lib).softsign(x), [np.array([-3, 0, 4, 9])], grad=False),
    Case("relu6-inplace", _inplace("relu6"), [SPREAD]),
    Case("relu-inplace", _inplace("relu"), [SPREAD]),
    Case("leaky_relu-inplace", _inplace("leaky_relu", 0.2), [SPREAD]),
    Case("leaky_relu_", lambda lib, x: F(lib).leaky_relu_(x * 1.0, 0.3), [SPREAD]),
    Case("silu-inplace", _inplace("silu"), [SPREAD]),
    Case("mish-inplace", _inplace("mish"), [SPREAD]),
    Case("softsign", lambda lib, x: F(lib).softsign(x), [SPREAD]),
    Case("logsigmoid", lambda lib, x: F(lib).logsigmoid(x), [SPREAD]),
    Case("logsigmoid-large", lambda lib, x: F(lib).logsigmoid(x * 40), [SPREAD]),
    Case("softplus", lambda lib, x: F(lib).softplus(x), [SPREAD]),
    Case("softplus-beta", lambda lib, x: F(lib).softplus(x, beta=2.0, threshold=3.0), [SPREAD]),
    Case("mish", lambda lib, x: F(lib).mish(x), [SPREAD]),
    Case("silu", lambda lib, x: F(lib).silu(x), [SPREAD]),
    Case("glu", lambda lib, x: F(lib).glu(x), [SPREAD]),
    Case("glu-dim", lambda lib, x: F(lib).glu(x, dim=0), [SPREAD]),
    Case("tanhshrink", lambda lib, x: F(lib).tanhshrink(x), [SPREAD]),
    Case("softshrink", lambda lib, x: F(lib).softshrink(x), [SPREAD]),
    Case("softshrink-lambd", lambda lib, x: F(lib).softshrink(x, 1.5), [SPREAD]),
    Case("hardshrink", lambda lib, x: F(lib).hardshrink(x, 1.2), [SPREAD]),
    Case(
        "hardshrink-method", lambda lib, x: x.hardshrink(0.7) if lib is torch else F(lib).hardshrink(x, 0.7), [SPREAD]
    ),
    Case("threshold", lambda lib, x: F(lib).threshold(x, 0.5, -2.0), [SPREAD]),
    Case("threshold-inplace", _inplace("threshold", 0.5, -2.0), [SPREAD]),
    Case("threshold_", lambda lib, x: F(lib).threshold_(x * 1.0, 0.1, 9.0), [SPREAD]),
    Case("rrelu-eval", lambda lib, x: F(lib).rrelu(x), [SPREAD]),
    Case("rrelu-bounds", lambda lib, x: F(lib).rrelu(x, 0.1, 0.5, training=False), [SPREAD]),
    Case("rrelu-inplace", _inplace("rrelu"), [SPREAD]),
    Case("prelu-one", lambda lib, x, w: F(lib).prelu(x, w), [SPREAD, np.array([0.25])]),
    Case("prelu-channels", lambda lib, x, w: F(lib).prelu(x, w), [SPREAD, np.array([0.1, -0.3, 0.6])]),
    Case("prelu-1d", lambda lib, x, w: F(lib).prelu(x, w), [SPREAD[0, 0], np.array([0.4])]),
    Case("prelu-0d-weight", lambda lib, x, w: F(lib).prelu(x, w), [SPREAD, np.array(0.2)]),
    Case("softmin", lambda lib, x: F(lib).softmin(x, dim=1), [(3, 5)]),
    Case("softmin-last", lambda lib, x: F(lib).softmin(x, -1), [(2, 3, 4)]),
    Case("softmin-dtype", lambda lib, x: F(lib).softmin(x, 0, dtype=lib.float64), [(3, 4)]),
    Case("softmax-stacklevel", lambda lib, x: F(lib).softmax(x, 1, 3, lib.float64), [(3, 4)]),
    Case("log_softmax", lambda lib, x: F(lib).log_softmax(x, dim=0), [(3, 4)]),
]

NORMALIZE = [
    Case(f"normalize-p{p}-dim{dim}", lambda lib, x, p=p, dim=dim: F(lib).normalize(x, p=p, dim=dim), [SPREAD])
    for p in (2.0, 1.0, 0.5, 3.0, math.inf, -math.inf, 0.0)
    for dim in (1, -1, 0, (1, 2))
] + [
    Case("normalize-default", lambda lib, x: F(lib).normalize(x), [(4, 5)]),
    Case("normalize-eps", lambda lib, x: F(lib).normalize(x * 1e-3, eps=0.5), [(4, 5)]),
    Case(
        "normalize-zero-row", lambda lib, x: F(lib).normalize(x * lib.tensor([[1.0], [0.0]], dtype=x.dtype)), [(2, 3)]
    ),
    Case("normalize-1d", lambda lib, x: F(lib).normalize(x, dim=0), [(5,)]),
    Case("cosine_similarity", lambda lib, a, b: F(lib).cosine_similarity(a, b), [(3, 4), (3, 4)]),
    Case("pairwise_distance", lambda lib, a, b: F(lib).pairwise_distance(a, b), [(3, 4), (3, 4)]),
    Case(
        "pairwise_distance-p1", lambda lib, a, b: F(lib).pairwise_distance(a, b, p=1.0, keepdim=True), [(3, 4), (3, 4)]
    ),
    Case("pairwise_distance-1d", lambda lib, a, b: F(lib).pairwise_distance(a, b, p=3.0), [(4,), (4,)]),
]

NORMS = [
    Case("instance_norm", lambda lib, x: F(lib).instance_norm(x), [(2, 3, 5)]),
    Case("instance_norm-2d", lambda lib, x: F(lib).instance_norm(x, eps=1e-3), [(2, 3, 4, 5)]),
    Case(
        "instance_norm-affine",
        lambda lib, x, w, b: F(lib).instance_norm(x, weight=w, bias=b),
        [(2, 3, 4, 4), (3,), (3,)],
    ),
    Case(
        "instance_norm-running",
        lambda lib, x, m, v: (lambda rm, rv: (F(lib).instance_norm(x, rm, rv, momentum=0.3), rm, rv))(
            m.detach().clone(), v.detach().clone()
        ),
        [(2, 3, 6), np.zeros(3), np.ones(3)],
    ),
    Case(
        "instance_norm-eval",
        lambda lib, x, m, v, w: F(lib).instance_norm(x, m.detach(), v.detach(), w, use_input_stats=False),
        [(2, 3, 6), (3,), np.array([0.5, 1.0, 2.0]), (3,)],
    ),
    Case("local_response_norm", lambda lib, x: F(lib).local_response_norm(x, 3), [(2, 5, 4)]),
    Case("local_response_norm-4d", lambda lib, x: F(lib).local_response_norm(x, 2, 0.1, 0.6, 2.0), [(2, 6, 3, 3)]),
    Case("local_response_norm-5d", lambda lib, x: F(lib).local_response_norm(x, 4, 0.2), [(1, 5, 2, 2, 2)]),
    Case("bilinear", lambda lib, a, b, w, c: F(lib).bilinear(a, b, w, c), [(4, 3), (4, 5), (2, 3, 5), (2,)]),
    Case("bilinear-nobias", lambda lib, a, b, w: F(lib).bilinear(a, b, w), [(2, 4, 3), (2, 4, 5), (6, 3, 5)]),
    Case("bilinear-1d", lambda lib, a, b, w: F(lib).bilinear(a, b, w), [(3,), (5,), (2, 3, 5)]),
]

WEIGHT = _rng(4).normal(size=(7, 3))
BAG_INDEX = np.array([1, 2, 4, 5, 4, 3, 2, 6])
BAG_OFFSETS = np.array([0, 3, 3, 5])

EMBEDDINGS = [
    Case("embedding", lambda lib, w, i: F(lib).embedding(i, w), [WEIGHT, np.array([[0, 2], [2, 6]])]),
    Case(
        "embedding-padding", lambda lib, w, i: F(lib).embedding(i, w, padding_idx=2), [WEIGHT, np.array([0, 2, 2, 5])]
    ),
    Case(
        "embedding-padding-neg", lambda lib, w, i: F(lib).embedding(i, w, padding_idx=-1), [WEIGHT, np.array([6, 1, 6])]
    ),
    Case(
        "embedding-freq",
        lambda lib, w, i: F(lib).embedding(i, w, scale_grad_by_freq=True),
        [WEIGHT, np.array([[1, 1, 3], [1, 4, 3]])],
    ),
    Case(
        "embedding-max_norm",
        lambda lib, w, i: (lambda table: (F(lib).embedding(i, table, max_norm=1.0), table))(w.detach().clone() * 2),
        [WEIGHT, np.array([0, 3, 3, 5])],
        grad=False,
    ),
    Case(
        "embedding-max_norm-p1",
        lambda lib, w, i: (lambda t: (F(lib).embedding(i, t, max_norm=1.5, norm_type=1.0), t))(w.detach().clone()),
        [WEIGHT, np.array([[0, 1], [6, 1]])],
        grad=False,
    ),
]
for mode in ("sum", "mean", "max"):
    EMBEDDINGS += [
        Case(
            f"embedding_bag-2d-{mode}",
            lambda lib, w, i, m=mode: F(lib).embedding_bag(i, w, mode=m),
            [WEIGHT, np.array([[0, 2, 5], [6, 6, 1]])],
        ),
        Case(
            f"embedding_bag-offsets-{mode}",
            lambda lib, w, i, o, m=mode: F(lib).embedding_bag(i, w, o, mode=m),
            [WEIGHT, BAG_INDEX, BAG_OFFSETS],
        ),
        Case(
            f"embedding_bag-last-offset-{mode}",
            lambda lib, w, i, o, m=mode: F(lib).embedding_bag(i, w, o, mode=m, include_last_offset=True),
            [WEIGHT, BAG_INDEX, np.array([0, 2, 2, 6, 8])],
        ),
        Case(
            f"embedding_bag-padding-{mode}",
            lambda lib, w, i, o, m=mode: F(lib).embedding_bag(i, w, o, mode=m, padding_idx=4),
            [WEIGHT, BAG_INDEX, BAG_OFFSETS],
        ),
    ]
# uneven bags (one long, the rest short) take the segment reduction instead of padding
UNEVEN_INDEX = np.array([3, 1, 5, 2, 2, 6, 0, 4, 2, 1, 5, 3])
UNEVEN_OFFSETS = np.array([0, 1, 1, 2, 3])
for mode in ("sum", "mean", "max"):
    EMBEDDINGS += [
        Case(
            f"embedding_bag-uneven-{mode}",
            lambda lib, w, i, o, m=mode: F(lib).embedding_bag(i, w, o, mode=m, padding_idx=2),
            [WEIGHT, UNEVEN_INDEX, UNEVEN_OFFSETS],
        ),
    ]
EMBEDDINGS += [
    Case(
        "embedding_bag-uneven-per-sample",
        lambda lib, w, i, o, s: F(lib).embedding_bag(i, w, o, mode="sum", per_sample_weights=s),
        [WEIGHT, UNEVEN_INDEX, UNEVEN_OFFSETS, (12,)],
    ),
    Case(
        "embedding_bag-per-sample",
        lambda lib, w, i, o, s: F(lib).embedding_bag(i, w, o, mode="sum", per_sample_weights=s),
        [WEIGHT, BAG_INDEX, BAG_OFFSETS, (8,)],
    ),
    Case(
        "embedding_bag-per-sample-2d",
        lambda lib, w, i, s: F(lib).embedding_bag(i, w, mode="sum", per_sample_weights=s, padding_idx=0),
        [WEIGHT, np.array([[0, 2, 5], [6, 0, 1]]), (2, 3)],
    ),
    # scale_grad_by_freq is left out: PyTorch's CPU embedding_bag divides by the wrong counts
    # (test_breadth_layers checks somegrad against the definition, as embedding's is checked here)
    Case("one_hot", lambda lib, i: F(lib).one_hot(i, 5), [np.array([0, 3, 1])], grad=False),
]


def _reductions(name, call, inputs, **kw):
    return [
        Case(f"{name}-{reduction}", lambda lib, *xs, r=reduction: call(lib, *xs, reduction=r), inputs, **kw)
        for reduction in ("mean", "sum", "none")
    ]


LOSSES = [
    *_reductions("kl_div", lambda lib, x, t, **k: F(lib).kl_div(x.log_softmax(1), t.softmax(1), **k), [(3, 4), (3, 4)]),
    *_reductions("kl_div-log", lambda lib, x, t, **k: F(lib).kl_div(x, t, log_target=True, **k), [(3, 4), (3, 4)]),
    Case("kl_div-batchmean", lambda lib, x, t: F(lib).kl_div(x, t.softmax(1), reduction="batchmean"), [(3, 4), (3, 4)]),
    Case(
        "kl_div-zero-target",
        lambda lib, x, t: F(lib).kl_div(x, t.detach() * (t.detach() > 0), reduction="sum"),
        [(3, 4), (3, 4)],
    ),
    Case("kl_div-legacy", lambda lib, x, t: F(lib).kl_div(x, t.abs(), size_average=False), [(3, 4), (3, 4)]),
    *_reductions("huber", lambda lib, x, t, **k: F(lib).huber_loss(x * 3, t, delta=0.7, **k), [(3, 4), (3, 4)]),
    Case("huber-weight", lambda lib, x, t, w: F(lib).huber_loss(x * 3, t, weight=w), [(3, 4), (3, 4), (3, 4)]),
    Case("huber-broadcast", lambda lib, x, t: F(lib).huber_loss(x * 3, t), [(3, 4), (4,)]),
    *_reductions("smooth_l1", lambda lib, x, t, **k: F(lib).smooth_l1_loss(x * 3, t, beta=0.5, **k), [(3, 4), (3, 4)]),
    Case("smooth_l1-beta0", lambda lib, x, t: F(lib).smooth_l1_loss(x, t, beta=0.0), [(3, 4), (3, 4)]),
    Case("smooth_l1-legacy", lambda lib, x, t: F(lib).smooth_l1_loss(x, t, None, False), [(3, 4), (3, 4)]),
    Case("mse-weight", lambda lib, x, t, w: F(lib).mse_loss(x, t, weight=w), [(3, 4), (3, 4), (3, 4)]),
    Case(
        "l1-weight-sum", lambda lib, x, t, w: F(lib).l1_loss(x, t, reduction="sum", weight=w), [(3, 4), (3, 4), (3, 4)]
    ),
    Case("mse-legacy", lambda lib, x, t: F(lib).mse_loss(x, t, False), [(3, 4), (3, 4)]),
    *_reductions(
        "cosine_embedding",
        lambda lib, a, b, y, **k: F(lib).cosine_embedding_loss(a, b, y, **k),
        [(5, 3), (5, 3), SIGNS],
    ),
    Case(
        "cosine_embedding-margin",
        lambda lib, a, b, y: F(lib).cosine_embedding_loss(a, b, y, margin=-0.2),
        [(5, 3), (5, 3), SIGNS],
    ),
    Case(
        "cosine_embedding-1d", lambda lib, a, b, y: F(lib).cosine_embedding_loss(a, b, y), [(3,), (3,), np.array(-1.0)]
    ),
    *_reductions(
        "margin_ranking",
        lambda lib, a, b, y, **k: F(lib).margin_ranking_loss(a, b, y, margin=0.3, **k),
        [(5,), (5,), SIGNS],
    ),
    *_reductions("hinge_embedding", lambda lib, x, y, **k: F(lib).hinge_embedding_loss(x * 2, y, **k), [(5,), SIGNS]),
    Case(
        "hinge_embedding-margin",
        lambda lib, x, y: F(lib).hinge_embedding_loss(x, y.reshape(5, 1), margin=0.4),
        [(5, 3), SIGNS],
    ),
    *_reductions("soft_margin", lambda lib, x, y, **k: F(lib).soft_margin_loss(x * 3, y.detach(), **k), [(5,), SIGNS]),
    *_reductions(
        "multilabel_soft_margin",
        lambda lib, x, y, **k: F(lib).multilabel_soft_margin_loss(x * 3, (y > 0) * 1.0, **k),
        [(3, 4), (3, 4)],
    ),
    Case(
        "multilabel_soft_margin-weight",
        lambda lib, x, y, w: F(lib).multilabel_soft_margin_loss(x, y.abs(), w.abs()),
        [(3, 4), (3, 4), (4,)],
    ),
    *_reductions(
        "multi_margin", lambda lib, x, **k: F(lib).multi_margin_loss(x * 2, lib.tensor(CLASSES), **k), [(5, 4)]
    ),
    Case(
        "multi_margin-p2",
        lambda lib, x: F(lib).multi_margin_loss(x * 2, lib.tensor(CLASSES), p=2, margin=0.5),
        [(5, 4)],
    ),
    Case(
        "multi_margin-weight",
        lambda lib, x, w: F(lib).multi_margin_loss(x * 2, lib.tensor(CLASSES), weight=w.detach().abs()),
        [(5, 4), (4,)],
    ),
    Case("multi_margin-1d", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([2]), reduction="none"), [(4,)]),
    *_reductions(
        "triplet", lambda lib, a, p, n, **k: F(lib).triplet_margin_loss(a, p, n, **k), [(5, 3), (5, 3), (5, 3)]
    ),
    Case(
        "triplet-p1-swap",
        lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, margin=0.5, p=1, swap=True),
        [(5, 3), (5, 3), (5, 3)],
    ),
    Case(
        "triplet-p3",
        lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, p=3.0, eps=1e-3, reduction="none"),
        [(5, 3), (5, 3), (5, 3)],
    ),
    Case("triplet-1d", lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, swap=True), [(3,), (3,), (3,)]),
    *_reductions("poisson_nll", lambda lib, x, t, **k: F(lib).poisson_nll_loss(x, t, **k), [(3, 4), COUNTS]),
    Case(
        "poisson_nll-rate",
        lambda lib, x, t: F(lib).poisson_nll_loss(x.abs() + 0.1, t, log_input=False),
        [(3, 4), COUNTS],
    ),
    Case(
        "poisson_nll-full",
        lambda lib, x, t: F(lib).poisson_nll_loss(x, t, full=True, reduction="none"),
        [(3, 4), COUNTS],
    ),
    Case(
        "poisson_nll-rate-full",
        lambda lib, x, t: F(lib).poisson_nll_loss(x.abs(), t, log_input=False, full=True, eps=1e-3),
        [(3, 4), COUNTS],
    ),
    *_reductions(
        "gaussian_nll",
        lambda lib, x, t, v, **k: F(lib).gaussian_nll_loss(x, t, v.abs() + 0.1, **k),
        [(3, 4), (3, 4), (3, 4)],
    ),
    Case(
        "gaussian_nll-full",
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v.abs(), full=True),
        [(3, 4), (3, 4), (3, 4)],
    ),
    Case(
        "gaussian_nll-short-var",
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v.abs() + 0.1),
        [(3, 4), (3, 4), (3,)],
    ),
    Case(
        "gaussian_nll-one-var",
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v.abs() + 0.1),
        [(3, 4), (3, 4), (3, 1)],
    ),
    Case(
        "gaussian_nll-mid-var",
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v.abs() + 0.1),
        [(2, 3, 4), (2, 3, 4), (2, 1, 4)],
    ),
    Case(
        "gaussian_nll-float-var",
        lambda lib, x, t: F(lib).gaussian_nll_loss(x, t, 0.5, reduction="sum"),
        [(3, 4), (3, 4)],
    ),
    Case(
        "gaussian_nll-clamped",
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v.abs() * 1e-3, eps=1e-3),
        [(3, 4), (3, 4), (3, 4)],
    ),
    Case(
        "cross_entropy-legacy",
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(CLASSES), None, None, 1, False),
        [(5, 4)],
    ),
    Case("nll_loss-positional", lambda lib, x: F(lib).nll_loss(x, lib.tensor(CLASSES), None, None, 3), [(5, 4)]),
    Case(
        "bce-legacy",
        lambda lib, x, t: F(lib).binary_cross_entropy(x.sigmoid(), t.abs(), None, True, False),
        [(3, 4), (3, 4)],
    ),
]


def _first_gradient(fn):
    """`d sum(fn(x) * w) / dx` built with create_graph, so the harness's backward through it
    compares second derivatives with PyTorch's."""

    def call(lib, x, *rest):
        out = fn(lib, x, *rest)
        weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=x.dtype)
        return lib.autograd.grad((out * weights).sum(), [x], create_graph=True)[0]

    return call


SECOND_ORDER = [
    Case(f"double-backward-{name}", _first_gradient(fn), inputs)
    for name, fn, inputs in [
        ("elu", lambda lib, x: F(lib).elu(x, 0.7), [SPREAD]),
        ("selu", lambda lib, x: F(lib).selu(x), [SPREAD]),
        ("celu", lambda lib, x: F(lib).celu(x, 2.0), [SPREAD]),
        ("hardswish", lambda lib, x: F(lib).hardswish(x), [SPREAD]),
        ("softsign", lambda lib, x: F(lib).softsign(x), [SPREAD]),
        ("logsigmoid", lambda lib, x: F(lib).logsigmoid(x), [SPREAD]),
        ("mish", lambda lib, x: F(lib).mish(x), [SPREAD]),
        ("normalize", lambda lib, x: F(lib).normalize(x, p=3.0, dim=1), [SPREAD]),
        ("instance_norm", lambda lib, x: F(lib).instance_norm(x), [(2, 3, 5)]),
        ("local_response_norm", lambda lib, x: F(lib).local_response_norm(x, 3, alpha=0.5), [(2, 4, 3)]),
        (
            "kl_div",
            lambda lib, x, t: F(lib).kl_div(x.log_softmax(1), t.softmax(1).detach(), reduction="none"),
            [(3, 4), (3, 4)],
        ),
        (
            "gaussian_nll",
            lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v.abs() + 0.5, reduction="none"),
            [(3, 4), (3, 4), (3, 4)],
        ),
        ("poisson_nll", lambda lib, x, t: F(lib).poisson_nll_loss(x, t, reduction="none"), [(3, 4), COUNTS]),
        (
            "cosine_embedding",
            lambda lib, a, b: F(lib).cosine_embedding_loss(a, b, lib.tensor(SIGNS, dtype=a.dtype), reduction="none"),
            [(5, 3), (5, 3)],
        ),
        (
            "triplet",
            lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, margin=3.0, reduction="none"),
            [(5, 3), (5, 3), (5, 3)],
        ),
        (
            "multilabel_soft_margin",
            lambda lib, x, t: F(lib).multilabel_soft_margin_loss(x, t.detach().sigmoid(), reduction="none"),
            [(3, 4), (3, 4)],
        ),
    ]
]

CASES = ACTIVATIONS + NORMALIZE + NORMS + EMBEDDINGS + LOSSES + SECOND_ORDER


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_functional(case, dtype):
    check(case, dtype)


# --- layers ------------------------------------------------------------------------------------
def _seq(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.InstanceNorm2d(4, affine=True), nn.PReLU(4), nn.Flatten(), nn.Linear(36, 3)
    )


MODULES = [
    ModuleCase("PReLU", lambda lib: lib.nn.PReLU(), [SPREAD]),
    ModuleCase("PReLU-channels", lambda lib: lib.nn.PReLU(3, init=0.1), [SPREAD]),
    ModuleCase("SELU", lambda lib: lib.nn.SELU(), [SPREAD]),
    ModuleCase("CELU", lambda lib: lib.nn.CELU(0.5), [SPREAD]),
    ModuleCase("ELU-inplace", lambda lib: lib.nn.ELU(0.5, inplace=True), [SPREAD], call=lambda m, x: m(x * 1.0)),
    ModuleCase("Hardswish", lambda lib: lib.nn.Hardswish(), [SPREAD]),
    ModuleCase("Hardsigmoid", lambda lib: lib.nn.Hardsigmoid(), [SPREAD], rtol=1e-7),
    ModuleCase("Hardtanh", lambda lib: lib.nn.Hardtanh(-2.0, 2.0), [SPREAD]),
    ModuleCase("ReLU6-inplace", lambda lib: lib.nn.ReLU6(inplace=True), [SPREAD], call=lambda m, x: m(x * 2)),
    ModuleCase("Softsign", lambda lib: lib.nn.Softsign(), [SPREAD]),
    ModuleCase("LogSigmoid", lambda lib: lib.nn.LogSigmoid(), [SPREAD]),
    ModuleCase("Tanhshrink", lambda lib: lib.nn.Tanhshrink(), [SPREAD]),
    ModuleCase("Softshrink", lambda lib: lib.nn.Softshrink(0.8), [SPREAD]),
    ModuleCase("Hardshrink", lambda lib: lib.nn.Hardshrink(), [SPREAD]),
    ModuleCase("Threshold", lambda lib: lib.nn.Threshold(0.2, 20.0), [SPREAD]),
    ModuleCase("RReLU-eval", lambda lib: lib.nn.RReLU(0.1, 0.3), [SPREAD], train=False),
    ModuleCase("Mish", lambda lib: lib.nn.Mish(), [SPREAD]),
    ModuleCase("SiLU", lambda lib: lib.nn.SiLU(), [SPREAD]),
    ModuleCase("GLU", lambda lib: lib.nn.GLU(1), [(2, 4, 3)]),
    ModuleCase("Softmin", lambda lib: lib.nn.Softmin(dim=1), [(3, 4)]),
    ModuleCase("Softmax2d", lambda lib: lib.nn.Softmax2d(), [(2, 3, 4, 4)]),
    ModuleCase("Softmax2d-3d", lambda lib: lib.nn.Softmax2d(), [(3, 4, 4)]),
    ModuleCase("InstanceNorm1d", lambda lib: lib.nn.InstanceNorm1d(3), [(2, 3, 5)]),
    ModuleCase("InstanceNorm1d-unbatched", lambda lib: lib.nn.InstanceNorm1d(3, affine=True), [(3, 5)]),
    ModuleCase("InstanceNorm2d-affine", lambda lib: lib.nn.InstanceNorm2d(3, affine=True), [(2, 3, 4, 4)]),
    ModuleCase(
        "InstanceNorm2d-tracked",
        lambda lib: lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.2),
        [(2, 3, 4, 4)],
        call=lambda m, x: (m(x), m.running_mean, m.running_var),
    ),
    ModuleCase(
        "InstanceNorm2d-tracked-eval",
        lambda lib: lib.nn.InstanceNorm2d(3, track_running_stats=True),
        [(2, 3, 4, 4)],
        train=False,
    ),
    ModuleCase("InstanceNorm3d", lambda lib: lib.nn.InstanceNorm3d(2, affine=True), [(2, 2, 3, 3, 3)]),
    ModuleCase("LocalResponseNorm", lambda lib: lib.nn.LocalResponseNorm(3, alpha=0.1), [(2, 5, 3, 3)]),
    ModuleCase("PairwiseDistance", lambda lib: lib.nn.PairwiseDistance(p=1.5, keepdim=True), [(4, 3), (4, 3)]),
    ModuleCase("CosineSimilarity", lambda lib: lib.nn.CosineSimilarity(dim=0), [(4, 3), (4, 3)]),
    ModuleCase("Identity", lambda lib: lib.nn.Identity(54, unused=True), [(2, 3)]),
    ModuleCase("Flatten", lambda lib: lib.nn.Flatten(), [(2, 3, 4)]),
    ModuleCase("Flatten-dims", lambda lib: lib.nn.Flatten(0, 1), [(2, 3, 4)]),
    ModuleCase("Unflatten", lambda lib: lib.nn.Unflatten(1, (2, 6)), [(2, 12)]),
    ModuleCase("Unflatten-neg", lambda lib: lib.nn.Unflatten(-1, (3, -1)), [(2, 12)]),
    ModuleCase("Bilinear", lambda lib: lib.nn.Bilinear(3, 5, 4), [(6, 3), (6, 5)]),
    ModuleCase("Bilinear-nobias", lambda lib: lib.nn.Bilinear(3, 2, 4, bias=False), [(2, 6, 3), (2, 6, 2)]),
    ModuleCase("Embedding-padding", lambda lib: lib.nn.Embedding(7, 3, padding_idx=1), [np.array([[1, 2], [5, 1]])]),
    ModuleCase(
        "Embedding-max_norm",
        lambda lib: lib.nn.Embedding(7, 3, max_norm=1.0),
        [np.array([[0, 2], [5, 2]])],
        call=lambda m, i: (m(i), m.weight * 1.0),
    ),
    ModuleCase(
        "Embedding-from_pretrained",
        lambda lib: lib.nn.Embedding.from_pretrained(lib.tensor(WEIGHT), freeze=False, padding_idx=2),
        [np.array([[2, 0], [6, 2]])],
    ),
    ModuleCase(
        "EmbeddingBag-from_pretrained",
        lambda lib: lib.nn.EmbeddingBag.from_pretrained(lib.tensor(WEIGHT), freeze=False, mode="sum"),
        [np.array([[2, 0], [6, 2]])],
    ),
    ModuleCase("Embedding-freq", lambda lib: lib.nn.Embedding(7, 3, scale_grad_by_freq=True), [np.array([1, 1, 2, 1])]),
    ModuleCase("EmbeddingBag-mean", lambda lib: lib.nn.EmbeddingBag(7, 3), [BAG_INDEX, BAG_OFFSETS]),
    ModuleCase("EmbeddingBag-max", lambda lib: lib.nn.EmbeddingBag(7, 3, mode="max"), [np.array([[0, 3], [4, 4]])]),
    ModuleCase(
        "EmbeddingBag-sum-weights",
        lambda lib: lib.nn.EmbeddingBag(7, 3, mode="sum", padding_idx=2),
        [BAG_INDEX, BAG_OFFSETS, (8,)],
        call=lambda m, i, o, s: m(i, o, per_sample_weights=s),
    ),
    ModuleCase("Sequential-prelu-instancenorm", _seq, [(2, 2, 5, 5)]),
    ModuleCase("KLDivLoss", lambda lib: lib.nn.KLDivLoss(reduction="batchmean"), [(3, 4), np.full((3, 4), 0.25)]),
    ModuleCase("KLDivLoss-log", lambda lib: lib.nn.KLDivLoss(reduction="sum", log_target=True), [(3, 4), (3, 4)]),
    ModuleCase("HuberLoss", lambda lib: lib.nn.HuberLoss(delta=0.3), [(3, 4), (3, 4)]),
    ModuleCase("SmoothL1Loss", lambda lib: lib.nn.SmoothL1Loss(beta=0.3), [(3, 4), (3, 4)]),
    ModuleCase("SmoothL1Loss-legacy", lambda lib: lib.nn.SmoothL1Loss(False), [(3, 4), (3, 4)]),
    ModuleCase("CosineEmbeddingLoss", lambda lib: lib.nn.CosineEmbeddingLoss(0.1), [(5, 3), (5, 3), SIGNS]),
    ModuleCase("MarginRankingLoss", lambda lib: lib.nn.MarginRankingLoss(0.2, reduction="sum"), [(5,), (5,), SIGNS]),
    ModuleCase("HingeEmbeddingLoss", lambda lib: lib.nn.HingeEmbeddingLoss(0.5), [(5,), SIGNS]),
    ModuleCase(
        "SoftMarginLoss", lambda lib: lib.nn.SoftMarginLoss(), [(5,), SIGNS], call=lambda m, x, y: m(x, y.detach())
    ),
    ModuleCase("MultiLabelSoftMarginLoss", lambda lib: lib.nn.MultiLabelSoftMarginLoss(), [(3, 4), (COUNTS > 2) * 1.0]),
    ModuleCase(
        "MultiLabelSoftMarginLoss-weight",
        lambda lib: lib.nn.MultiLabelSoftMarginLoss(lib.tensor([1.0, 2.0, 0.5, 1.5])),
        [(3, 4), (COUNTS > 2) * 1.0],
    ),
    ModuleCase("MultiMarginLoss", lambda lib: lib.nn.MultiMarginLoss(p=2, margin=0.7), [(5, 4), CLASSES]),
    ModuleCase(
        "MultiMarginLoss-weight",
        lambda lib: lib.nn.MultiMarginLoss(weight=lib.tensor([1.0, 2.0, 0.5, 1.5])),
        [(5, 4), CLASSES],
    ),
    ModuleCase(
        "TripletMarginLoss",
        lambda lib: lib.nn.TripletMarginLoss(margin=0.5, p=1.0, swap=True),
        [(5, 3), (5, 3), (5, 3)],
    ),
    ModuleCase("PoissonNLLLoss", lambda lib: lib.nn.PoissonNLLLoss(), [(3, 4), COUNTS]),
    ModuleCase(
        "PoissonNLLLoss-full",
        lambda lib: lib.nn.PoissonNLLLoss(log_input=False, full=True),
        [(3, 4), COUNTS],
        low=0.1,
        high=2.0,
    ),
    ModuleCase("GaussianNLLLoss", lambda lib: lib.nn.GaussianNLLLoss(), [(3, 4), (3, 4), COUNTS + 0.1]),
    ModuleCase(
        "GaussianNLLLoss-full",
        lambda lib: lib.nn.GaussianNLLLoss(full=True, reduction="sum"),
        [(3, 4), (3, 4), COUNTS[:, :1] + 0.1],
    ),
    ModuleCase("CrossEntropyLoss-positional", lambda lib: lib.nn.CrossEntropyLoss(None, None, 2), [(5, 4), CLASSES]),
    ModuleCase("NLLLoss-legacy", lambda lib: lib.nn.NLLLoss(None, False), [(5, 4), CLASSES]),
    ModuleCase(
        "BCEWithLogitsLoss-legacy", lambda lib: lib.nn.BCEWithLogitsLoss(None, None, False), [(3, 4), COUNTS / 4]
    ),
]


@pytest.mark.parametrize("case", MODULES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_module(case, dtype):
    check_module(case, dtype)
