"""The spatial layers and functions beyond conv2d and the 2-d pools, without PyTorch: the
identities that tie them together (adjoints, inverses), second-order gradients, and small
models trained with them."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
import somegrad.nn.functional as F
from somegrad import nn


def _randn(*shape, seed=0, grad=False):
    rng = np.random.default_rng(seed)
    return sg.tensor(rng.standard_normal(shape), dtype=sg.float64, requires_grad=grad)


def _dot(a, b):
    return float((a * b).sum().item())


@pytest.mark.parametrize(
    "stride, padding, output_padding, dilation, groups",
    [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (3, 1, 2, 1, 2), (2, 0, 1, 2, 1), ((2, 1, 2), (0, 1, 1), (1, 0, 1), 1, 1)],
)
def test_conv_transpose3d_is_the_adjoint_of_conv3d(stride, padding, output_padding, dilation, groups):
    # <conv3d(y, w), x> == <y, conv_transpose3d(x, w)> for y of conv_transpose3d's output shape
    x = _randn(1, 4, 3, 3, 2, seed=1)
    w = _randn(4, 2, 2, 3, 2, seed=2)
    y_t = F.conv_transpose3d(x, w, None, stride, padding, output_padding, groups, dilation)
    y = _randn(*y_t.shape, seed=3)
    conv = F.conv3d(y, w, None, stride, padding, dilation, groups)
    assert conv.shape == x.shape
    assert np.isclose(_dot(conv, x), _dot(y, y_t))


def test_fold_is_the_adjoint_of_unfold_and_counts_the_overlaps():
    x = _randn(2, 3, 5, 6)
    cols = F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    c = _randn(*cols.shape, seed=4)
    folded = F.fold(c, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    assert np.isclose(_dot(cols, c), _dot(x, folded))
    ones = sg.ones(1, 1, 4, 4, dtype=sg.float64)
    counts = F.fold(F.unfold(ones, 2), (4, 4), 2).numpy()[0, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_pixel_unshuffle_undoes_pixel_shuffle():
    x = _randn(2, 3, 8, 4, 6)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).numpy(), x.numpy())
    assert nn.PixelShuffle(2)(x).shape == (2, 3, 2, 8, 12)


def test_max_unpool_puts_each_maximum_back():
    x = _randn(2, 3, 4, 6)
    out, indices = nn.MaxPool2d(2, return_indices=True)(x)
    restored = nn.MaxUnpool2d(2)(out, indices)
    kept = restored.numpy() != 0
    np.testing.assert_array_equal(restored.numpy()[kept], x.numpy()[kept])
    assert kept.reshape(2, 3, 2, 2, 3, 2).sum(axis=(3, 5)).max() == 1  # one per window
    np.testing.assert_array_equal(F.max_pool2d(restored, 2).numpy(), out.numpy())


def test_interpolate_align_corners_keeps_the_corners_and_area_is_a_mean():
    x = _randn(1, 2, 3, 4)
    for mode in ("bilinear", "bicubic"):
        y = F.interpolate(x, size=(7, 9), mode=mode, align_corners=True).numpy()
        np.testing.assert_allclose(y[..., [0, -1], :][..., [0, -1]], x.numpy()[..., [0, -1], :][..., [0, -1]])
    area = F.interpolate(x, size=(1, 2), mode="area").numpy()
    np.testing.assert_allclose(area[..., 0, 0], x.numpy()[..., :, :2].mean(axis=(-2, -1)))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: F.interpolate(x, scale_factor=(1.5, 2), mode="bilinear"),
        lambda x: F.interpolate(x, size=(5, 3), mode="bicubic", align_corners=True),
        lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"),
        lambda x: F.pad(x, (2, 0, -1, 1), mode="circular"),
        lambda x: F.unfold(x, 2, padding=1),
        lambda x: F.adaptive_max_pool2d(x, (2, 3)),
        lambda x: F.max_pool2d(x, 2, ceil_mode=True),
    ],
    ids=["bilinear", "bicubic", "reflect", "circular", "unfold", "adaptive-max", "max-ceil"],
)
def test_second_order_gradients_match_finite_differences(call):
    # g = J^T v is linear in v, and d<g, u>/dv = J u: the derivative of the backward itself
    x = _randn(1, 2, 3, 5)
    v = _randn(*call(x).shape, seed=5, grad=True)
    xx = x.detach().requires_grad_()
    (g,) = sg.autograd.grad((call(xx) * v).sum(), [xx], create_graph=True)
    u = _randn(*x.shape, seed=6)
    (gv,) = sg.autograd.grad((g * u).sum(), [v])
    eps = 1e-6
    jvp = (call(x + eps * u) - call(x - eps * u)) / (2 * eps)
    np.testing.assert_allclose(gv.numpy(), jvp.numpy(), atol=1e-8)


def test_conv3d_double_backward():
    x, w = _randn(1, 2, 3, 3, 3, grad=True), _randn(2, 2, 2, 2, 2, seed=1, grad=True)
    (gx,) = sg.autograd.grad((F.conv3d(x, w) ** 2).sum(), [x], create_graph=True)
    (gw,) = sg.autograd.grad(gx.sum(), [w])
    eps, dw = 1e-6, _randn(*w.shape, seed=7)

    def first(weight):
        xx = x.detach().requires_grad_()
        (g,) = sg.autograd.grad((F.conv3d(xx, weight) ** 2).sum(), [xx])
        return float(g.sum().item())

    numeric = (first(w.detach() + eps * dw) - first(w.detach() - eps * dw)) / (2 * eps)
    assert np.isclose(_dot(gw, dw), numeric)


def test_pooling_options_now_supported_are_not_ignored():
    x = _randn(1, 2, 5, 5)
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape == (1, 2, 3, 3)
    assert nn.MaxPool2d(2)(x).shape == (1, 2, 2, 2)
    out, indices = nn.MaxPool1d(2, return_indices=True)(x[:, :, 0])
    assert indices.dtype == sg.int64 and out.shape == indices.shape == (1, 2, 2)
    assert nn.AvgPool2d(2, ceil_mode=True)(x).shape == (1, 2, 3, 3)


def test_layers_state_dicts_and_reprs():
    assert list(nn.Conv3d(2, 4, 3).state_dict()) == ["weight", "bias"]
    assert nn.Conv3d(2, 4, 3).weight.shape == (4, 2, 3, 3, 3)
    assert nn.ConvTranspose3d(2, 4, 3, groups=2).weight.shape == (2, 2, 3, 3, 3)
    assert nn.ConvTranspose1d(2, 4, 3, bias=False).bias is None
    assert "padding_mode=reflect" in repr(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"))
    assert "scale_factor=2.0, mode='bilinear'" in repr(nn.Upsample(scale_factor=2, mode="bilinear"))
    for module in (nn.Upsample(size=3), nn.PixelShuffle(2), nn.Fold(4, 2), nn.Unfold(2), nn.MaxUnpool2d(2)):
        assert module.state_dict() == {}
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_a_small_volumetric_model_trains():
    sg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv3d(1, 4, 3, padding=1, padding_mode="replicate"),
        nn.ReLU(),
        nn.MaxPool3d(2),
        nn.ConvTranspose3d(4, 4, 2, stride=2),
        nn.Upsample(scale_factor=0.5, mode="trilinear"),
        nn.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    ).double()
    x = _randn(8, 1, 4, 4, 4)
    target = sg.tensor((x.numpy().mean(axis=(1, 2, 3, 4)) > 0).astype(np.int64))
    params = list(model.parameters())
    assert all(isinstance(p, nn.Parameter) for p in params)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model(x), target)
        for p in params:
            p.grad = None
        loss.backward()
        with sg.no_grad():
            for p in params:
                p -= 0.5 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_an_upsampling_decoder_trains():
    sg.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"),
        nn.ReLU(),
        nn.Conv2d(8, 12, 1),
        nn.PixelShuffle(2),
        nn.Upsample(scale_factor=0.5, mode="bilinear"),
        nn.Conv2d(3, 3, 3, padding=1, padding_mode="circular"),
    ).double()
    x = _randn(4, 3, 6, 6)
    target = F.pad(x, (1, 1, 1, 1), mode="replicate")[..., 1:-1, 1:-1]  # x itself, through a pad
    losses = []
    for _ in range(40):
        loss = ((model(x) - target) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with sg.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("align_corners", [False, True])
def test_the_identity_grid_samples_the_image_itself(align_corners):
    x = _randn(2, 3, 4, 5)
    theta = sg.tensor(np.tile(np.eye(2, 3), (2, 1, 1)), dtype=sg.float64)
    grid = F.affine_grid(theta, x.shape, align_corners=align_corners)
    for mode in ("bilinear", "nearest"):
        out = F.grid_sample(x, grid, mode=mode, align_corners=align_corners)
        np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-12)


def test_grid_sample_second_order_gradient_reaches_the_grid():
    x = _randn(1, 2, 4, 5, grad=True)
    grid = sg.tensor(np.random.default_rng(3).uniform(-0.9, 0.9, (1, 3, 3, 2)), dtype=sg.float64, requires_grad=True)
    (gx,) = sg.autograd.grad((F.grid_sample(x, grid) ** 2).sum(), [x], create_graph=True)
    (gg,) = sg.autograd.grad(gx.sum(), [grid])
    assert gg.shape == grid.shape and np.abs(gg.numpy()).sum() > 0
