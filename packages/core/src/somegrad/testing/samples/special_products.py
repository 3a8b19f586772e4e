"""Samples for `somegrad.ops.special_products`: kron, cdist, dist, trapezoid and
cumulative_trapezoid, against NumPy (np.kron, norms of broadcast differences, np.trapz's sums)."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import FLOATS, ErrorSample, Input, Sample, register_samples, values

F32, F64 = dtypes.float32, dtypes.float64
INF = math.inf


def _sg():
    import somegrad

    return somegrad


@register_samples("kron")
def _kron_samples():
    for dtype in FLOATS:
        yield Sample(
            (Input(values((2, 3), key="kron-a")), Input(values((3, 2), key="kron-b"))), {}, np.kron, dtype, name="2d"
        )
    yield Sample((Input(values((3,))), Input(values((4,)))), {}, np.kron, F64, name="1d")
    yield Sample((Input(values((2, 2))), Input(values((2, 3, 2)))), {}, np.kron, F64, name="mixed-ndim")
    yield Sample(
        (Input(values((2, 3)), layout="transposed"), Input(values((2, 2)))), {}, np.kron, F64, name="transposed"
    )
    yield Sample((Input(np.array(2.0)), Input(values((2, 2)))), {}, np.kron, F64, name="0d")
    yield Sample((Input(np.zeros((0, 2))), Input(values((2, 2)))), {}, np.kron, F64, name="size0")
    ints = values((2, 2), -4, 4, integer=True, key="kron-int")
    for dtype in (dtypes.int32, dtypes.int64):
        yield Sample((Input(ints), Input(ints.T)), {}, np.kron, dtype, name="int")


def _cdist_reference(x1, x2, p):
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(np.float64)
    if p == INF:
        return diff.max(-1)
    return (diff**p).sum(-1) ** (1 / p)


@register_samples("cdist")
def _cdist_samples():
    a, b = values((4, 3), key="cdist-a"), values((5, 3), key="cdist-b")
    for dtype in (F32, F64):
        yield Sample((Input(a), Input(b)), {"p": 2.0}, _cdist_reference, dtype, name="p2")
    for p in (1.0, 3.0, INF):
        yield Sample((Input(a), Input(b)), {"p": p}, _cdist_reference, F64, name=f"p{p}")
    yield Sample((Input(a), Input(b)), {"p": 0.0}, _cdist_reference, F64, name="p0", grad=False)
    yield Sample(
        (Input(values((2, 4, 3))), Input(values((1, 5, 3)))), {"p": 2.0}, _cdist_reference, F64, name="batched"
    )
    yield Sample((Input(a, layout="transposed"), Input(b)), {"p": 2.0}, _cdist_reference, F64, name="transposed")
    yield ErrorSample(
        (Input(a), Input(values((5, 2)))), {"p": 2.0}, RuntimeError, "same number of columns", name="columns"
    )
    yield ErrorSample((Input(values((3,))), Input(values((3,)))), {"p": 2.0}, RuntimeError, "at least 2D", name="1d")
    yield ErrorSample(
        (Input(a), Input(b)),
        {},
        RuntimeError,
        "non-negative p",
        call=lambda x, y: _sg().cdist(x, y, p=-1.0),
        name="negative-p",
    )


def _dist_reference(a, b, p):
    diff = np.abs(a - b).ravel()
    if p == INF:
        return np.array(diff.max())
    return np.array((diff**p).sum() ** (1 / p))


@register_samples("dist")
def _dist_samples():
    a, b = values((3, 4), key="dist-a"), values((4,), key="dist-b")
    for dtype in (F32, F64):
        yield Sample((Input(a), Input(b)), {"p": 2.0}, _dist_reference, dtype, name="p2")
    for p in (1.0, 3.0, INF):
        yield Sample((Input(a), Input(b)), {"p": p}, _dist_reference, F64, name=f"p{p}")
    yield ErrorSample((Input(a), Input(values((3,)))), {"p": 2.0}, ValueError, "cannot be broadcast", name="bcast")


def _trapezoid_reference(y, x=None, dx=1.0, dim=-1):
    y = np.moveaxis(y, dim, -1)
    mean = (y[..., 1:] + y[..., :-1]) / 2
    if x is None:
        return (mean * dx).sum(-1)
    widths = np.diff(x if x.ndim == 1 else np.moveaxis(x, dim, -1), axis=-1)
    return (mean * widths).sum(-1)


def _cumulative_reference(y, x=None, dx=1.0, dim=-1):
    y = np.moveaxis(y, dim, -1)
    mean = (y[..., 1:] + y[..., :-1]) / 2
    widths = dx if x is None else np.diff(x if x.ndim == 1 else np.moveaxis(x, dim, -1), axis=-1)
    return np.moveaxis(np.cumsum(mean * widths, -1), -1, dim)


_SPACING = np.array([0.0, 0.5, 1.5, 1.75, 3.0])


def _integral_samples(op, reference):
    @register_samples(op)
    def samples():
        y = values((3, 5), key=op)
        for dtype in FLOATS:
            yield Sample((Input(y),), {"x": None, "dx": 1.0, "dim": -1}, reference, dtype, name="dx1")
        yield Sample((Input(y),), {"x": None, "dx": 0.25, "dim": -1}, reference, F64, name="dx")
        yield Sample((Input(y.T.copy()),), {"x": None, "dx": 0.5, "dim": 0}, reference, F64, name="dim0")
        yield Sample(
            (Input(y, layout="transposed"),), {"x": None, "dx": 1.0, "dim": 1}, reference, F64, name="transposed"
        )
        yield Sample(
            (Input(y),),
            {},
            lambda v: reference(v, _SPACING),
            F64,
            name="public-x",
            call=lambda v: getattr(_sg(), op)(v, _sg().tensor(_SPACING, dtype=v.dtype, device=v.device)),
        )
        yield Sample(
            (Input(values((2, 4, 3), key=op)),),
            {},
            lambda v: reference(v, dx=2.0, dim=1),
            F64,
            name="public-3d",
            call=lambda v: getattr(_sg(), op)(v, dx=2.0, dim=1),
        )
        yield ErrorSample(
            (Input(y),),
            {},
            RuntimeError,
            "one `x` value for each sample point",
            call=lambda v: getattr(_sg(), op)(v, _sg().tensor([0.0, 1.0], device=v.device)),
            name="x-length",
        )

    return samples


_integral_samples("trapezoid", _trapezoid_reference)
_integral_samples("cumulative_trapezoid", _cumulative_reference)
