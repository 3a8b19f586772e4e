"""Samples for the resampling and rearranging composites of `somegrad.ops.nn`: interpolate, the
index paddings (reflection_pad, replication_pad, circular_pad), pixel_shuffle, pixel_unshuffle,
im2col and col2im (unfold/fold). References are plain NumPy, written from PyTorch's formulas
one output element at a time."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import FLOATS, ErrorSample, Input, Sample, register_samples, values
from somegrad.testing.samples.nn import _grad_of, _numeric_vjp

F32, F64 = dtypes.float32, dtypes.float64


def _nn():
    from somegrad.ops import nn

    return nn


# --- interpolate -------------------------------------------------------------------------------
def _cubic(s):
    a, s = -0.75, abs(s)
    if s <= 1:
        return ((a + 2) * s - (a + 3)) * s * s + 1
    if s < 2:
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a
    return 0.0


def _antialias_matrix(n, out, mode, align_corners, scale):
    """PIL's resampling filter, as PyTorch's antialias: stretched when downsampling, normalised."""
    if align_corners:
        step = (n - 1) / (out - 1) if out > 1 else 0.0
    else:
        step = 1 / scale if scale else n / out
    m = np.zeros((out, n))
    for o in range(out):
        center = step * (o + 0.5)
        support = (1.0 if mode == "bilinear" else 2.0) * max(step, 1.0)
        for i in range(max(int(center - support + 0.5), 0), min(int(center + support + 0.5), n)):
            s = abs(i - center + 0.5) / max(step, 1.0)
            if mode == "bilinear":
                m[o, i] = max(1 - s, 0.0)
            else:  # the cubic of a = -0.5
                m[o, i] = (
                    1.5 * s**3 - 2.5 * s**2 + 1 if s < 1 else (-0.5 * s**3 + 2.5 * s**2 - 4 * s + 2 if s < 2 else 0.0)
                )
        m[o] /= m[o].sum() or 1.0
    return m


def _matrix(n, out, mode, align_corners, scale, antialias=False):
    """(out, n): output sample o is sum_i M[o, i] x[i] along one dim."""
    if antialias:
        return _antialias_matrix(n, out, mode, align_corners, scale)
    m = np.zeros((out, n))
    for o in range(out):
        if mode in ("nearest", "nearest-exact"):
            step = 1 / scale if scale else n / out
            shift = 0.5 if mode == "nearest-exact" else 0.0
            m[
                o, o // 2 if out == 2 * n and not shift else min(int(np.floor(np.float32((o + shift) * step))), n - 1)
            ] = 1
            continue
        if align_corners:
            src = o * (n - 1) / (out - 1) if out > 1 else 0.0
        else:
            src = (o + 0.5) * (1 / scale if scale else n / out) - 0.5
        if mode == "bicubic":
            low = math.floor(src)
            for tap in range(-1, 3):
                m[o, min(max(low + tap, 0), n - 1)] += _cubic(src - (low + tap))
        else:
            src = max(src, 0.0)
            low = int(src)
            high = min(low + 1, n - 1)
            m[o, low] += 1 - (src - low)
            m[o, high] += src - low
    return m


def _interpolate(x, size, mode, align_corners, scales, antialias):
    for d, out in enumerate(size):
        if x.shape[2 + d] == out and (scales[d] is None or mode.startswith("nearest")):
            continue
        m = _matrix(x.shape[2 + d], out, mode, align_corners, scales[d], antialias)
        x = np.moveaxis(np.tensordot(x, m, axes=([2 + d], [1])), -1, 2 + d)
    return x


def _params(size, mode, align_corners=False, scales=None, antialias=False):
    scales = scales or (None,) * len(size)
    return {"size": size, "mode": mode, "align_corners": align_corners, "scales": scales, "antialias": antialias}


_INTERPOLATE_CASES = (
    ("nearest-up", (2, 3, 3, 4), _params((6, 8), "nearest")),
    ("nearest-down", (1, 2, 5, 7), _params((3, 4), "nearest")),
    ("nearest-scale", (1, 2, 4, 5), _params((6, 8), "nearest", scales=(1.5, 1.7))),
    ("nearest-exact", (1, 2, 4, 5), _params((7, 3), "nearest-exact")),
    ("nearest-1d", (2, 2, 5), _params((8,), "nearest")),
    ("nearest-3d", (1, 1, 2, 3, 3), _params((3, 5, 2), "nearest")),
    ("linear", (2, 3, 4), _params((7,), "linear")),
    ("linear-align", (2, 3, 4), _params((7,), "linear", True)),
    ("bilinear", (1, 2, 3, 4), _params((5, 7), "bilinear")),
    ("bilinear-down", (1, 2, 6, 5), _params((4, 2), "bilinear")),
    ("bilinear-align", (1, 2, 3, 4), _params((5, 7), "bilinear", True)),
    ("bilinear-scale", (1, 2, 3, 4), _params((3, 9), "bilinear", scales=(1.2, 2.4))),
    ("bicubic", (1, 2, 4, 4), _params((6, 7), "bicubic")),
    ("bicubic-align", (1, 2, 4, 4), _params((6, 3), "bicubic", True)),
    ("trilinear", (1, 1, 2, 3, 3), _params((3, 5, 4), "trilinear")),
    ("bilinear-antialias", (1, 2, 9, 7), _params((4, 3), "bilinear", antialias=True)),
    ("bicubic-antialias", (1, 2, 9, 5), _params((4, 7), "bicubic", antialias=True)),
    ("bicubic-antialias-align", (1, 1, 7, 8), _params((3, 3), "bicubic", True, antialias=True)),
)


@register_samples("interpolate")
def _interpolate_samples():
    for name, shape, params in _INTERPOLATE_CASES:
        yield Sample((Input(values(shape)),), params, _interpolate, F64, name=name)
    for dtype in FLOATS:
        yield Sample(
            (Input(values((1, 2, 3, 4))),),
            _params((5, 6), "bilinear"),
            _interpolate,
            dtype,
            name="dtype",
            rtol=1e-5 if dtype is F32 else None,
        )
    yield Sample(
        (Input(values((1, 2, 3, 4)), layout="transposed"),),
        _params((5, 6), "bicubic"),
        _interpolate,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(values((1, 2, 3, 4), low=0, high=255, integer=True)),),
        _params((5, 7), "nearest"),
        _interpolate,
        dtypes.uint8,
        name="uint8-nearest",
        grad=False,
    )
    yield ErrorSample(
        (Input(values((1, 2, 3, 4), low=0, high=255, integer=True), dtypes.uint8),),
        _params((5, 7), "bilinear"),
        NotImplementedError,
        "uint8",
        name="uint8-bilinear",
    )
    yield Sample(
        (Input(values((0, 2, 3, 4))),), _params((5, 6), "bilinear"), _interpolate, F64, name="empty-batch", grad=False
    )
    yield Sample(
        (Input(values((2, 3, 4, 4))),),
        {},
        lambda x: _interpolate(x, (8, 8), "bilinear", False, (2.0, 2.0), False),
        F64,
        name="public-scale-factor",
        call=lambda x: _nn().interpolate(x, scale_factor=2, mode="bilinear"),
    )
    for name, call, error, match in (
        ("both", lambda x: _nn().interpolate(x, size=3, scale_factor=2), ValueError, "only one of size"),
        ("neither", lambda x: _nn().interpolate(x), ValueError, "either size or scale_factor"),
        ("align-nearest", lambda x: _nn().interpolate(x, size=3, align_corners=True), ValueError, "align_corners"),
        ("mode-dims", lambda x: _nn().interpolate(x, size=3, mode="trilinear"), NotImplementedError, "trilinear"),
        ("size-dims", lambda x: _nn().interpolate(x, size=(3, 3, 3)), ValueError, "spatial dimensions"),
        ("zero-size", lambda x: _nn().interpolate(x, size=0), RuntimeError, "greater than 0"),
        ("antialias-nearest", lambda x: _nn().interpolate(x, size=3, antialias=True), ValueError, "anti-alias"),
    ):
        yield ErrorSample((Input(values((1, 2, 4, 4))),), {}, error, match, name=name, call=call)


@register_samples("interpolate_backward")
def _interpolate_backward_samples():
    from somegrad.ops.dispatch import apply

    def forward(params):
        return lambda x: apply(_nn().resample.INTERPOLATE, (x,), params)

    # long axes, whose adjoint adds the taps back at their indices instead of one GEMM
    long_axes = (
        ("long-nearest", (1, 1, 300, 2), _params((450, 2), "nearest")),
        ("long-bilinear", (1, 1, 520, 1), _params((700, 1), "bilinear")),
    )
    for name, shape, params in _INTERPOLATE_CASES[::2] + _INTERPOLATE_CASES[-3:] + long_axes:
        out_shape = _interpolate(np.zeros(shape), **params).shape
        # float32 on the short cases only: on the long axes the array-api-strict backend's
        # index_add (scatter_add) differs from float64 by more than the float32 tolerance
        for dtype in (F64,) if name.startswith("long") else (F64, F32):
            yield Sample(
                (Input(values(shape)), Input(values(out_shape, key="g"))),
                {},
                _numeric_vjp(lambda x, params=params: _interpolate(x, **params)),
                dtype,
                name=name,
                call=_grad_of(forward(params)),
                grad=False,
                rtol=1e-5 if dtype is F32 else None,
                atol=1e-6 if dtype is F32 else None,
            )


# --- the index paddings ---------------------------------------------------------------------------
def _numpy_pad(mode):
    def reference(x, pad):
        widths = [(0, 0)] * (x.ndim - len(pad)) + list(pad)
        if mode == "circular":  # PyTorch crops first, then wraps around what is left
            crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, widths, strict=True))
            return np.pad(x[crop], [(max(b, 0), max(a, 0)) for b, a in widths], "wrap")
        padded = np.pad(
            x, [(max(b, 0), max(a, 0)) for b, a in widths], {"reflect": "reflect", "replicate": "edge"}[mode]
        )
        crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(padded.shape, widths, strict=True))
        return padded[crop]

    return reference


def _pad_samples(op, mode):
    def samples():
        for name, shape, pad in (
            ("1d", (2, 3, 5), ((2, 3),)),
            ("2d", (2, 3, 4, 5), ((1, 2), (3, 1))),
            ("3d", (1, 2, 3, 4, 4), ((1, 2), (0, 1), (2, 2))),
            ("unbatched", (3, 5), ((1, 1),)),
        ):
            yield Sample((Input(values(shape)),), {"pad": pad}, _numpy_pad(mode), F64, name=name)
        for dtype in FLOATS:
            yield Sample((Input(values((2, 3, 4))),), {"pad": ((1, 2),)}, _numpy_pad(mode), dtype, name="dtype")
        yield Sample(
            (Input(values((2, 3, 4, 5)), layout="transposed"),),
            {"pad": ((1, 1), (2, 0))},
            _numpy_pad(mode),
            F64,
            name="transposed",
        )
        yield Sample(
            (Input(values((3, 5), integer=True, low=-9, high=9)),),
            {"pad": ((1, 2),)},
            _numpy_pad(mode),
            dtypes.int64,
            name="int64",
            grad=False,
        )
        yield Sample((Input(values((2, 3, 6))),), {"pad": ((-1, 2),)}, _numpy_pad(mode), F64, name="negative")
        too_wide = ((5, 1),)
        if mode != "replicate":
            yield ErrorSample(
                (Input(values((1, 2, 4))),),
                {"pad": too_wide},
                RuntimeError,
                op,
                name="too-wide",
            )
        yield ErrorSample(
            (Input(values((1, 2, 4))),),
            {},
            NotImplementedError,
            "pad",
            name="dims",
            call=lambda x: _nn().resample.pad_by_index(x, (1, 1, 1, 1, 1, 1), mode),
        )

    return samples


register_samples("reflection_pad")(_pad_samples("reflection_pad", "reflect"))
register_samples("replication_pad")(_pad_samples("replication_pad", "replicate"))
register_samples("circular_pad")(_pad_samples("circular_pad", "circular"))


# --- pixel shuffle ---------------------------------------------------------------------------------
def _shuffle(x, factor):
    *batch, c, h, w = x.shape
    x = x.reshape(*batch, c // factor**2, factor, factor, h, w)
    x = np.moveaxis(x, (-4, -3), (-3, -1))  # (..., C, H, r, W, r)
    return x.reshape(*batch, c // factor**2, h * factor, w * factor)


def _unshuffle(x, factor):
    *batch, c, h, w = x.shape
    out = np.zeros((*batch, c * factor**2, h // factor, w // factor))
    for ch in range(c):
        for i in range(factor):
            for j in range(factor):
                out[..., ch * factor**2 + i * factor + j, :, :] = x[..., ch, i::factor, j::factor]
    return out


def _shuffle_samples(op, reference, shapes, bad_shape):
    def samples():
        for name, shape, factor in shapes:
            yield Sample((Input(values(shape)),), {"factor": factor}, reference, F64, name=name)
        for dtype in FLOATS:
            yield Sample((Input(values(shapes[0][1])),), {"factor": shapes[0][2]}, reference, dtype, name="dtype")
        yield Sample(
            (Input(values(shapes[0][1], integer=True, low=0, high=9)),),
            {"factor": shapes[0][2]},
            reference,
            dtypes.int32,
            name="int32",
            grad=False,
        )
        yield Sample(
            (Input(values(shapes[0][1]), layout="transposed"),),
            {"factor": shapes[0][2]},
            reference,
            F64,
            name="transposed",
        )
        yield Sample(
            (Input(values(shapes[0][1])),),
            {},
            lambda x: reference(x, shapes[0][2]),
            F64,
            name="public",
            call=lambda x: getattr(_nn(), op)(x, shapes[0][2]),
        )
        yield ErrorSample((Input(values(bad_shape)),), {"factor": 2}, RuntimeError, op, name="not-divisible")
        yield ErrorSample((Input(values((4, 2))),), {"factor": 2}, RuntimeError, "at least 3 dimensions", name="ndim")
        yield ErrorSample((Input(values(shapes[0][1])),), {"factor": 0}, RuntimeError, "positive", name="zero")

    return samples


register_samples("pixel_shuffle")(
    _shuffle_samples(
        "pixel_shuffle", _shuffle, (("2", (2, 8, 2, 3), 2), ("batch-dims", (2, 1, 9, 2, 2), 3)), (1, 5, 2, 2)
    )
)
register_samples("pixel_unshuffle")(
    _shuffle_samples("pixel_unshuffle", _unshuffle, (("2", (2, 2, 4, 6), 2), ("unbatched", (1, 6, 3), 3)), (1, 1, 3, 4))
)


# --- im2col and col2im -----------------------------------------------------------------------------
def _blocks(spatial, kernel_size, stride, padding, dilation):
    return tuple(
        (n + 2 * p[0] - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(spatial, kernel_size, stride, padding, dilation, strict=True)
    )


def _im2col(x, kernel_size, stride, padding, dilation):
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    xp = np.pad(x, ((0, 0), (0, 0), padding[0], padding[1]))
    oh, ow = _blocks(x.shape[2:], kernel_size, stride, padding, dilation)
    cols = np.zeros((x.shape[0], x.shape[1], kh, kw, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw]
            cols[..., i, j] = window
    return cols.reshape(x.shape[0], x.shape[1] * kh * kw, oh * ow)


def _col2im(cols, output_size, kernel_size, stride, padding, dilation):
    # the adjoint, one window at a time
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    h, w = output_size
    n, c = cols.shape[0], cols.shape[1] // (kh * kw)
    oh, ow = _blocks(output_size, kernel_size, stride, padding, dilation)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    out = np.zeros((n, c, h + sum(padding[0]), w + sum(padding[1])))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw] += cols[
                ..., i, j
            ]
    return out[:, :, padding[0][0] : padding[0][0] + h, padding[1][0] : padding[1][0] + w]


def _fold_params(kernel=(2, 2), stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1)):
    return {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation}


_FOLD_CASES = (
    ("2x2", (2, 3, 4, 5), _fold_params()),
    ("all", (1, 2, 5, 6), _fold_params((2, 3), (1, 2), ((1, 1), (1, 1)), (2, 1))),
    ("stride", (1, 2, 6, 6), _fold_params((3, 3), (3, 3))),
)


@register_samples("im2col")
def _im2col_samples():
    for name, shape, params in _FOLD_CASES:
        yield Sample((Input(values(shape)),), params, _im2col, F64, name=name)
    for dtype in FLOATS:
        yield Sample((Input(values((2, 3, 4, 5))),), _fold_params(), _im2col, dtype, name="dtype")
    yield Sample((Input(values((2, 3, 4, 5)), layout="transposed"),), _fold_params(), _im2col, F64, name="transposed")
    yield Sample(
        (Input(values((3, 4, 4))),),
        {},
        lambda x: _im2col(x[None], **_fold_params((3, 3), padding=((1, 1), (1, 1))))[0],
        F64,
        name="unbatched",
        call=lambda x: _nn().unfold(x, 3, padding=1),
    )
    yield ErrorSample(
        (Input(values((1, 1, 2, 3, 3))),), {}, RuntimeError, "unfold", name="5d", call=lambda x: _nn().unfold(x, 2)
    )
    yield ErrorSample(
        (Input(values((1, 2, 4, 4))),), {}, RuntimeError, "too small", name="big", call=lambda x: _nn().unfold(x, 5)
    )


@register_samples("col2im")
def _col2im_samples():
    for name, shape, params in _FOLD_CASES:
        blocks = _blocks(shape[2:], params["kernel_size"], params["stride"], params["padding"], params["dilation"])
        cols_shape = (shape[0], shape[1] * math.prod(params["kernel_size"]), math.prod(blocks))
        yield Sample((Input(values(cols_shape)),), {"output_size": shape[2:], **params}, _col2im, F64, name=name)
    for dtype in FLOATS:
        yield Sample(
            (Input(values((2, 12, 12))),), {"output_size": (4, 5), **_fold_params()}, _col2im, dtype, name="dtype"
        )
    yield Sample(
        (Input(values((8, 4))),),
        {},
        lambda x: _col2im(x[None], (3, 3), **_fold_params())[0],
        F64,
        name="unbatched",
        call=lambda x: _nn().fold(x, (3, 3), 2),
    )
    for name, shape, match in (("blocks", (1, 8, 8), "sliding blocks"), ("channels", (1, 7, 9), "divisible")):
        yield ErrorSample(
            (Input(values(shape)),), {}, RuntimeError, match, name=name, call=lambda x: _nn().fold(x, (4, 4), 2)
        )
