"""Samples for `somegrad.ops.decompositions`: det, slogdet, inv, solve, cholesky and the
top-level norm (the factorizations' samples are in `decompositions_factor`, the norms' in
`decompositions_norms`).

Square inputs are made well conditioned (a random matrix plus a multiple of the identity) so
that float32 results and finite differences are accurate; gradients are checked in float64
against finite differences to second order. Symmetric positive-definite inputs for cholesky
are built inside the call (`X X^T + I`), so that finite differences perturb a function of an
unconstrained matrix, as PyTorch's gradcheck of cholesky does.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, register_samples, values

F32, F64 = dtypes.float32, dtypes.float64
# float32 factorizations against a float64 reference: a few ulps of the condition number
LOOSE = {"rtol": 1e-4, "atol": 1e-5}


def _sg():
    import somegrad

    return somegrad


def _linalg_error():
    from somegrad.linalg import LinAlgError

    return LinAlgError


def square(shape, key, shift=3.0):
    """Well-conditioned square matrices of `shape` (..., n, n)."""
    return values(shape, key=key) + shift * np.eye(shape[-1])


def tolerance(dtype):
    return LOOSE if dtype is F32 else {}


def dtype_errors(op, call, shape=(3, 3)):
    """Integer and low precision inputs are refused, as in PyTorch."""
    yield ErrorSample(
        (Input(np.ones(shape)),),
        {},
        RuntimeError,
        "expected a floating point",
        dtype=dtypes.int64,
        name="int64",
        call=call,
    )
    yield ErrorSample(
        (Input(np.ones(shape)),),
        {},
        NotImplementedError,
        "low precision dtypes are not supported",
        dtype=dtypes.float16,
        name="float16",
        call=call,
    )


def square_errors(op, call):
    yield ErrorSample(
        (Input(values((2, 3))),), {}, RuntimeError, "must be batches of square matrices", name="not-square", call=call
    )
    yield ErrorSample((Input(values((3,))),), {}, RuntimeError, "must have at least 2 dimensions", name="1d", call=call)
    yield from dtype_errors(op, call)


SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])


# --- det, slogdet --------------------------------------------------------------------------------
@register_samples("linalg_det")
def _det_samples():
    for dtype in (F32, F64):
        yield Sample((Input(square((3, 3), "det")),), {}, np.linalg.det, dtype, name="3x3", **tolerance(dtype))
        yield Sample(
            (Input(square((2, 4, 4), "det-batch", shift=2.0), layout="transposed"),),
            {},
            np.linalg.det,
            dtype,
            name="batch-transposed",
            **tolerance(dtype),
        )
    yield Sample((Input(values((2, 1, 1), key="det1")),), {}, np.linalg.det, F64, name="1x1")
    yield Sample((Input(np.zeros((2, 0, 0))),), {}, np.linalg.det, F64, name="0x0", grad=False)
    # singular: det 0, and the gradient (the cofactors) still defined
    yield Sample((Input(SINGULAR),), {}, np.linalg.det, F64, name="singular")
    sg = _sg
    yield Sample(
        (Input(square((3, 3), "det-m")),), {}, np.linalg.det, F64, name="top-level", call=lambda t: sg().det(t)
    )
    yield Sample((Input(square((3, 3), "det-m")),), {}, np.linalg.det, F64, name="method", call=lambda t: t.det())
    yield from square_errors("linalg.det", lambda t: sg().linalg.det(t))


def _slogdet_reference(x):
    sign, logabsdet = np.linalg.slogdet(x)
    return np.stack([sign, logabsdet], axis=-1)


NEGATIVE = np.array([[0.0, 2.0, 1.0], [3.0, 0.5, -1.0], [1.0, 1.0, 4.0]])


@register_samples("linalg_slogdet_packed")
def _slogdet_packed_samples():
    for dtype in (F32, F64):
        yield Sample((Input(square((2, 3, 3), "slogdet")),), {}, _slogdet_reference, dtype, **tolerance(dtype))
    yield Sample((Input(NEGATIVE),), {}, _slogdet_reference, F64, name="negative")
    yield Sample((Input(NEGATIVE * 1e3),), {}, _slogdet_reference, F64, name="large")


@register_samples("linalg_slogdet")
def _slogdet_samples():
    sg = _sg
    for dtype in (F32, F64):
        yield Sample(
            (Input(NEGATIVE),),
            {},
            lambda x: np.linalg.slogdet(x)[1],
            dtype,
            name="logabsdet",
            call=lambda t: sg().linalg.slogdet(t).logabsdet,
            **tolerance(dtype),
        )
    yield Sample(
        (Input(np.stack([NEGATIVE, square((3, 3), "slogdet2")])),),
        {},
        lambda x: np.linalg.slogdet(x)[0],
        F64,
        name="sign",
        call=lambda t: sg().linalg.slogdet(t)[0],
    )
    yield Sample(
        (Input(square((3, 3), "slogdet3"), layout="transposed"),),
        {},
        lambda x: np.linalg.slogdet(x)[1],
        F64,
        name="top-level-transposed",
        call=lambda t: sg().slogdet(t)[1],
    )
    yield Sample(
        (Input(SINGULAR),),
        {},
        lambda x: np.linalg.slogdet(x)[1],
        F64,
        name="singular",
        call=lambda t: t.slogdet()[1],
        grad=False,
    )
    yield from square_errors("linalg.slogdet", lambda t: sg().linalg.slogdet(t))


# --- inv -----------------------------------------------------------------------------------------
@register_samples("linalg_inv")
def _inv_samples():
    sg = _sg
    for dtype in (F32, F64):
        yield Sample((Input(square((3, 3), "inv")),), {}, np.linalg.inv, dtype, **tolerance(dtype))
        yield Sample(
            (Input(square((2, 3, 3), "inv-batch"), layout="transposed"),),
            {},
            np.linalg.inv,
            dtype,
            name="batch-transposed",
            **tolerance(dtype),
        )
    yield Sample((Input(np.zeros((0, 0))),), {}, np.linalg.inv, F64, name="0x0", grad=False)
    yield Sample(
        (Input(square((3, 3), "inv-m")),), {}, np.linalg.inv, F64, name="inverse", call=lambda t: sg().inverse(t)
    )
    yield Sample((Input(square((3, 3), "inv-m")),), {}, np.linalg.inv, F64, name="method", call=lambda t: t.inverse())
    yield ErrorSample(
        (Input(SINGULAR),), {}, _linalg_error(), "linalg.inv: the input matrix is singular", name="singular",
        call=lambda t: sg().linalg.inv(t),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.zeros((2, 2))),), {}, RuntimeError, "singular", name="zeros", call=lambda t: sg().linalg.inv(t)
    )
    yield from square_errors("linalg.inv", lambda t: sg().linalg.inv(t))


# --- solve ---------------------------------------------------------------------------------------
@register_samples("linalg_solve")
def _solve_samples():
    sg = _sg
    A, B = square((3, 3), "solve-A"), values((3, 2), key="solve-B")
    for dtype in (F32, F64):
        yield Sample((Input(A), Input(B)), {}, np.linalg.solve, dtype, **tolerance(dtype))
    batch_A = square((2, 3, 3), "solve-bA")
    yield Sample(
        (Input(batch_A, layout="transposed"), Input(values((2, 3, 4), key="solve-bB"))),
        {},
        np.linalg.solve,
        F64,
        name="batch-transposed",
    )
    solve = lambda *t, **kw: sg().linalg.solve(*t, **kw)  # noqa: E731
    vector = values((3,), key="solve-v")
    yield Sample(
        (Input(A), Input(vector)), {}, lambda a, b: np.linalg.solve(a, b[:, None])[:, 0], F64, name="vector",
        call=solve,
    )  # fmt: skip
    yield Sample(
        (Input(batch_A), Input(values((2, 3), key="solve-bv"))),
        {},
        lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
        F64,
        name="batch-vector",
        call=solve,
    )
    yield Sample(
        (Input(batch_A), Input(B)), {}, lambda a, b: np.linalg.solve(a, np.broadcast_to(b, (2, 3, 2))), F64,
        name="broadcast", call=solve,
    )  # fmt: skip
    yield Sample(
        (Input(A), Input(values((4, 3), key="solve-r"))),
        {},
        lambda a, b: np.linalg.solve(a.T, b.T).T,
        F64,
        name="right",
        call=lambda a, b: sg().linalg.solve(a, b, left=False),
    )
    yield ErrorSample(
        (Input(SINGULAR), Input(B)), {}, _linalg_error(), "the input matrix is singular", name="singular", call=solve
    )
    yield ErrorSample(
        (Input(A), Input(values((4, 2)))), {}, RuntimeError, "incompatible shapes", name="rows", call=solve
    )
    yield ErrorSample(
        (Input(A), Input(B, dtype=F32)), {}, RuntimeError, "the same dtype", dtype=F64, name="dtypes", call=solve
    )
    yield ErrorSample(
        (Input(values((2, 3))), Input(B)), {}, RuntimeError, "square matrices", name="not-square", call=solve
    )


# --- cholesky ------------------------------------------------------------------------------------
def _pd_reference(upper=False):
    def reference(x):
        L = np.linalg.cholesky(x @ np.swapaxes(x, -1, -2) + np.eye(x.shape[-1]))
        return np.swapaxes(L, -1, -2) if upper else L

    return reference


def _pd(t):
    return t @ t.mT + _sg().eye(t.shape[-1], dtype=t.dtype, device=t.device)


@register_samples("linalg_cholesky")
def _cholesky_samples():
    sg = _sg
    cholesky = lambda t: sg().linalg.cholesky(_pd(t))  # noqa: E731
    for dtype in (F32, F64):
        yield Sample(
            (Input(values((3, 3), key="chol")),), {}, _pd_reference(), dtype, call=cholesky, **tolerance(dtype)
        )
    yield Sample(
        (Input(values((2, 4, 4), key="chol-b"), layout="transposed"),),
        {},
        _pd_reference(),
        F64,
        name="batch-transposed",
        call=cholesky,
    )
    yield Sample(
        (Input(values((3, 3), key="chol-u")),),
        {},
        _pd_reference(upper=True),
        F64,
        name="upper",
        call=lambda t: sg().linalg.cholesky(_pd(t), upper=True),
    )
    yield Sample(
        (Input(values((3, 3), key="chol-m")),),
        {},
        _pd_reference(),
        F64,
        name="method",
        call=lambda t: _pd(t).cholesky(),
    )
    # the kernel itself reads the lower triangle only: the upper one holds anything
    x = values((3, 3), key="chol-l")
    garbage = np.tril(x @ x.T + np.eye(3)) + np.triu(values((3, 3), key="chol-g"), 1)
    yield Sample(
        (Input(garbage),), {}, lambda x: np.linalg.cholesky(np.tril(x) + np.tril(x, -1).T), F64, name="lower-only",
        grad=False,
    )  # fmt: skip
    yield Sample((Input(np.zeros((0, 0))),), {}, np.linalg.cholesky, F64, name="0x0", grad=False)
    yield ErrorSample(
        (Input(-np.eye(3)),), {}, _linalg_error(), "not positive-definite", name="negative",
        call=lambda t: sg().linalg.cholesky(t),
    )  # fmt: skip
    yield from square_errors("linalg.cholesky", lambda t: sg().linalg.cholesky(t))


# --- the top-level norm --------------------------------------------------------------------------
@register_samples("norm")
def _norm_samples():
    sg = _sg
    x = values((3, 4), key="norm")
    for dtype in (F32, F64):
        yield Sample((Input(x),), {}, lambda x: np.sqrt((x * x).sum()), dtype, name="fro", call=lambda t: sg().norm(t))
    cases = [
        ("p3-dim1", lambda t: t.norm(3, dim=1), lambda x: (np.abs(x) ** 3).sum(1) ** (1 / 3)),
        ("p1-keepdim", lambda t: t.norm(1, dim=-1, keepdim=True), lambda x: np.abs(x).sum(-1, keepdims=True)),
        ("fro-dims", lambda t: sg().norm(t, "fro", dim=(0, 1)), lambda x: np.sqrt((x * x).sum())),
        ("inf", lambda t: t.norm(float("inf")), lambda x: np.abs(x).max()),
        ("nuc", lambda t: t.norm("nuc"), lambda x: np.linalg.svd(x, compute_uv=False).sum()),
        ("p2-list", lambda t: t.norm(2, [0]), lambda x: np.sqrt((x * x).sum(0))),
        ("dtype", lambda t: t.norm(dtype=dtypes.float64), lambda x: np.sqrt((x * x).sum())),
    ]
    for name, call, reference in cases:
        yield Sample((Input(x),), {}, reference, F64, name=name, call=call)
    yield Sample((Input(np.array(-2.5)),), {}, np.abs, F64, name="0d", call=lambda t: t.norm())
    yield Sample((Input(np.zeros((2, 0))),), {}, lambda x: np.zeros(2), F64, name="empty", call=lambda t: t.norm(dim=1))
    yield ErrorSample(
        (Input(x),), {}, RuntimeError, "order 'x' not supported", name="bad-p", call=lambda t: t.norm("x")
    )
    yield ErrorSample(
        (Input(np.ones((2, 2))),), {}, RuntimeError, "expected a floating point", dtype=dtypes.int64, name="int64",
        call=lambda t: t.norm(),
    )  # fmt: skip


from somegrad.testing.samples import decompositions_factor, decompositions_lu, decompositions_norms  # noqa: E402, F401, I001
from somegrad.testing.samples import decompositions_products  # noqa: E402, F401, I001
