"""Samples for the vector and matrix norms (`linalg.vector_norm`, `matrix_norm`, `norm`).

At the kernel level vector_norm's `dim` is a sorted tuple of non-negative dims, () for every
element, and `ord` a float; matrix_norm's `dim` a pair of distinct non-negative dims in the
caller's order. Values are distinct in magnitude where the inf-norms' gradients are checked, so
that no tie makes the selection ambiguous; ties get their own samples.
"""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import FLOATS, ErrorSample, Input, Sample, distinct, register_samples, values

F32, F64 = dtypes.float32, dtypes.float64
INF = math.inf


def _linalg():
    import somegrad

    return somegrad.linalg


def _vector_reference(x, ord, dim, keepdim):
    axis = dim or None
    if axis is None:
        out = np.linalg.vector_norm(x.reshape(-1), ord=ord)
        return out.reshape((1,) * x.ndim) if keepdim else out
    return np.linalg.vector_norm(x, ord=ord, axis=axis, keepdims=keepdim)


@register_samples("linalg_vector_norm")
def _vector_norm_samples():
    la = _linalg
    x = distinct((3, 4), key="vector-norm", spacing=0.3) + 0.1  # no ties in |x|
    for dtype in FLOATS:
        low = dtype in (dtypes.float16, dtypes.bfloat16)
        yield Sample(
            (Input(x),), {"ord": 2.0, "dim": (), "keepdim": False}, _vector_reference, dtype, name="all",
            grad=not low, **({"rtol": 1e-2, "atol": 1e-2} if low else {}),
        )  # fmt: skip
    for ord in (2.0, 1.0, INF, -INF, 0.0, 3.0, 1.5, 0.5, -1.0):
        for dim, keepdim in (((1,), False), ((0,), True), ((), True)):
            yield Sample(
                (Input(x),),
                {"ord": ord, "dim": dim, "keepdim": keepdim},
                _vector_reference,
                F64,
                name=f"ord{ord:g}-dim{dim}-keep{keepdim}",
                grad=ord != 0.0,
            )
    yield Sample((Input(x),), {"ord": 2.0, "dim": (1,), "keepdim": False}, _vector_reference, F32, name="float32-dim")
    yield Sample(
        (Input(values((2, 3, 4), key="vn-t"), layout="transposed"),),
        {"ord": 2.0, "dim": (0, 2), "keepdim": False},
        _vector_reference,
        F64,
        name="transposed",
    )
    # a zero vector: the 2-norm's gradient is 0 there, as in PyTorch (not NaN)
    zero_row = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    yield Sample(
        (Input(zero_row),), {}, lambda x: np.linalg.norm(x, axis=1), F64, name="zero-row",
        call=lambda t: la().vector_norm(t, dim=1), grad_order=1,
    )  # fmt: skip
    ties = np.array([[1.0, -3.0, 3.0], [2.0, 2.0, -2.0]])
    yield Sample(
        (Input(ties),), {}, lambda x: np.abs(x).max(1), F64, name="inf-ties",
        call=lambda t: la().vector_norm(t, INF, 1), grad=False,  # max is not differentiable at ties
    )  # fmt: skip
    yield Sample((Input(np.array(-1.5)),), {}, np.abs, F64, name="0d", call=lambda t: la().vector_norm(t))
    yield Sample(
        (Input(np.zeros((2, 0))),),
        {},
        lambda x: np.zeros(2),
        F64,
        name="empty",
        call=lambda t: la().vector_norm(t, dim=1),
    )
    yield Sample(
        (Input(x),), {}, lambda x: np.linalg.norm(x, axis=0), F64, name="negative-dim",
        call=lambda t: la().vector_norm(t, dim=-2),
    )  # fmt: skip
    yield Sample(
        (Input(x),), {}, lambda x: np.sqrt((x * x).sum()), F32, F64, name="dtype",
        call=lambda t: la().vector_norm(t, dtype=dtypes.float64), grad=False,
    )  # fmt: skip
    yield Sample(
        (Input(x),), {}, lambda x: np.abs(x).sum(0), F64, name="int-ord", call=lambda t: la().vector_norm(t, 1, [0])
    )
    yield ErrorSample(
        (Input(np.zeros(0)),), {}, RuntimeError, "cannot compute the inf norm on an empty tensor", name="empty-inf",
        call=lambda t: la().vector_norm(t, INF),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.ones(3)),), {}, RuntimeError, "expected a floating point", dtype=dtypes.int64, name="int64",
        call=lambda t: la().vector_norm(t),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.ones(3)),),
        {},
        TypeError,
        "ord must be a number",
        name="ord-str",
        call=lambda t: la().vector_norm(t, "fro"),
    )
    yield ErrorSample(
        (Input(np.ones((2, 3))),), {}, IndexError, "dimension out of range", name="dim",
        call=lambda t: la().vector_norm(t, dim=2),
    )  # fmt: skip


def _matrix_reference(x, ord, dim, keepdim):
    return np.linalg.norm(x, ord=ord, axis=dim, keepdims=keepdim)


@register_samples("linalg_matrix_norm")
def _matrix_norm_samples():
    la = _linalg
    x = distinct((2, 3, 4), key="matrix-norm", spacing=0.2) + 0.07
    for ord in ("fro", "nuc", INF, -INF, 1, -1, 2, -2):
        yield Sample((Input(x),), {"ord": ord, "dim": (1, 2), "keepdim": False}, _matrix_reference, F64, name=f"{ord}")
        yield Sample(
            (Input(x),),
            {"ord": ord, "dim": (2, 0), "keepdim": True},
            _matrix_reference,
            F64,
            name=f"{ord}-dims-keepdim",
        )
    for dtype in (F32, dtypes.float16):
        yield Sample(
            (Input(x),), {"ord": "fro", "dim": (1, 2), "keepdim": False}, _matrix_reference, dtype, name="fro",
            **({"rtol": 1e-2, "atol": 1e-2} if dtype is dtypes.float16 else {}),
        )  # fmt: skip
    yield Sample(
        (Input(x),), {}, lambda x: np.linalg.norm(x, "nuc", axis=(-2, -1)), F32, name="nuc-public",
        call=lambda t: la().matrix_norm(t, "nuc"), rtol=1e-4, atol=1e-5,
    )  # fmt: skip
    yield Sample(
        (Input(values((4, 3), key="mn-t"), layout="transposed"),), {}, lambda x: np.linalg.norm(x, 2), F64,
        name="transposed", call=lambda t: la().matrix_norm(t, 2),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.ones(3)),), {}, RuntimeError, "at least 2 dimensions", name="1d", call=lambda t: la().matrix_norm(t)
    )
    yield ErrorSample(
        (Input(np.ones((3, 3))),), {}, RuntimeError, "order 3 not supported", name="ord",
        call=lambda t: la().matrix_norm(t, 3),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.ones((3, 3))),), {}, RuntimeError, "dims must be different", name="same-dims",
        call=lambda t: la().matrix_norm(t, dim=(0, -2)),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.ones((3, 3))),), {}, NotImplementedError, "low precision", dtype=dtypes.float16, name="nuc-float16",
        call=lambda t: la().matrix_norm(t, "nuc"),
    )  # fmt: skip


@register_samples("linalg_norm")
def _linalg_norm_samples():
    la = _linalg
    x = distinct((3, 4), key="linalg-norm", spacing=0.3) + 0.1
    cases = [
        ("default", lambda t: la().norm(t), lambda x: np.sqrt((x * x).sum())),
        ("vector-dim", lambda t: la().norm(t, 3, dim=1), lambda x: np.linalg.norm(x, 3, axis=1)),
        ("vector-tuple", lambda t: la().norm(t, INF, dim=(0,)), lambda x: np.abs(x).max(0)),
        ("matrix-dims", lambda t: la().norm(t, "nuc", dim=(0, 1)), lambda x: np.linalg.norm(x, "nuc")),
        ("matrix-2d", lambda t: la().norm(t, 1), lambda x: np.linalg.norm(x, 1)),
        ("matrix-keepdim", lambda t: la().norm(t, "fro", (0, 1), True), lambda x: np.linalg.norm(x, keepdims=True)),
        ("vector-1d", lambda t: la().norm(t[0], 1.5), lambda x: np.linalg.norm(x[0], 1.5)),
        ("dtype", lambda t: la().norm(t, dtype=dtypes.float64), lambda x: np.linalg.norm(x)),
    ]
    for name, call, reference in cases:
        yield Sample((Input(x),), {}, reference, F64, name=name, call=call)
    yield Sample(
        (Input(values((2, 3, 4), key="ln3")),), {}, lambda x: np.sqrt((x * x).sum()), F32, name="3d-default",
        call=lambda t: la().norm(t),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.ones((2, 2, 2))),), {}, RuntimeError, "the input must be 1D or 2D", name="3d-ord",
        call=lambda t: la().norm(t, 2),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.ones((2, 2, 2))),), {}, RuntimeError, "it must be of length 1 or 2", name="three-dims",
        call=lambda t: la().norm(t, dim=(0, 1, 2)),
    )  # fmt: skip
