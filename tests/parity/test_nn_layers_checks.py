"""PyTorch parity of nn's activations, normalisations, small layers and losses, continued: the
same exception class for bad input, and small models that train along PyTorch's trajectory and
whose state dicts load into PyTorch's (the values and gradients are in test_nn_layers.py)."""

from __future__ import annotations

import numpy as np
import pytest
from harness import check_error, copy_state, to_numpy, torch

import somegrad as sg

pytestmark = pytest.mark.parity


def F(lib):
    return lib.nn.functional


def _rng(seed=0):
    return np.random.default_rng(seed)


# --- errors ------------------------------------------------------------------------------------
INTEGERS = np.array([-2, 0, 3])

ERRORS = [
    *[
        (f"{name}-int", lambda lib, x, name=name: getattr(F(lib), name)(x), [INTEGERS])
        for name in ("elu", "selu", "celu", "hardswish", "hardsigmoid", "logsigmoid", "mish")
    ],
    ("reduction", lambda lib, x, t: F(lib).huber_loss(x, t, reduction="average"), [(3,), (3,)]),
    ("reduction-kl", lambda lib, x, t: F(lib).kl_div(x, t, reduction="batch"), [(3,), (3,)]),
    ("reduction-poisson", lambda lib, x, t: F(lib).poisson_nll_loss(x, t, reduction="avg"), [(3,), (3,)]),
    ("reduction-gaussian", lambda lib, x, t: F(lib).gaussian_nll_loss(x, t, t.abs(), reduction="x"), [(3,), (3,)]),
    (
        "reduction-multilabel",
        lambda lib, x, t: F(lib).multilabel_soft_margin_loss(x, t, reduction="x"),
        [(2, 3), (2, 3)],
    ),
    (
        "reduction-cosine",
        lambda lib, a, b, y: F(lib).cosine_embedding_loss(a, b, y, reduction="x"),
        [(2, 3), (2, 3), (2,)],
    ),
    ("reduction-margin", lambda lib, a, b, y: F(lib).margin_ranking_loss(a, b, y, reduction="x"), [(2,), (2,), (2,)]),
    (
        "reduction-triplet",
        lambda lib, a, b, c: F(lib).triplet_margin_loss(a, b, c, reduction="x"),
        [(2, 3), (2, 3), (2, 3)],
    ),
    ("reduction-hinge", lambda lib, x, t: F(lib).hinge_embedding_loss(x, t, reduction="x"), [(3,), (3,)]),
    ("reduction-multi-margin", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 1]), reduction="x"), [(2, 3)]),
    ("huber-delta", lambda lib, x, t: F(lib).huber_loss(x, t, delta=0.0), [(3,), (3,)]),
    ("huber-weight-shape", lambda lib, x, t, w: F(lib).huber_loss(x, t, weight=w), [(3,), (3,), (2,)]),
    ("smooth_l1-beta", lambda lib, x, t: F(lib).smooth_l1_loss(x, t, beta=-1.0), [(3,), (3,)]),
    ("mse-weight-shape", lambda lib, x, t, w: F(lib).mse_loss(x, t, weight=w), [(3,), (3,), (2,)]),
    ("bce-range", lambda lib, x, t: F(lib).binary_cross_entropy(x * 2, t.abs()), [(3, 2), (3, 2)]),
    ("bce-shape", lambda lib, x, t: F(lib).binary_cross_entropy(x.sigmoid(), t), [(3, 2), (3,)]),
    ("bce-logits-shape", lambda lib, x, t: F(lib).binary_cross_entropy_with_logits(x, t), [(3, 2), (2,)]),
    ("gaussian-var-shape", lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v.abs()), [(3, 4), (3, 4), (2, 4)]),
    (
        "gaussian-var-two-dims",
        lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v.abs()),
        [(2, 3, 4), (2, 3, 4), (2, 1, 1)],
    ),
    ("gaussian-var-negative", lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, -v.abs() - 1), [(3,), (3,), (3,)]),
    ("gaussian-float-negative", lambda lib, x, t: F(lib).gaussian_nll_loss(x, t, -1.0), [(3,), (3,)]),
    ("cosine-target-dims", lambda lib, a, b, y: F(lib).cosine_embedding_loss(a, b, y), [(2, 3), (2, 3), (2, 1)]),
    ("cosine-input-dims", lambda lib, a, b, y: F(lib).cosine_embedding_loss(a, b, y), [(3,), (3,), (2,)]),
    ("margin-ranking-dims", lambda lib, a, b, y: F(lib).margin_ranking_loss(a, b, y), [(2, 1), (2,), (2,)]),
    ("triplet-dims", lambda lib, a, b, c: F(lib).triplet_margin_loss(a, b, c), [(2, 3), (3,), (2, 3)]),
    ("triplet-margin", lambda lib, a, b, c: F(lib).triplet_margin_loss(a, b, c, margin=0.0), [(2, 3), (2, 3), (2, 3)]),
    ("multi-margin-p", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 1]), p=3), [(2, 3)]),
    ("multi-margin-target", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 1, 1])), [(2, 3)]),
    ("multi-margin-range", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 3])), [(2, 3)]),
    (
        "multi-margin-weight",
        lambda lib, x, w: F(lib).multi_margin_loss(x, lib.tensor([0, 1]), weight=w),
        [(2, 3), (4,)],
    ),
    (
        "multi-margin-weight-2d",
        lambda lib, x, w: F(lib).multi_margin_loss(x, lib.tensor([0, 1]), weight=w),
        [(2, 3), (1, 3)],
    ),
    ("hardtanh-bounds", lambda lib, x: F(lib).hardtanh(x, 1.0, -1.0), [(3,)]),
    ("softshrink-lambd", lambda lib, x: F(lib).softshrink(x, -0.5), [(3,)]),
    ("glu-odd", lambda lib, x: F(lib).glu(x), [(2, 3)]),
    ("glu-scalar", lambda lib, x: F(lib).glu(x), [()]),
    ("prelu-channels", lambda lib, x, w: F(lib).prelu(x, w), [(2, 3, 4), (4,)]),
    ("prelu-weight-dims", lambda lib, x, w: F(lib).prelu(x, w), [(2, 3, 4), (3, 1)]),
    ("softmax2d-dims", lambda lib, x: lib.nn.Softmax2d()(x), [(2, 3)]),
    ("instance-norm-spatial", lambda lib, x: F(lib).instance_norm(x), [(2, 3, 1)]),
    ("instance-norm-module-dims", lambda lib, x: lib.nn.InstanceNorm2d(3)(x), [(2, 3)]),
    ("instance-norm-features", lambda lib, x: lib.nn.InstanceNorm1d(4, affine=True)(x), [(2, 3, 5)]),
    ("lrn-dims", lambda lib, x: F(lib).local_response_norm(x, 2), [(2, 3)]),
    ("bilinear-in1", lambda lib, a, b, w: F(lib).bilinear(a, b, w), [(4, 2), (4, 5), (2, 3, 5)]),
    ("bilinear-in2", lambda lib, a, b, w: F(lib).bilinear(a, b, w), [(4, 3), (4, 4), (2, 3, 5)]),
    ("bilinear-batch", lambda lib, a, b, w: F(lib).bilinear(a, b, w), [(4, 3), (3, 5), (2, 3, 5)]),
    ("embedding-padding", lambda lib, w: F(lib).embedding(lib.tensor([0]), w, padding_idx=5), [(3, 2)]),
    ("embedding-index", lambda lib, w: F(lib).embedding(lib.tensor([0, 3]), w), [(3, 2)]),
    ("bag-2d-offsets", lambda lib, w: F(lib).embedding_bag(lib.tensor([[0, 1]]), w, lib.tensor([0])), [(3, 2)]),
    ("bag-no-offsets", lambda lib, w: F(lib).embedding_bag(lib.tensor([0, 1]), w), [(3, 2)]),
    ("bag-offsets-2d", lambda lib, w: F(lib).embedding_bag(lib.tensor([0, 1]), w, lib.tensor([[0]])), [(3, 2)]),
    ("bag-3d", lambda lib, w: F(lib).embedding_bag(lib.tensor([[[0, 1]]]), w), [(3, 2)]),
    ("bag-mode", lambda lib, w: F(lib).embedding_bag(lib.tensor([[0, 1]]), w, mode="min"), [(3, 2)]),
    ("bag-weight-dims", lambda lib, w: F(lib).embedding_bag(lib.tensor([[0, 1]]), w), [(3,)]),
    (
        "bag-per-sample-mode",
        lambda lib, w, s: F(lib).embedding_bag(lib.tensor([[0, 1]]), w, per_sample_weights=s),
        [(3, 2), (1, 2)],
    ),
    (
        "bag-per-sample-shape",
        lambda lib, w, s: F(lib).embedding_bag(lib.tensor([[0, 1]]), w, mode="sum", per_sample_weights=s),
        [(3, 2), (2,)],
    ),
    ("bag-first-offset", lambda lib, w: F(lib).embedding_bag(lib.tensor([0, 1, 2]), w, lib.tensor([1, 2])), [(3, 2)]),
    (
        "bag-max-freq",
        lambda lib, w: F(lib).embedding_bag(lib.tensor([[0, 1]]), w, mode="max", scale_grad_by_freq=True),
        [(3, 2)],
    ),
    ("flatten-1d", lambda lib, x: lib.nn.Flatten()(x), [(3,)]),
    ("unflatten-sizes", lambda lib, x: lib.nn.Unflatten(1, (2, 5))(x), [(2, 12)]),
    ("bilinear-module-features", lambda lib, a, b: lib.nn.Bilinear(3, 4, 2)(a, b), [(2, 3), (2, 5)]),
    ("inplace-leaf", lambda lib, x: F(lib).elu(x.requires_grad_(), inplace=True), [(3,)]),
    ("loss-module-reduction", lambda lib, x, t: lib.nn.HuberLoss(reduction="bad")(x, t), [(3,), (3,)]),
    ("triplet-module-margin", lambda lib: lib.nn.TripletMarginLoss(margin=-1.0), []),
    ("multimargin-module-p", lambda lib: lib.nn.MultiMarginLoss(p=3), []),
    ("embedding-pretrained-dims", lambda lib, w: lib.nn.Embedding.from_pretrained(w), [(3,)]),
    ("bag-pretrained-dims", lambda lib, w: lib.nn.EmbeddingBag.from_pretrained(w), [(3, 2, 1)]),
]


@pytest.mark.parametrize("name, call, inputs", ERRORS, ids=[e[0] for e in ERRORS])
def test_error(name, call, inputs):
    check_error(call, inputs)


# --- real models -------------------------------------------------------------------------------
def test_a_small_model_trains_and_its_state_dict_loads_into_pytorch():
    """A Sequential with Conv2d, InstanceNorm2d (affine, tracking), PReLU, Hardswish, Flatten and
    Linear trains with SGD in both libraries from PyTorch's weights along the same trajectory,
    and somegrad's trained state dict loads into a fresh PyTorch model that then agrees."""

    def build(lib):
        nn = lib.nn
        return nn.Sequential(
            nn.Conv2d(1, 3, 3),
            nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
            nn.PReLU(3),
            nn.Hardswish(),
            nn.Flatten(),
            nn.Linear(27, 4),
        )

    torch.manual_seed(0)
    t_model = build(torch).double()
    s_model = build(sg).to(sg.float64)
    copy_state(t_model, s_model)
    rng = _rng(5)
    x_host, y_host = rng.normal(size=(8, 1, 5, 5)), rng.integers(0, 4, size=8)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1)
    s_opt = sg.optim.SGD(s_model.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        t_loss = torch.nn.functional.cross_entropy(t_model(torch.tensor(x_host)), torch.tensor(y_host))
        s_loss = sg.nn.functional.cross_entropy(s_model(sg.tensor(x_host)), sg.tensor(y_host))
        t_opt.zero_grad()
        t_loss.backward()
        t_opt.step()
        s_opt.zero_grad()
        s_loss.backward()
        s_opt.step()
        losses.append((s_loss.item(), t_loss.item()))
    np.testing.assert_allclose([s for s, _ in losses], [t for _, t in losses], rtol=1e-9)
    assert losses[-1][0] < losses[0][0]
    fresh = build(torch).double()
    fresh.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in s_model.state_dict().items()})
    s_model.eval()
    fresh.eval()
    np.testing.assert_allclose(
        to_numpy(s_model(sg.tensor(x_host))), to_numpy(fresh(torch.tensor(x_host))), rtol=1e-9, atol=1e-12
    )


def test_embedding_bag_model_trains_like_pytorch():
    """An EmbeddingBag text classifier (mean of word vectors, offsets) takes the same Adam steps."""

    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.EmbeddingBag(20, 6, mode="mean"), nn.Linear(6, 3))

    torch.manual_seed(1)
    t_model, s_model = build(torch).double(), build(sg).to(sg.float64)
    copy_state(t_model, s_model)
    tokens = _rng(6).integers(0, 20, size=30)
    offsets = np.array([0, 4, 9, 9, 17, 25])
    labels = _rng(7).integers(0, 3, size=6)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=0.05)
    s_opt = sg.optim.Adam(s_model.parameters(), lr=0.05)
    for _ in range(4):
        for lib, model, opt in ((torch, t_model, t_opt), (sg, s_model, s_opt)):
            bag, head = model[0], model[1]
            loss = lib.nn.functional.cross_entropy(
                head(bag(lib.tensor(tokens), lib.tensor(offsets))), lib.tensor(labels)
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
    for name, value in t_model.state_dict().items():
        np.testing.assert_allclose(to_numpy(s_model.state_dict()[name]), to_numpy(value), rtol=1e-9, atol=1e-12)
