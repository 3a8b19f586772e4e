"""Samples for the QR, singular value and symmetric eigen decompositions, and pinv,
matrix_rank and lstsq.

Singular and eigen vectors are unique only up to sign (QR's factors too), and the sign is the
kernel's: the samples compare what does not depend on it, as PyTorch's own tests do: |U|,
|V|, |Q|, |R|, products such as Q R or U^T U, and the values. Symmetric inputs for eigh are
built inside the call (`X + X^T`), so that finite differences perturb an unconstrained matrix.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, register_samples, values
from somegrad.testing.samples.decompositions import dtype_errors, tolerance

F32, F64 = dtypes.float32, dtypes.float64


def _linalg():
    import somegrad

    return somegrad.linalg


def _sym(x):
    return x + np.swapaxes(x, -1, -2)


def _t_sym(t):
    return t + t.mT


# --- qr ------------------------------------------------------------------------------------------
def _qr_samples(packed):
    la = _linalg
    shapes = [("tall", (4, 3), "reduced"), ("wide", (3, 5), "reduced"), ("square-batch", (2, 3, 3), "reduced")]
    shapes += [("complete-wide", (3, 4), "complete")]
    for name, shape, mode in shapes:
        x = values(shape, key=f"qr-{name}")
        for dtype in (F32, F64) if name == "tall" else (F64,):
            for part in (0, 1):
                yield Sample(
                    (Input(x),),
                    {},
                    lambda x, m=mode, p=part: np.abs(np.linalg.qr(x, mode=m)[p]),
                    dtype,
                    name=f"{name}-{'QR'[part]}",
                    call=lambda t, m=mode, p=part: la().qr(t, mode=m)[p].abs(),
                    **tolerance(dtype),
                )
        if packed:
            yield Sample(
                (Input(x, layout="transposed"),),
                {},
                lambda x: x,
                F64,
                name=f"{name}-product",
                call=lambda t, m=mode: la().qr(t, mode=m)[0] @ la().qr(t, mode=m)[1],
            )


@register_samples("linalg_qr_packed")
def _qr_packed_samples():
    yield from _qr_samples(packed=True)


@register_samples("linalg_qr")
def _qr_public_samples():
    la = _linalg
    yield from _qr_samples(packed=False)
    x = values((4, 3), key="qr-r")
    yield Sample(
        (Input(x),), {}, lambda x: np.abs(np.linalg.qr(x, mode="r")), F64, name="mode-r",
        call=lambda t: la().qr(t, mode="r")[1].abs(), grad=False,
    )  # fmt: skip
    yield Sample(
        (Input(x),), {}, lambda x: np.zeros(0), F64, name="mode-r-Q", call=lambda t: la().qr(t, mode="r")[0], grad=False
    )
    yield Sample(
        (Input(values((5, 3), key="qr-c")),),
        {},
        lambda x: np.eye(5),
        F64,
        name="complete-orthogonal",
        call=lambda t: la().qr(t, mode="complete").Q @ la().qr(t, mode="complete").Q.mT,
        grad=False,
    )
    yield Sample(
        (Input(np.zeros((0, 3))),), {}, lambda x: np.zeros((0, 3)), F64, name="empty", call=lambda t: la().qr(t)[1]
    )
    yield ErrorSample((Input(x),), {}, RuntimeError, "unrecognized mode", name="mode", call=lambda t: la().qr(t, "x"))
    yield ErrorSample(
        (Input(values((3,))),), {}, RuntimeError, "at least 2 dimensions", name="1d", call=lambda t: la().qr(t)
    )
    yield from dtype_errors("linalg.qr", lambda t: la().qr(t))


# --- svd -----------------------------------------------------------------------------------------
def _svd_abs(x, part, full=False):
    out = np.linalg.svd(x, full_matrices=full)[part]
    return out if part == 1 else np.abs(out)


def _svd_samples(packed):
    la = _linalg
    for name, shape in (("tall", (4, 3)), ("wide", (3, 5)), ("square-batch", (2, 3, 3))):
        x = values(shape, key=f"svd-{name}")
        for dtype in (F32, F64) if name == "tall" else (F64,):
            for part in (0, 1, 2):
                yield Sample(
                    (Input(x),),
                    {},
                    lambda x, p=part: _svd_abs(x, p),
                    dtype,
                    name=f"{name}-{('U', 'S', 'Vh')[part]}",
                    call=lambda t, p=part: (lambda out: out if p == 1 else out.abs())(la().svd(t, False)[p]),
                    **tolerance(dtype),
                )
        if packed:
            yield Sample(
                (Input(x, layout="transposed"),),
                {},
                lambda x: x,
                F64,
                name=f"{name}-product",
                call=lambda t: (lambda U, S, Vh: (U * S.unsqueeze(-2)) @ Vh)(*la().svd(t, full_matrices=False)),
            )


@register_samples("linalg_svd_packed")
def _svd_packed_samples():
    yield from _svd_samples(packed=True)


@register_samples("linalg_svd")
def _svd_public_samples():
    la = _linalg
    yield from _svd_samples(packed=False)
    x = values((5, 3), key="svd-full")
    # full matrices: the first k columns of U as in the reduced SVD, and U orthogonal
    yield Sample(
        (Input(x),), {}, lambda x: _svd_abs(x, 0)[:, :3], F64, name="full-U", call=lambda t: la().svd(t)[0][:, :3].abs()
    )

    # (the gradient of the extra columns is ignored, as in PyTorch: no gradient check here)
    def gram(t, part):
        M = la().svd(t)[part]
        return M @ M.mT

    yield Sample(
        (Input(x),), {}, lambda x: np.eye(5), F64, name="full-U-orthogonal", call=lambda t: gram(t, 0), grad=False
    )
    yield Sample(
        (Input(x.T),), {}, lambda x: np.eye(5), F64, name="full-Vh-orthogonal", call=lambda t: gram(t, 2), grad=False
    )
    yield Sample(
        (Input(np.zeros((0, 3))),), {}, lambda x: np.zeros(0), F64, name="empty", call=lambda t: la().svd(t)[1]
    )
    yield ErrorSample(
        (Input(values((3,))),), {}, RuntimeError, "at least 2 dimensions", name="1d", call=lambda t: la().svd(t)
    )
    yield from dtype_errors("linalg.svd", lambda t: la().svd(t))


@register_samples("linalg_svdvals")
def _svdvals_samples():
    la = _linalg
    for dtype in (F32, F64):
        yield Sample(
            (Input(values((2, 4, 3), key="svdvals")),),
            {},
            lambda x: np.linalg.svd(x, compute_uv=False),
            dtype,
            **tolerance(dtype),
        )
    yield Sample(
        (Input(values((3, 5), key="svdvals-w"), layout="transposed"),),
        {},
        lambda x: np.linalg.svd(x, compute_uv=False),
        F64,
        name="wide-transposed",
        call=lambda t: la().svdvals(t),
    )
    yield ErrorSample(
        (Input(values((3,))),), {}, RuntimeError, "at least 2 dimensions", name="1d", call=lambda t: la().svdvals(t)
    )
    yield from dtype_errors("linalg.svdvals", lambda t: la().svdvals(t))


# --- eigh ----------------------------------------------------------------------------------------
def _eigh_samples():
    la = _linalg
    for name, shape in (("3x3", (3, 3)), ("batch", (2, 4, 4))):
        x = values(shape, key=f"eigh-{name}")
        for dtype in (F32, F64) if name == "3x3" else (F64,):
            for part in (0, 1):
                yield Sample(
                    (Input(x),),
                    {},
                    lambda x, p=part: np.abs(np.linalg.eigh(_sym(x))[1]) if p else np.linalg.eigh(_sym(x))[0],
                    dtype,
                    name=f"{name}-{'LV'[part]}",
                    call=lambda t, p=part: la().eigh(_t_sym(t))[1].abs() if p else la().eigh(_t_sym(t))[0],
                    **tolerance(dtype),
                )


@register_samples("linalg_eigh_packed")
def _eigh_packed_samples():
    la = _linalg
    yield from _eigh_samples()
    yield Sample(
        (Input(values((3, 3), key="eigh-p"), layout="transposed"),),
        {},
        _sym,
        F64,
        name="product",
        call=lambda t: (lambda L, V: (V * L.unsqueeze(-2)) @ V.mT)(*la().eigh(_t_sym(t))),
    )


@register_samples("linalg_eigh")
def _eigh_public_samples():
    la = _linalg
    yield from _eigh_samples()
    x = values((3, 3), key="eigh-uplo")
    for uplo, triangle in (("L", np.tril), ("U", np.triu)):
        yield Sample(
            (Input(x),),
            {},
            lambda x, tri=triangle: np.linalg.eigvalsh(tri(x) + tri(x, -1 if tri is np.tril else 1).T),
            F64,
            name=f"UPLO-{uplo}",
            call=lambda t, u=uplo: la().eigh(t, UPLO=u)[0],
            grad=False,
        )
    yield Sample(
        (Input(np.zeros((0, 0))),), {}, lambda x: np.zeros(0), F64, name="empty", call=lambda t: la().eigh(t)[0]
    )
    yield ErrorSample((Input(x),), {}, RuntimeError, "UPLO must be", name="uplo", call=lambda t: la().eigh(t, "X"))
    yield ErrorSample(
        (Input(values((2, 3))),), {}, RuntimeError, "square matrices", name="not-square", call=lambda t: la().eigh(t)
    )
    yield from dtype_errors("linalg.eigh", lambda t: la().eigh(t))


@register_samples("linalg_eigvalsh")
def _eigvalsh_samples():
    la = _linalg
    for dtype in (F32, F64):
        yield Sample(
            (Input(values((2, 3, 3), key="eigvalsh")),),
            {},
            lambda x: np.linalg.eigvalsh(_sym(x)),
            dtype,
            call=lambda t: la().eigvalsh(_t_sym(t)),
            **tolerance(dtype),
        )
    x = values((3, 3), key="eigvalsh-u")
    yield Sample(
        (Input(x),), {}, lambda x: np.linalg.eigvalsh(x, UPLO="U"), F64, name="UPLO-U",
        call=lambda t: la().eigvalsh(t, "U"), grad=False,
    )  # fmt: skip
    yield Sample((Input(x),), {}, np.linalg.eigvalsh, F64, name="lower", grad=False)
    yield ErrorSample((Input(x),), {}, RuntimeError, "UPLO must be", name="uplo", call=lambda t: la().eigvalsh(t, "X"))
    yield from dtype_errors("linalg.eigvalsh", lambda t: la().eigvalsh(t))


# --- pinv, matrix_rank, lstsq --------------------------------------------------------------------
RANK_TWO = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, -1.0], [0.0, 1.0, 2.0]])


def _pinv(x, atol, rtol, hermitian):
    return np.linalg.pinv(x, hermitian=hermitian)


@register_samples("linalg_pinv")
def _pinv_samples():
    la = _linalg
    params = {"atol": None, "rtol": None, "hermitian": False}
    for dtype in (F32, F64):
        yield Sample((Input(values((4, 3), key="pinv")),), params, _pinv, dtype, name="tall", **tolerance(dtype))
    yield Sample((Input(values((2, 3, 5), key="pinv-w"), layout="transposed"),), params, _pinv, F64, name="wide-batch")
    yield Sample(
        (Input(RANK_TWO),), {}, np.linalg.pinv, F64, name="rank-deficient", call=lambda t: la().pinv(t), grad=False
    )
    yield Sample(
        (Input(values((3, 3), key="pinv-h")),),
        {},
        lambda x: np.linalg.pinv(_sym(x), hermitian=True),
        F64,
        name="hermitian",
        call=lambda t: la().pinv(_t_sym(t), hermitian=True),
    )
    yield Sample(
        (Input(RANK_TWO),),
        {},
        lambda x: np.linalg.pinv(x, rcond=0.5),
        F64,
        name="rtol",
        call=lambda t: la().pinv(t, rtol=0.5),
        grad=False,
    )
    yield Sample(
        (Input(np.zeros((0, 3))),), {}, lambda x: np.zeros((3, 0)), F64, name="empty", call=lambda t: la().pinv(t)
    )
    yield ErrorSample(
        (Input(RANK_TWO),), {}, RuntimeError, "atol must be non-negative", name="atol",
        call=lambda t: la().pinv(t, atol=-1.0),
    )  # fmt: skip
    yield from dtype_errors("linalg.pinv", lambda t: la().pinv(t))


@register_samples("linalg_matrix_rank")
def _matrix_rank_samples():
    la = _linalg
    I64 = dtypes.int64
    for dtype in (F32, F64):
        yield Sample((Input(RANK_TWO),), {}, lambda x: np.array(2), dtype, I64, call=lambda t: la().matrix_rank(t))
    batch = np.stack([RANK_TWO, values((4, 3), key="rank")])
    yield Sample(
        (Input(batch),), {}, lambda x: np.array([2, 3]), F64, I64, name="batch", call=lambda t: la().matrix_rank(t)
    )
    yield Sample(
        (Input(RANK_TWO),),
        {},
        lambda x: np.array(1),
        F64,
        I64,
        name="atol",
        call=lambda t: la().matrix_rank(t, atol=5.0),
    )
    yield Sample(
        (Input(RANK_TWO),), {}, lambda x: np.array(1), F64, I64, name="tol", call=lambda t: la().matrix_rank(t, 5.0)
    )
    h = np.diag([3.0, -2.0, 0.0])
    yield Sample(
        (Input(h),), {}, lambda x: np.array(2), F64, I64, name="hermitian",
        call=lambda t: la().matrix_rank(t, hermitian=True),
    )  # fmt: skip
    yield from dtype_errors("linalg.matrix_rank", lambda t: la().matrix_rank(t))


@register_samples("linalg_lstsq")
def _lstsq_samples():
    la = _linalg
    A, B = values((5, 3), key="lstsq-A"), values((5, 2), key="lstsq-B")
    solution = lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0]  # noqa: E731
    for dtype in (F32, F64):
        yield Sample(
            (Input(A), Input(B)), {}, solution, dtype, call=lambda a, b: la().lstsq(a, b).solution, **tolerance(dtype)
        )
    yield Sample(
        (Input(A), Input(B)),
        {},
        lambda a, b: np.linalg.lstsq(a, b, rcond=None)[1],
        F64,
        name="residuals",
        call=lambda a, b: la().lstsq(a, b, driver="gelsd").residuals,
    )
    yield Sample(
        (Input(A), Input(B)),
        {},
        lambda a, b: np.linalg.svd(a, compute_uv=False),
        F64,
        name="singular-values",
        call=lambda a, b: la().lstsq(a, b, driver="gelss").singular_values,
    )
    yield Sample(
        (Input(RANK_TWO), Input(values((4, 2), key="lstsq-r"))),
        {},
        solution,
        F64,
        name="rank-deficient-gelsd",
        call=lambda a, b: la().lstsq(a, b, driver="gelsd").solution,
        grad=False,
    )
    yield Sample(
        (Input(A), Input(values((5,), key="lstsq-v"))),
        {},
        lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0],
        F64,
        name="vector",
        call=lambda a, b: la().lstsq(a, b)[0],
    )
    yield ErrorSample(
        (Input(A), Input(values((4, 2)))), {}, RuntimeError, "the same number of rows", name="rows",
        call=lambda a, b: la().lstsq(a, b),
    )  # fmt: skip
    yield ErrorSample(
        (Input(A), Input(B)), {}, RuntimeError, "driver", name="driver", call=lambda a, b: la().lstsq(a, b, driver="x")
    )
