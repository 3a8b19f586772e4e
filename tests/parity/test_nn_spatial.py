"""PyTorch parity of the spatial part of nn.functional and its layers: interpolate and Upsample,
fold/unfold, the padding modes, pooling (ceil_mode, indices, 3-d, adaptive, unpooling), 3-d and
transposed convolutions, pixel shuffling. Values and gradients in float64 and float32, the
layers with PyTorch's weights, and the errors PyTorch raises."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, ModuleCase, check, check_error, check_module

pytestmark = pytest.mark.parity


def _distinct(shape, seed=0):
    """Values without ties (max pooling has no derivative at a tie), shuffled."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(np.prod(shape)) * 0.25 - np.prod(shape) / 8).reshape(shape)


def _interp(size=None, scale=None, **kw):
    return lambda lib, x: lib.nn.functional.interpolate(x, size=size, scale_factor=scale, **kw)


INTERPOLATE = [
    Case("nearest-up", _interp(scale=2), [(2, 3, 4, 5)]),
    Case("nearest-size", _interp(size=(7, 3)), [(2, 3, 4, 5)]),
    Case("nearest-odd-scale", _interp(scale=1.7), [(1, 2, 5, 6)]),
    Case("nearest-1d", _interp(size=9), [(2, 3, 4)]),
    Case("nearest-3d", _interp(scale=(2, 1.5, 0.5)), [(1, 2, 3, 4, 4)]),
    Case("nearest-exact", _interp(size=(7, 3), mode="nearest-exact"), [(2, 3, 4, 5)]),
    Case("nearest-exact-scale", _interp(scale=1.5, mode="nearest-exact"), [(1, 2, 4, 5)]),
    Case("linear", _interp(size=7, mode="linear"), [(2, 3, 4)]),
    Case("linear-down", _interp(size=3, mode="linear"), [(2, 3, 8)]),
    Case("linear-align", _interp(size=7, mode="linear", align_corners=True), [(2, 3, 4)]),
    Case("bilinear", _interp(scale=2, mode="bilinear"), [(2, 3, 4, 5)]),
    Case("bilinear-size", _interp(size=(3, 8), mode="bilinear"), [(2, 3, 4, 5)]),
    Case("bilinear-align", _interp(size=(7, 9), mode="bilinear", align_corners=True), [(1, 2, 4, 5)]),
    Case("bilinear-scale-odd", _interp(scale=(1.3, 2.6), mode="bilinear"), [(1, 2, 4, 5)]),
    Case(
        "bilinear-recompute",
        _interp(scale=1.3, mode="bilinear", recompute_scale_factor=True),
        [(1, 2, 4, 5)],
    ),
    Case("bicubic", _interp(scale=2, mode="bicubic"), [(1, 2, 4, 5)]),
    Case("bicubic-down", _interp(size=(3, 2), mode="bicubic"), [(1, 2, 6, 5)]),
    Case("bicubic-align", _interp(size=(6, 7), mode="bicubic", align_corners=True), [(1, 2, 4, 5)]),
    Case("trilinear", _interp(scale=2, mode="trilinear"), [(1, 2, 2, 3, 4)]),
    Case("bilinear-antialias", _interp(size=(4, 5), mode="bilinear", antialias=True), [(2, 3, 9, 13)]),
    Case("bilinear-antialias-up", _interp(scale=(1.5, 0.5), mode="bilinear", antialias=True), [(1, 2, 5, 8)]),
    Case("bicubic-antialias", _interp(scale=0.37, mode="bicubic", antialias=True), [(1, 2, 10, 7)]),
    Case(
        "bicubic-antialias-align",
        _interp(size=(3, 4), mode="bicubic", align_corners=True, antialias=True),
        [(1, 2, 8, 9)],
    ),
    Case("trilinear-align", _interp(size=(3, 4, 2), mode="trilinear", align_corners=True), [(1, 2, 2, 3, 4)]),
    Case("area", _interp(size=(2, 3), mode="area"), [(1, 2, 5, 7)]),
    Case("area-scale", _interp(scale=0.5, mode="area"), [(1, 2, 4, 6)]),
    Case("nearest-same", _interp(size=(4, 5)), [(1, 2, 4, 5)]),
    Case("nearest-uint8", _interp(scale=(1.5, 2.5)), [np.arange(40, dtype=np.uint8).reshape(1, 2, 4, 5)]),
    Case(
        "nearest-exact-uint8",
        _interp(size=(3, 7), mode="nearest-exact"),
        [np.arange(40, dtype=np.uint8).reshape(2, 1, 4, 5)],
    ),
    Case(
        "upsample-nearest-legacy",
        lambda lib, x: lib.nn.functional.upsample_bilinear(x, scale_factor=2),
        [(1, 2, 3, 3)],
    ),
]


def _pad(pad, mode="constant", value=None):
    return lambda lib, x: lib.nn.functional.pad(x, pad, mode=mode, value=value)


PAD = [
    Case("reflect-1d", _pad((2, 1), "reflect"), [(2, 3, 5)]),
    Case("reflect-1d-unbatched", _pad((3, 3), "reflect"), [(3, 5)]),
    Case("reflect-2d", _pad((1, 2, 3, 1), "reflect"), [(2, 3, 4, 5)]),
    Case("reflect-3d", _pad((1, 1, 2, 0, 1, 2), "reflect"), [(1, 2, 3, 4, 4)]),
    Case("reflect-negative", _pad((-1, 2), "reflect"), [(1, 2, 5)]),
    Case("replicate-1d", _pad((3, 4), "replicate"), [(2, 3, 2)]),
    Case("replicate-2d", _pad((2, 0, 1, 3), "replicate"), [(3, 4, 5)]),
    Case("replicate-3d", _pad((1, 2, 1, 2, 2, 1), "replicate"), [(1, 2, 2, 3, 3)]),
    Case("circular-1d", _pad((2, 3), "circular"), [(2, 3, 4)]),
    Case("circular-2d", _pad((1, 2, 2, 1), "circular"), [(1, 2, 3, 4)]),
    Case("circular-3d", _pad((1, 1, 1, 1, 1, 1), "circular"), [(1, 1, 2, 3, 3)]),
    Case("circular-negative", _pad((-1, 2), "circular"), [(1, 2, 5)]),
    Case("constant-value", _pad((1, 2, 0, 1), value=0.5), [(2, 3, 4)]),
    Case("constant-negative", _pad((-1, 2, 1, -2)), [(2, 4, 5)]),
    Case("constant-crop", _pad((-1, -1, -2, 0, 1, 1)), [(3, 4, 5)]),
    Case("constant-crop-to-empty", _pad((-2, -2)), [(2, 4)]),
]


def _f(name, *args, **kw):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, *args, **kw)


def _indices(name, *args, **kw):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, *args, return_indices=True, **kw)


POOL = [
    Case("max2d-ceil", _f("max_pool2d", 3, 2, ceil_mode=True), [_distinct((2, 3, 6, 7))]),
    Case("max2d-ceil-pad", _f("max_pool2d", 3, 2, 1, ceil_mode=True), [_distinct((1, 2, 6, 6))]),
    Case("max2d-dilation-ceil", _f("max_pool2d", 2, 2, 1, 2, ceil_mode=True), [_distinct((1, 2, 7, 6))]),
    Case("max2d-indices", _indices("max_pool2d", 2), [_distinct((2, 3, 4, 6))]),
    Case("max2d-indices-pad", _indices("max_pool2d", 3, 2, 1), [_distinct((1, 2, 5, 5))]),
    Case("max2d-indices-ceil", _indices("max_pool2d", 3, 2, ceil_mode=True), [_distinct((1, 2, 6, 7))]),
    Case("max2d-unbatched-indices", _indices("max_pool2d", 2), [_distinct((3, 4, 4))]),
    Case("max1d-indices", _indices("max_pool1d", 3, 2, 1), [_distinct((2, 3, 9))]),
    Case("max1d-ceil", _f("max_pool1d", 2, ceil_mode=True), [_distinct((2, 3, 7))]),
    Case("max3d", _f("max_pool3d", 2), [_distinct((2, 2, 4, 4, 6))]),
    Case("max3d-stride-pad", _f("max_pool3d", 3, 2, 1), [_distinct((1, 2, 5, 5, 5))]),
    Case("max3d-dilation", _f("max_pool3d", 2, 1, 0, 2), [_distinct((1, 1, 4, 5, 5))]),
    Case("max3d-ceil-indices", _indices("max_pool3d", 2, ceil_mode=True), [_distinct((1, 2, 3, 5, 5))]),
    Case("max3d-unbatched", _f("max_pool3d", 2), [_distinct((2, 4, 4, 4))]),
    Case("avg2d-ceil", _f("avg_pool2d", 3, 2, ceil_mode=True), [(2, 3, 6, 7)]),
    Case("avg2d-ceil-pad", _f("avg_pool2d", 3, 2, 1, ceil_mode=True), [(1, 2, 6, 6)]),
    Case(
        "avg2d-ceil-exclude",
        _f("avg_pool2d", 3, 2, 1, ceil_mode=True, count_include_pad=False),
        [(1, 2, 6, 6)],
    ),
    Case("avg2d-divisor", _f("avg_pool2d", 3, 2, 1, divisor_override=4), [(1, 2, 6, 6)]),
    Case(
        "avg2d-divisor-exclude",
        _f("avg_pool2d", 3, 2, 1, count_include_pad=False, divisor_override=5),
        [(1, 2, 6, 6)],
    ),
    Case("avg1d-ceil", _f("avg_pool1d", 3, 2, 1, ceil_mode=True), [(2, 3, 8)]),
    Case("avg1d-exclude", _f("avg_pool1d", 3, 2, 1, count_include_pad=False), [(2, 3, 8)]),
    Case("avg3d", _f("avg_pool3d", 2), [(2, 2, 4, 4, 6)]),
    Case("avg3d-pad", _f("avg_pool3d", 3, 2, 1), [(1, 2, 5, 5, 5)]),
    Case("avg3d-exclude", _f("avg_pool3d", 3, 2, 1, count_include_pad=False), [(1, 2, 5, 5, 5)]),
    Case("avg3d-ceil", _f("avg_pool3d", 2, ceil_mode=True), [(1, 2, 3, 5, 5)]),
    Case("avg3d-ceil-pad", _f("avg_pool3d", 3, 2, 1, ceil_mode=True), [(1, 1, 6, 6, 4)]),
    Case("avg3d-divisor", _f("avg_pool3d", 2, divisor_override=3), [(1, 2, 4, 4, 4)]),
    Case("adaptive-avg1d", _f("adaptive_avg_pool1d", 3), [(2, 3, 7)]),
    Case("adaptive-avg2d", _f("adaptive_avg_pool2d", (3, 4)), [(2, 3, 7, 5)]),
    Case("adaptive-avg2d-none", _f("adaptive_avg_pool2d", (None, 2)), [(2, 3, 7, 5)]),
    Case("adaptive-avg3d", _f("adaptive_avg_pool3d", (2, 3, 1)), [(1, 2, 5, 7, 3)]),
    Case("adaptive-avg2d-up", _f("adaptive_avg_pool2d", 5), [(1, 2, 3, 4)]),
    Case("adaptive-max1d", _indices("adaptive_max_pool1d", 3), [_distinct((2, 3, 7))]),
    Case("adaptive-max2d", _f("adaptive_max_pool2d", (3, 2)), [_distinct((2, 3, 7, 5))]),
    Case("adaptive-max2d-indices", _indices("adaptive_max_pool2d", (3, 4)), [_distinct((2, 3, 7, 5))]),
    Case("adaptive-max2d-unbatched", _indices("adaptive_max_pool2d", 2), [_distinct((3, 5, 5))]),
    Case(
        "fractional-max2d",
        lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, (4, 5), _random_samples=u.detach()),
        [_distinct((2, 3, 9, 11)), np.random.default_rng(1).random((2, 3, 2))],
    ),
    Case(
        "fractional-max2d-ratio-indices",
        lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(
            x, (3, 2), output_ratio=(0.5, 0.4), return_indices=True, _random_samples=u.detach()
        ),
        [_distinct((1, 2, 10, 8)), np.random.default_rng(2).random((1, 2, 2))],
    ),
    Case(
        "fractional-max3d",
        lambda lib, x, u: lib.nn.functional.fractional_max_pool3d(
            x, 2, (3, 4, 3), return_indices=True, _random_samples=u.detach()
        ),
        [_distinct((1, 2, 6, 7, 5)), np.random.default_rng(3).random((1, 2, 3))],
    ),
    Case("lp-pool1d", _f("lp_pool1d", 2, 3, 2), [(2, 3, 8)], low=0.1),
    Case("lp-pool2d", _f("lp_pool2d", 3, 2), [(2, 3, 4, 6)], low=0.1),
    Case("lp-pool2d-ceil", _f("lp_pool2d", 1.5, (2, 3), 2, ceil_mode=True), [(1, 2, 5, 7)], low=0.1),
    Case("lp-pool3d", _f("lp_pool3d", 2, 2), [(1, 2, 4, 4, 4)], low=0.1),
    Case("adaptive-max3d", _indices("adaptive_max_pool3d", (2, 2, 3)), [_distinct((1, 2, 3, 5, 4))]),
]


def _unpool2d(lib, x):
    F = lib.nn.functional
    out, indices = F.max_pool2d(x, 2, return_indices=True)
    return F.max_unpool2d(out * 2, indices, 2)


def _unpool2d_size(lib, x):
    F = lib.nn.functional
    out, indices = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    return F.max_unpool2d(out, indices, 3, 2, 1, output_size=x.shape[-2:])


def _unpool1d(lib, x):
    F = lib.nn.functional
    out, indices = F.max_pool1d(x, 2, return_indices=True)
    return F.max_unpool1d(out, indices, 2, output_size=(x.shape[-1],))


def _unpool3d(lib, x):
    F = lib.nn.functional
    out, indices = F.max_pool3d(x, 2, return_indices=True)
    return F.max_unpool3d(out, indices, 2)


UNPOOL = [
    Case("unpool2d", _unpool2d, [_distinct((2, 3, 4, 6))]),
    Case("unpool2d-output-size", _unpool2d_size, [_distinct((1, 2, 5, 5))]),
    Case("unpool1d-odd", _unpool1d, [_distinct((2, 3, 7))]),
    Case("unpool3d", _unpool3d, [_distinct((1, 2, 4, 4, 4))]),
]


def _conv(name, *args, **kw):
    def call(lib, x, w, b):
        return getattr(lib.nn.functional, name)(x, w, b, *args, **kw)

    return call


CONV = [
    Case("conv3d", _conv("conv3d"), [(2, 3, 5, 5, 5), (4, 3, 3, 3, 3), (4,)]),
    Case(
        "conv3d-stride-pad",
        _conv("conv3d", stride=(2, 1, 2), padding=(1, 0, 2)),
        [(1, 2, 5, 4, 6), (3, 2, 3, 2, 3), (3,)],
    ),
    Case("conv3d-dilation-groups", _conv("conv3d", dilation=2, groups=2), [(1, 4, 5, 5, 5), (6, 2, 2, 2, 2), (6,)]),
    Case("conv3d-same", _conv("conv3d", padding="same"), [(1, 2, 4, 4, 4), (2, 2, 2, 3, 2), (2,)]),
    Case("conv3d-unbatched", _conv("conv3d", padding=1), [(2, 3, 3, 3), (2, 2, 3, 3, 3), (2,)]),
    Case(
        "conv-transpose1d",
        _conv("conv_transpose1d", stride=2, padding=1, output_padding=1),
        [(2, 3, 5), (3, 4, 3), (4,)],
    ),
    Case(
        "conv-transpose1d-groups-dilation",
        _conv("conv_transpose1d", stride=3, groups=2, dilation=2, output_padding=2),
        [(1, 4, 4), (4, 3, 3), (6,)],
    ),
    Case(
        "conv-transpose2d-outpad",
        _conv("conv_transpose2d", stride=2, output_padding=1),
        [(2, 3, 4, 4), (3, 2, 3, 3), (2,)],
    ),
    Case(
        "conv-transpose2d-outpad-over-padding",
        _conv("conv_transpose2d", stride=3, padding=1, output_padding=2),
        [(1, 2, 3, 4), (2, 3, 3, 2), (3,)],
    ),
    Case(
        "conv-transpose2d-dilation-outpad",
        _conv("conv_transpose2d", dilation=2, output_padding=1),
        [(1, 2, 3, 3), (2, 2, 3, 3), (2,)],
    ),
    Case(
        "conv-transpose2d-groups",
        _conv("conv_transpose2d", stride=2, padding=1, groups=2, output_padding=(1, 0)),
        [(2, 4, 3, 3), (4, 3, 3, 2), (6,)],
    ),
    Case(
        "conv-transpose3d",
        _conv("conv_transpose3d", stride=2, padding=1, output_padding=1),
        [(1, 2, 3, 3, 2), (2, 3, 3, 3, 3), (3,)],
    ),
    Case(
        "conv-transpose3d-groups-dilation",
        _conv("conv_transpose3d", groups=2, dilation=(1, 2, 1), stride=(1, 1, 2)),
        [(1, 4, 2, 3, 3), (4, 1, 2, 2, 2), (2,)],
    ),
]

FOLD = [
    Case("unfold", lambda lib, x: lib.nn.functional.unfold(x, 2), [(2, 3, 4, 5)]),
    Case(
        "unfold-all",
        lambda lib, x: lib.nn.functional.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
        [(2, 3, 5, 6)],
    ),
    Case("unfold-unbatched", lambda lib, x: lib.nn.functional.unfold(x, 3, padding=1), [(2, 4, 4)]),
    Case("fold", lambda lib, x: lib.nn.functional.fold(x, (4, 5), 2), [(2, 12, 12)]),
    Case(
        "fold-all",
        lambda lib, x: lib.nn.functional.fold(x, (5, 6), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
        [(2, 18, 15)],
    ),
    Case("fold-unbatched", lambda lib, x: lib.nn.functional.fold(x, (3, 3), 2), [(8, 4)]),
    Case(
        "fold-of-unfold",
        lambda lib, x: lib.nn.functional.fold(lib.nn.functional.unfold(x, 3, padding=1), (4, 4), 3, padding=1),
        [(1, 2, 4, 4)],
    ),
]

SHUFFLE = [
    Case("pixel-shuffle", lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), [(2, 8, 3, 4)]),
    Case("pixel-shuffle-batch-dims", lambda lib, x: lib.pixel_shuffle(x, 3), [(2, 2, 9, 2, 2)]),
    Case("pixel-shuffle-unbatched", lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), [(4, 3, 3)]),
    Case("pixel-unshuffle", lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2), [(2, 2, 4, 6)]),
    Case("pixel-unshuffle-top-level", lambda lib, x: lib.pixel_unshuffle(x, 3), [(1, 6, 6)]),
    Case("channel-shuffle", lambda lib, x: lib.nn.functional.channel_shuffle(x, 3), [(2, 6, 2, 3)]),
    Case("channel-shuffle-1d", lambda lib, x: lib.nn.functional.channel_shuffle(x, 2), [(2, 4, 5)]),
]


def _grid_sample(**kw):
    return lambda lib, x, grid: lib.nn.functional.grid_sample(x, grid, **kw)


def _nearest(**kw):
    # nearest sampling has no gradient for the grid (PyTorch's is zeros): compare the input's
    return lambda lib, x, grid: lib.nn.functional.grid_sample(x, grid.detach(), mode="nearest", **kw)


def _affine(size, **kw):
    return lambda lib, theta: lib.nn.functional.affine_grid(theta, size, **kw)


def _transformer(lib, x, theta):
    F = lib.nn.functional
    return F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False), align_corners=False)


GRID = [
    Case("grid-bilinear", _grid_sample(), [(2, 3, 4, 5), (2, 3, 4, 2)], low=-1.3, high=1.3),
    Case("grid-bilinear-align", _grid_sample(align_corners=True), [(2, 3, 4, 5), (2, 2, 3, 2)], low=-1.3, high=1.3),
    Case("grid-border", _grid_sample(padding_mode="border"), [(1, 2, 4, 5), (1, 3, 4, 2)], low=-1.3, high=1.3),
    Case(
        "grid-reflection",
        _grid_sample(padding_mode="reflection", align_corners=True),
        [(1, 2, 4, 5), (1, 3, 4, 2)],
        low=-1.6,
        high=1.6,
    ),
    Case(
        "grid-reflection-edges", _grid_sample(padding_mode="reflection"), [(1, 2, 4, 5), (1, 3, 4, 2)], low=-2, high=2
    ),
    Case("grid-trilinear", _grid_sample(), [(1, 2, 3, 4, 5), (1, 2, 3, 2, 3)], low=-1.2, high=1.2),
    Case(
        "grid-trilinear-border",
        _grid_sample(padding_mode="border"),
        [(1, 2, 3, 4, 4), (1, 2, 2, 2, 3)],
        low=-1.2,
        high=1.2,
    ),
    Case("grid-bicubic", _grid_sample(mode="bicubic"), [(2, 3, 5, 5), (2, 3, 4, 2)], low=-1.3, high=1.3),
    Case(
        "grid-bicubic-reflection",
        _grid_sample(mode="bicubic", padding_mode="reflection", align_corners=True),
        [(1, 2, 5, 6), (1, 3, 4, 2)],
        low=-1.5,
        high=1.5,
    ),
    Case(
        "grid-bicubic-border",
        _grid_sample(mode="bicubic", padding_mode="border"),
        [(1, 2, 4, 5), (1, 3, 3, 2)],
        low=-1.3,
        high=1.3,
    ),
    Case("grid-nearest", _nearest(), [(2, 3, 4, 5), (2, 3, 4, 2)], low=-1.3, high=1.3),
    Case("grid-nearest-3d", _nearest(padding_mode="border"), [(1, 2, 3, 4, 5), (1, 2, 3, 2, 3)], low=-1.3, high=1.3),
    Case("affine-grid", _affine((2, 3, 4, 5)), [(2, 2, 3)]),
    Case("affine-grid-align", _affine((2, 3, 4, 5), align_corners=True), [(2, 2, 3)]),
    Case("affine-grid-3d", _affine((1, 2, 2, 3, 4), align_corners=False), [(1, 3, 4)]),
    Case("spatial-transformer", _transformer, [(2, 3, 5, 6), (2, 2, 3)]),
]

CASES = INTERPOLATE + PAD + POOL + UNPOOL + CONV + FOLD + SHUFFLE + GRID


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_functional(case, dtype):
    check(case, dtype)


MODULES = [
    ModuleCase("Upsample-nearest", lambda lib: lib.nn.Upsample(scale_factor=2), [(1, 2, 3, 4)]),
    ModuleCase(
        "Upsample-bilinear",
        lambda lib: lib.nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False),
        [(1, 2, 3, 4)],
    ),
    ModuleCase(
        "Upsample-trilinear", lambda lib: lib.nn.Upsample(scale_factor=(1, 2, 2), mode="trilinear"), [(1, 1, 2, 2, 3)]
    ),
    ModuleCase("UpsamplingNearest2d", lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=3), [(1, 2, 2, 2)]),
    ModuleCase("UpsamplingBilinear2d", lambda lib: lib.nn.UpsamplingBilinear2d(size=(4, 5)), [(1, 2, 2, 3)]),
    ModuleCase("PixelShuffle", lambda lib: lib.nn.PixelShuffle(2), [(1, 8, 2, 3)]),
    ModuleCase("ChannelShuffle", lambda lib: lib.nn.ChannelShuffle(2), [(2, 4, 3, 3)]),
    ModuleCase("PixelUnshuffle", lambda lib: lib.nn.PixelUnshuffle(2), [(1, 2, 4, 6)]),
    ModuleCase("Unfold", lambda lib: lib.nn.Unfold(kernel_size=(2, 3), padding=1, stride=2), [(2, 3, 5, 5)]),
    ModuleCase("Fold", lambda lib: lib.nn.Fold(output_size=(4, 5), kernel_size=2), [(2, 8, 12)]),
    ModuleCase("Conv3d", lambda lib: lib.nn.Conv3d(3, 4, 3, stride=2, padding=1), [(2, 3, 5, 5, 5)]),
    ModuleCase(
        "Conv3d-no-bias-groups", lambda lib: lib.nn.Conv3d(4, 2, (2, 3, 1), groups=2, bias=False), [(1, 4, 3, 4, 3)]
    ),
    ModuleCase(
        "Conv3d-reflect",
        lambda lib: lib.nn.Conv3d(2, 3, 3, padding=1, padding_mode="reflect"),
        [(1, 2, 4, 4, 4)],
    ),
    ModuleCase(
        "Conv2d-circular", lambda lib: lib.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular"), [(2, 2, 5, 5)]
    ),
    ModuleCase(
        "Conv1d-replicate", lambda lib: lib.nn.Conv1d(2, 3, 3, padding="same", padding_mode="replicate"), [(2, 2, 7)]
    ),
    ModuleCase("ConvTranspose1d", lambda lib: lib.nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1), [(2, 3, 5)]),
    ModuleCase(
        "ConvTranspose2d-outpad",
        lambda lib: lib.nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1),
        [(2, 2, 3, 4)],
    ),
    ModuleCase(
        "ConvTranspose2d-output-size",
        lambda lib: lib.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
        [(1, 2, 3, 4)],
        call=lambda m, x: m(x, output_size=(6, 8)),
    ),
    ModuleCase(
        "ConvTranspose3d", lambda lib: lib.nn.ConvTranspose3d(2, 3, 3, stride=2, output_padding=1), [(1, 2, 2, 3, 2)]
    ),
    ModuleCase("MaxPool3d", lambda lib: lib.nn.MaxPool3d(2, stride=2, padding=1), [_distinct((1, 2, 4, 5, 4))]),
    ModuleCase("MaxPool2d-ceil", lambda lib: lib.nn.MaxPool2d(3, 2, ceil_mode=True), [_distinct((1, 2, 6, 6))]),
    ModuleCase("MaxPool1d-indices", lambda lib: lib.nn.MaxPool1d(2, return_indices=True), [_distinct((2, 3, 6))]),
    ModuleCase("AvgPool3d", lambda lib: lib.nn.AvgPool3d(3, 2, 1, count_include_pad=False), [(1, 2, 5, 5, 5)]),
    ModuleCase("AvgPool2d-ceil", lambda lib: lib.nn.AvgPool2d(3, 2, 1, ceil_mode=True), [(1, 2, 6, 6)]),
    ModuleCase("AvgPool1d-ceil", lambda lib: lib.nn.AvgPool1d(3, 2, ceil_mode=True), [(1, 2, 8)]),
    ModuleCase("AdaptiveAvgPool1d", lambda lib: lib.nn.AdaptiveAvgPool1d(4), [(2, 3, 9)]),
    ModuleCase("AdaptiveAvgPool3d", lambda lib: lib.nn.AdaptiveAvgPool3d((1, 2, 3)), [(1, 2, 3, 4, 5)]),
    ModuleCase("AdaptiveMaxPool2d", lambda lib: lib.nn.AdaptiveMaxPool2d((2, 3)), [_distinct((2, 3, 5, 7))]),
    ModuleCase(
        "AdaptiveMaxPool2d-indices",
        lambda lib: lib.nn.AdaptiveMaxPool2d(3, return_indices=True),
        [_distinct((1, 2, 7, 5))],
    ),
    ModuleCase("AdaptiveMaxPool1d", lambda lib: lib.nn.AdaptiveMaxPool1d(3), [_distinct((2, 3, 8))]),
    ModuleCase(
        "FractionalMaxPool2d",
        lambda lib: lib.nn.FractionalMaxPool2d(
            3, output_ratio=(0.5, 0.6), _random_samples=lib.tensor(np.random.default_rng(4).random((2, 3, 2)))
        ),
        [_distinct((2, 3, 9, 10))],
    ),
    ModuleCase(
        "FractionalMaxPool3d-indices",
        lambda lib: lib.nn.FractionalMaxPool3d(
            2,
            output_size=3,
            return_indices=True,
            _random_samples=lib.tensor(np.random.default_rng(5).random((1, 2, 3))),
        ),
        [_distinct((1, 2, 5, 6, 5))],
    ),
    ModuleCase("LPPool2d", lambda lib: lib.nn.LPPool2d(2, 3, stride=2), [(1, 2, 7, 7)], low=0.1),
    ModuleCase("LPPool1d", lambda lib: lib.nn.LPPool1d(3, 2), [(2, 2, 6)], low=0.1),
    ModuleCase("LPPool3d", lambda lib: lib.nn.LPPool3d(2, 2), [(1, 2, 4, 4, 4)], low=0.1),
    ModuleCase("AdaptiveMaxPool3d", lambda lib: lib.nn.AdaptiveMaxPool3d(2), [_distinct((1, 2, 3, 4, 5))]),
]

PAD_LAYERS = [
    ("ReflectionPad1d", (2, 1), (2, 3, 5)),
    ("ReflectionPad2d", 1, (2, 3, 4, 4)),
    ("ReflectionPad3d", (1, 0, 1, 2, 0, 1), (1, 2, 3, 4, 4)),
    ("ReplicationPad1d", 3, (2, 3, 2)),
    ("ReplicationPad2d", (1, 2, 0, 3), (3, 4, 5)),
    ("ReplicationPad3d", 1, (1, 2, 2, 3, 3)),
    ("CircularPad1d", (1, 2), (2, 3, 4)),
    ("CircularPad2d", 1, (1, 2, 3, 4)),
    ("CircularPad3d", (1, 1, 0, 1, 1, 0), (1, 1, 2, 3, 3)),
    ("ZeroPad1d", (1, -1), (2, 3, 4)),
    ("ZeroPad2d", (1, 2, 0, 1), (2, 3, 4)),
    ("ZeroPad3d", 1, (1, 2, 2, 3)),
]
MODULES += [
    ModuleCase(name, lambda lib, name=name, padding=padding: getattr(lib.nn, name)(padding), [shape])
    for name, padding, shape in PAD_LAYERS
]
MODULES += [
    ModuleCase("ConstantPad1d", lambda lib: lib.nn.ConstantPad1d((2, 1), 0.5), [(2, 3, 4)]),
    ModuleCase("ConstantPad2d", lambda lib: lib.nn.ConstantPad2d(1, -1.5), [(2, 3, 4)]),
    ModuleCase("ConstantPad3d", lambda lib: lib.nn.ConstantPad3d((1, 0, 0, 1, 2, 0), 3.0), [(1, 2, 2, 3)]),
]


def _unpool_module(dims):
    def make(lib):
        pool = getattr(lib.nn, f"MaxPool{dims}d")(2, return_indices=True)
        unpool = getattr(lib.nn, f"MaxUnpool{dims}d")(2)

        class PoolUnpool(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.pool, self.unpool = pool, unpool

            def forward(self, x):
                return self.unpool(*self.pool(x))

        return PoolUnpool()

    return make


MODULES += [
    ModuleCase("MaxUnpool1d", _unpool_module(1), [_distinct((2, 3, 6))]),
    ModuleCase("MaxUnpool2d", _unpool_module(2), [_distinct((1, 2, 4, 6))]),
    ModuleCase("MaxUnpool3d", _unpool_module(3), [_distinct((1, 2, 4, 4, 2))]),
]


@pytest.mark.parametrize("case", MODULES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_module(case, dtype):
    check_module(case, dtype)


def test_a_model_with_every_kind_of_layer():
    """A small 3-d encoder-decoder: conv, pool, upsample, transposed conv, pixel shuffle."""

    def make(lib):
        nn = lib.nn
        return nn.Sequential(
            nn.Conv3d(2, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool3d(2),
            nn.ConvTranspose3d(4, 4, 2, stride=2),
            nn.AvgPool3d(2),
            nn.Upsample(scale_factor=2, mode="trilinear"),
            nn.Conv3d(4, 4, 1),
            nn.Flatten(1, 2),
            nn.PixelShuffle(2),
            nn.AdaptiveAvgPool2d(3),
        )

    check_module(ModuleCase("encoder-decoder", make, [(2, 2, 4, 4, 4)]))


def _x(*shape):
    return [shape]


ERRORS = [
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, scale_factor=2), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, align_corners=True), _x(1, 2, 4, 4)),
    (
        lambda lib, x: lib.nn.functional.interpolate(x, size=3, mode="nearest-exact", align_corners=False),
        _x(1, 2, 4, 4),
    ),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, mode="bilinear"), _x(1, 2, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, mode="linear"), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, mode="trilinear"), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, mode="bicubic"), _x(1, 2, 4, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3), _x(2, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, mode="cubic"), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=(3, 3, 3)), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=(2, 2, 2)), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, recompute_scale_factor=True), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=0), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, antialias=True), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.interpolate(x, size=3, mode="trilinear", antialias=True), _x(1, 2, 4, 4, 4)),
    (lambda lib, x: lib.nn.Upsample(scale_factor=2, align_corners=True)(x), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.pad(x, (4, 4), mode="reflect"), _x(1, 2, 4)),
    (lambda lib, x: lib.nn.functional.pad(x, (1, 1), mode="reflect"), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.pad(x, (1, 1), mode="replicate"), _x(4)),
    (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1, 1, 1, 1, 1), mode="circular"), _x(1, 2, 4, 4, 4)),
    (lambda lib, x: lib.nn.functional.pad(x, (5, 1), mode="circular"), _x(1, 2, 4)),
    (lambda lib, x: lib.nn.functional.pad(x, (1, 1), mode="reflect", value=1.0), _x(1, 2, 4)),
    (lambda lib, x: lib.nn.functional.pad(x, (1, 1), mode="mirror"), _x(1, 2, 4)),
    (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1)), _x(1, 2, 4)),
    (lambda lib, x: lib.nn.functional.pad(x, (1,) * 8), _x(1, 2, 4)),
    (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), _x(1, 5, 2, 2)),
    (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), _x(4, 2)),
    (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 0), _x(1, 4, 2, 2)),
    (lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2), _x(1, 1, 3, 4)),
    (lambda lib, x: lib.nn.functional.channel_shuffle(x, 4), _x(1, 6, 2)),
    (lambda lib, x: lib.nn.functional.fractional_max_pool2d(x, 2), _x(1, 2, 5, 5)),
    (lambda lib, x: lib.nn.functional.fractional_max_pool2d(x, 3, (4, 4)), _x(1, 2, 5, 5)),
    (lambda lib, x: lib.nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5)(x), _x(1, 2, 5, 5)),
    (lambda lib, x: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5)(x), _x(1, 2, 5, 5)),
    (lambda lib, x: lib.nn.functional.channel_shuffle(x, 1), _x(3)),
    (lambda lib, x: lib.nn.functional.unfold(x, 2), _x(1, 1, 2, 3, 3)),
    (lambda lib, x: lib.nn.functional.unfold(x, 5), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.fold(x, (4, 4), 2), _x(1, 8, 8)),
    (lambda lib, x: lib.nn.functional.fold(x, (4, 4), 2), _x(1, 7, 9)),
    (lambda lib, x: lib.nn.functional.fold(x, (4, 4), 2), _x(1, 2, 4, 4)),
    (
        lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w, stride=2, output_padding=2),
        _x(1, 2, 4, 4) + [(2, 3, 3, 3)],
    ),
    (lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w, output_padding=1), _x(1, 2, 4, 4) + [(2, 3, 3, 3)]),
    (
        lambda lib, x, w: lib.nn.functional.conv_transpose3d(x, w, stride=2, output_padding=2),
        _x(1, 2, 2, 2, 2) + [(2, 1, 2, 2, 2)],
    ),
    (lambda lib, x, w: lib.nn.functional.conv_transpose1d(x, w, stride=2, output_padding=3), _x(1, 2, 4) + [(2, 1, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv3d(x, w), _x(1, 2, 4) + [(1, 1, 1, 1, 1)]),
    (lambda lib, x, w: lib.nn.functional.conv3d(x, w), _x(1, 1, 2, 3, 3) + [(1, 2, 1, 1, 1)]),
    (lambda lib, x, w: lib.nn.functional.conv3d(x, w), _x(1, 1, 2, 3, 3) + [(1, 1, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv3d(x, w, stride=2, padding="same"), _x(1, 1, 4, 4, 4) + [(1, 1, 3, 3, 3)]),
    (lambda lib, x: lib.nn.functional.max_pool3d(x, 2, padding=2), _x(1, 1, 2, 3, 3)),
    (lambda lib, x: lib.nn.functional.max_pool3d(x, 1), _x(1, 2, 4)),
    (lambda lib, x: lib.nn.functional.max_pool2d(x, 2, padding=2), _x(1, 2, 4, 4)),
    (lambda lib, x: lib.nn.functional.avg_pool3d(x, 2, padding=2), _x(1, 1, 4, 4, 4)),
    (lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, padding=2, ceil_mode=True), _x(1, 1, 4, 4)),
    (lambda lib, x: lib.nn.functional.max_pool1d(x, 3, ceil_mode=True, padding=2), _x(1, 1, 6)),
    (lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 2), _x(4)),
    (lambda lib, x: lib.nn.functional.adaptive_avg_pool3d(x, 2), _x(2, 4)),
    (lambda lib, x: lib.nn.ConvTranspose2d(2, 2, 3, stride=2)(x, output_size=(12, 12)), _x(1, 2, 4, 4)),
    (lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode="area"), _x(1, 2, 4, 4) + [(1, 2, 2, 2)]),
    (lambda lib, x, g: lib.nn.functional.grid_sample(x, g, padding_mode="wrap"), _x(1, 2, 4, 4) + [(1, 2, 2, 2)]),
    (lambda lib, x, g: lib.nn.functional.grid_sample(x, g), _x(2, 2, 4, 4) + [(1, 2, 2, 2)]),
    (lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode="bicubic"), _x(1, 1, 2, 4, 4) + [(1, 1, 2, 2, 3)]),
    (lambda lib, t: lib.nn.functional.affine_grid(t, (2, 3, 4, 4)), [(2, 3, 3)]),
    (lambda lib, t: lib.nn.functional.affine_grid(t, (1, 3, 0, 4)), [(1, 2, 3)]),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_error(index):
    call, inputs = ERRORS[index]
    check_error(call, inputs)


def test_unpool_refuses_an_index_out_of_range():
    import torch

    import somegrad as sg

    for lib in (torch, sg):
        x = lib.ones(1, 1, 2, 2)
        bad = lib.tensor(np.full((1, 1, 2, 2), 100, dtype=np.int64))
        with pytest.raises(RuntimeError):
            lib.nn.functional.max_unpool2d(x, bad, 2)


def test_unpool_refuses_an_output_size_out_of_range():
    import torch

    import somegrad as sg

    for lib in (torch, sg):
        x = lib.ones(1, 1, 4, 4)
        indices = lib.tensor(np.zeros((1, 1, 4, 4), dtype=np.int64))
        with pytest.raises(ValueError):
            lib.nn.functional.max_unpool2d(x, indices, 2, output_size=(3, 3))
