"""Samples for the LU decomposition: lu_factor, lu, lu_unpack and lu_solve, against a plain
NumPy Gaussian elimination with partial pivoting (one matrix at a time)."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, register_samples, values
from somegrad.testing.samples.decompositions import tolerance

F32, F64, I32 = dtypes.float32, dtypes.float64, dtypes.int32


def _la():
    import somegrad

    return somegrad.linalg


def _lu_one(a):
    """(packed LU, 1-based pivots) of one matrix, LAPACK's getrf written out."""
    a = a.astype(np.float64).copy()
    m, n = a.shape
    pivots = []
    for j in range(min(m, n)):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        pivots.append(p + 1)
        a[[j, p]] = a[[p, j]]
        if a[j, j] != 0:
            a[j + 1 :, j] /= a[j, j]
            a[j + 1 :, j + 1 :] -= np.outer(a[j + 1 :, j], a[j, j + 1 :])
    return a, np.array(pivots)


def _batched(fn, x, part):
    flat = x.reshape(-1, *x.shape[-2:])
    out = np.stack([fn(a)[part] for a in flat]) if len(flat) else np.zeros((0,))
    return out.reshape(x.shape[:-2] + out.shape[1:])


def _unpacked(a):
    LU, pivots = _lu_one(a)
    m, n = a.shape
    k = min(m, n)
    order = np.arange(m)
    for j, p in enumerate(pivots):
        order[[j, p - 1]] = order[[p - 1, j]]
    P = np.eye(m)[order].T
    return P, np.tril(LU[:, :k], -1) + np.eye(m, k), np.triu(LU[:k])


@register_samples("linalg_lu_factor")
def _lu_factor_samples():
    la = _la
    for name, shape in (("square", (4, 4)), ("batch", (2, 3, 3)), ("tall", (5, 3)), ("wide", (3, 5))):
        x = values(shape, key=f"lu-{name}")
        for dtype in (F32, F64) if name == "square" else (F64,):
            yield Sample(
                (Input(x),), {}, lambda x: _batched(_lu_one, x, 0), dtype, name=f"{name}-LU",
                call=lambda t: la().lu_factor(t).LU, **tolerance(dtype),
            )  # fmt: skip
        yield Sample(
            (Input(x),), {}, lambda x: _batched(_lu_one, x, 1), F64, I32, name=f"{name}-pivots",
            call=lambda t: la().lu_factor(t).pivots,
        )  # fmt: skip
    yield ErrorSample(
        (Input(values((3,))),), {}, RuntimeError, "at least 2 dimensions", name="1d", call=lambda t: la().lu_factor(t)
    )


@register_samples("linalg_lu")
def _lu_samples():
    la = _la
    for name, shape in (("square", (3, 3)), ("tall", (4, 3)), ("wide", (2, 4))):
        x = values(shape, key=f"plu-{name}")
        for part in (0, 1, 2):
            yield Sample(
                (Input(x),), {}, lambda x, p=part: _unpacked(x)[p], F64, name=f"{name}-{'PLU'[part]}",
                call=lambda t, p=part: la().lu(t)[p], grad=part != 0,
            )  # fmt: skip
    yield Sample(
        (Input(values((2, 3, 3), key="plu-product"), layout="transposed"),), {}, lambda x: x, F32, name="product",
        call=lambda t: (lambda P, L, U: P @ L @ U)(*la().lu(t)), **tolerance(F32),
    )  # fmt: skip


@register_samples("lu_unpack")
def _lu_unpack_samples():
    import somegrad

    x = values((4, 4), key="unpack")
    for part in (0, 1, 2):
        yield Sample(
            (Input(x),), {}, lambda x, p=part: _unpacked(x)[p], F64, name="PLU"[part],
            call=lambda t, p=part: somegrad.lu_unpack(*_la().lu_factor(t))[p], grad=part != 0,
        )  # fmt: skip


@register_samples("linalg_lu_solve")
def _lu_solve_samples():
    la = _la
    A = values((3, 3), key="lus-A") + 2 * np.eye(3)
    B = values((3, 2), key="lus-B")
    for left in (True, False):
        for adjoint in (False, True):

            def reference(a, b, left=left, adjoint=adjoint):
                a = a.T if adjoint else a
                return np.linalg.solve(a, b) if left else np.linalg.solve(a.T, b.T).T

            yield Sample(
                (Input(A), Input(B if left else B.T)), {}, reference, F64, name=f"left{left}-adjoint{adjoint}",
                call=lambda a, b, left=left, adjoint=adjoint: la().lu_solve(
                    *la().lu_factor(a), b, left=left, adjoint=adjoint
                ),
            )  # fmt: skip
    yield Sample(
        (Input(np.stack([A, A.T])), Input(B)), {}, lambda a, b: np.linalg.solve(a, b), F32, name="batch",
        call=lambda a, b: la().lu_solve(*la().lu_factor(a), b), **tolerance(F32),
    )  # fmt: skip
    yield ErrorSample(
        (Input(A), Input(values((4, 2)))), {}, RuntimeError, "incompatible shapes", name="shapes",
        call=lambda a, b: la().lu_solve(*la().lu_factor(a), b),
    )  # fmt: skip


MIXED = np.stack([np.eye(3) * 2, np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]), np.zeros((3, 3))])


@register_samples("linalg_lu_factor_ex")
def _lu_factor_ex_samples():
    la = _la
    yield Sample((Input(MIXED),), {}, lambda x: np.array([0, 3, 1]), F64, I32, name="info",
                 call=lambda t: la().lu_factor_ex(t).info)  # fmt: skip
    x = values((4, 4), key="lu-ex")
    yield Sample((Input(x),), {}, lambda x: _lu_one(x)[0], F64, name="LU", call=lambda t: la().lu_factor_ex(t).LU)
    yield ErrorSample(
        (Input(MIXED),), {}, RuntimeError, "singular", name="check-errors",
        call=lambda t: la().lu_factor_ex(t, check_errors=True),
    )  # fmt: skip


@register_samples("linalg_inv_ex")
def _inv_ex_samples():
    la = _la
    x = values((2, 3, 3), key="inv-ex") + 3 * np.eye(3)
    for dtype in (F32, F64):
        yield Sample((Input(x),), {}, np.linalg.inv, dtype, name="inverse", call=lambda t: la().inv_ex(t).inverse,
                     **tolerance(dtype))  # fmt: skip
    yield Sample((Input(MIXED),), {}, lambda x: np.array([0, 3, 1]), F64, I32, name="info",
                 call=lambda t: la().inv_ex(t).info)  # fmt: skip
    yield Sample(
        (Input(MIXED),), {}, lambda x: np.where(np.arange(3)[:, None, None] == 0, np.eye(3) / 2, np.nan), F64,
        name="nan-where-singular", call=lambda t: la().inv_ex(t).inverse, grad=False,
    )  # fmt: skip
    yield ErrorSample(
        (Input(MIXED),), {}, RuntimeError, "singular", name="check-errors",
        call=lambda t: la().inv_ex(t, check_errors=True),
    )  # fmt: skip


@register_samples("linalg_solve_ex")
def _solve_ex_samples():
    la = _la
    A, B = values((3, 3), key="solve-ex") + 3 * np.eye(3), values((3, 2), key="solve-ex-B")
    yield Sample((Input(A), Input(B)), {}, np.linalg.solve, F64, name="result",
                 call=lambda a, b: la().solve_ex(a, b).result)  # fmt: skip
    yield Sample(
        (Input(A), Input(B[:, 0])), {}, lambda a, b: np.linalg.solve(a, b[:, None])[:, 0], F64, name="vector",
        call=lambda a, b: la().solve_ex(a, b)[0],
    )  # fmt: skip
    yield Sample((Input(MIXED), Input(B)), {}, lambda a, b: np.array([0, 3, 1]), F64, I32, name="info",
                 call=lambda a, b: la().solve_ex(a, b).info)  # fmt: skip
