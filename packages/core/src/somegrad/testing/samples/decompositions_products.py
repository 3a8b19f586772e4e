"""Samples for logdet, solve_triangular, matrix_power, multi_dot, vecdot, cond and PyTorch's
older top-level svd, qr and pinverse."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, register_samples, values
from somegrad.testing.samples.decompositions import SINGULAR, dtype_errors, square, tolerance

F32, F64 = dtypes.float32, dtypes.float64


def _sg():
    import somegrad

    return somegrad


def _logdet(x):
    sign, logabsdet = np.linalg.slogdet(x)
    return np.where(sign < 0, np.nan, logabsdet)


@register_samples("logdet")
def _logdet_samples():
    sg = _sg
    for dtype in (F32, F64):
        yield Sample(
            (Input(square((2, 3, 3), "logdet")),), {}, _logdet, dtype, call=lambda t: sg().logdet(t), **tolerance(dtype)
        )
    negative = np.diag([-1.0, 2.0, 3.0])
    yield Sample((Input(negative),), {}, _logdet, F64, name="negative", call=lambda t: t.logdet(), grad=False)
    yield Sample((Input(SINGULAR),), {}, _logdet, F64, name="singular", call=lambda t: t.logdet(), grad=False)
    yield from dtype_errors("logdet", lambda t: sg().logdet(t))


def _triangular_reference(upper, left, unitriangular):
    def reference(a, b):
        t = np.triu(a) if upper else np.tril(a)
        if unitriangular:
            t = t - np.diag(np.diag(t)) + np.eye(t.shape[-1])
        return np.linalg.solve(t, b) if left else np.linalg.solve(t.T, b.T).T

    return reference


@register_samples("linalg_solve_triangular")
def _solve_triangular_samples():
    la = lambda: _sg().linalg  # noqa: E731
    A, B = square((3, 3), "tri-A"), values((3, 2), key="tri-B")
    for upper in (True, False):
        for left, b in ((True, B), (False, B.T)):
            for unitriangular in (False, True):
                params = {"upper": upper, "left": left, "unitriangular": unitriangular}
                yield Sample(
                    (Input(A), Input(b)),
                    params,
                    lambda a, b, upper, left, unitriangular: _triangular_reference(upper, left, unitriangular)(a, b),
                    F64,
                    name=f"upper{upper}-left{left}-unit{unitriangular}",
                )
    yield Sample(
        (Input(A), Input(B)), {}, _triangular_reference(True, True, False), F32, name="public",
        call=lambda a, b: la().solve_triangular(a, b, upper=True), **tolerance(F32),
    )  # fmt: skip
    yield Sample(
        (Input(square((2, 3, 3), "tri-bA")), Input(B)),
        {},
        lambda a, b: np.stack([_triangular_reference(False, True, False)(m, b) for m in a]),
        F64,
        name="broadcast",
        call=lambda a, b: la().solve_triangular(a, b, upper=False),
    )
    yield ErrorSample(
        (Input(A), Input(values((3,)))), {}, RuntimeError, "at least 2 dimensions", name="vector-B",
        call=lambda a, b: la().solve_triangular(a, b, upper=True),
    )  # fmt: skip
    yield ErrorSample(
        (Input(A), Input(values((4, 2)))), {}, RuntimeError, "incompatible shapes", name="rows",
        call=lambda a, b: la().solve_triangular(a, b, upper=True),
    )  # fmt: skip


@register_samples("linalg_matrix_power")
def _matrix_power_samples():
    sg = _sg
    A = values((2, 3, 3), key="power", low=-1.0, high=1.0) + np.eye(3)
    for n in (0, 1, 2, 3, 5, -1, -2):
        yield Sample(
            (Input(A),),
            {},
            lambda x, n=n: np.linalg.matrix_power(x, n),
            F64,
            name=f"n{n}",
            call=lambda t, n=n: sg().linalg.matrix_power(t, n),
            grad=n != 0,
        )
    yield Sample(
        (Input(A),), {}, lambda x: np.linalg.matrix_power(x, 3), F32, name="method",
        call=lambda t: t.matrix_power(3), **tolerance(F32),
    )  # fmt: skip
    yield Sample(
        (Input(np.array([[1, 2], [3, 4]])),), {}, lambda x: np.linalg.matrix_power(x, 3), dtypes.int64, name="int64",
        call=lambda t: sg().matrix_power(t, 3),
    )  # fmt: skip
    yield ErrorSample(
        (Input(values((2, 3))),), {}, RuntimeError, "square matrices", name="not-square",
        call=lambda t: sg().linalg.matrix_power(t, 2),
    )  # fmt: skip
    yield ErrorSample(
        (Input(np.eye(2)),), {}, RuntimeError, "expected a floating point", dtype=dtypes.int64, name="int-inverse",
        call=lambda t: sg().linalg.matrix_power(t, -1),
    )  # fmt: skip


@register_samples("linalg_multi_dot")
def _multi_dot_samples():
    la = lambda: _sg().linalg  # noqa: E731
    a, b, c, d = (values(s, key=f"md{i}") for i, s in enumerate([(2, 5), (5, 3), (3, 6), (6, 4)]))
    yield Sample(
        (Input(a), Input(b), Input(c), Input(d)),
        {},
        lambda *m: np.linalg.multi_dot(m),
        F64,
        name="chain",
        call=lambda *t: la().multi_dot(t),
    )
    yield Sample(
        (Input(a), Input(b)), {}, lambda *m: np.linalg.multi_dot(m), F32, name="two", call=lambda *t: la().multi_dot(t)
    )
    yield Sample(
        (Input(a[0]), Input(b), Input(c[:, 0])),
        {},
        lambda *m: np.linalg.multi_dot(m),
        F64,
        name="vectors",
        call=lambda *t: la().multi_dot(list(t)),
    )
    yield ErrorSample(
        (Input(a),), {}, RuntimeError, "at least 2 tensors", name="one", call=lambda t: la().multi_dot([t])
    )
    yield ErrorSample(
        (Input(a), Input(c)), {}, RuntimeError, "cannot be multiplied", name="shapes", call=lambda *t: la().multi_dot(t)
    )


@register_samples("linalg_vecdot")
def _vecdot_samples():
    la = lambda: _sg().linalg  # noqa: E731
    x, y = values((2, 3), key="vecdot-x"), values((3,), key="vecdot-y")
    for dtype in (F32, F64):
        yield Sample((Input(x), Input(y)), {}, lambda x, y: (x * y).sum(-1), dtype, call=lambda x, y: la().vecdot(x, y))
    yield Sample(
        (Input(x), Input(values((4, 1, 1), key="vecdot-z"))), {}, lambda x, y: (x * y).sum(0), F64, name="dim0",
        call=lambda x, y: la().vecdot(x, y, dim=0),
    )  # fmt: skip
    yield Sample(
        (Input(np.arange(6).reshape(2, 3)), Input(np.arange(3))), {}, lambda x, y: (x * y).sum(-1), dtypes.int64,
        name="int64", call=lambda x, y: la().vecdot(x, y),
    )  # fmt: skip
    yield ErrorSample(
        (Input(x), Input(values((4,)))), {}, RuntimeError, "cannot be broadcast", name="shapes",
        call=lambda x, y: la().vecdot(x, y),
    )  # fmt: skip


@register_samples("linalg_cond")
def _cond_samples():
    la = lambda: _sg().linalg  # noqa: E731
    A = square((2, 3, 3), "cond", shift=1.5)
    for p in (None, 2, -2, "fro", "nuc", float("inf"), 1, -1):
        yield Sample(
            (Input(A),), {}, lambda x, p=p: np.linalg.cond(x, p), F64, name=f"p{p}", call=lambda t, p=p: la().cond(t, p)
        )
    yield Sample(
        (Input(values((4, 3), key="cond-r")),), {}, lambda x: np.linalg.cond(x), F32, name="rectangular",
        call=lambda t: la().cond(t), rtol=1e-4, atol=1e-5,
    )  # fmt: skip
    yield ErrorSample(
        (Input(values((4, 3))),), {}, RuntimeError, "square matrices", name="rectangular-fro",
        call=lambda t: la().cond(t, "fro"),
    )  # fmt: skip
    yield ErrorSample((Input(A),), {}, RuntimeError, "not supported", name="p", call=lambda t: la().cond(t, 3))


@register_samples("svd")
def _legacy_svd_samples():
    sg = _sg
    x = values((4, 3), key="legacy-svd")
    svd = np.linalg.svd
    cases = [
        ("U", lambda t: sg().svd(t)[0].abs(), lambda x: np.abs(svd(x, full_matrices=False)[0])),
        ("S", lambda t: t.svd()[1], lambda x: svd(x, compute_uv=False)),
        ("V", lambda t: t.svd()[2].abs(), lambda x: np.abs(svd(x, full_matrices=False)[2].T)),
        ("full-V", lambda t: t.T.svd(some=False)[2][:, :3].abs(), lambda x: np.abs(svd(x.T)[2].T[:, :3])),
        ("no-uv", lambda t: sg().svd(t, compute_uv=False)[1], lambda x: svd(x, compute_uv=False)),
    ]
    for name, call, reference in cases:
        yield Sample((Input(x),), {}, reference, F64, name=name, call=call)
    yield Sample(
        (Input(x),), {}, lambda x: np.zeros((4, 4)), F64, name="no-uv-U", call=lambda t: t.svd(compute_uv=False)[0],
        grad=False,
    )  # fmt: skip
    yield from dtype_errors("svd", lambda t: sg().svd(t))


@register_samples("qr")
def _legacy_qr_samples():
    sg = _sg
    x = values((4, 3), key="legacy-qr")
    yield Sample(
        (Input(x),), {}, lambda x: np.abs(np.linalg.qr(x)[1]), F64, name="R", call=lambda t: sg().qr(t)[1].abs()
    )
    yield Sample(
        (Input(x.T),), {}, lambda x: np.abs(np.linalg.qr(x, "complete")[0]), F64, name="complete-Q",
        call=lambda t: t.qr(some=False)[0].abs(),
    )  # fmt: skip
    yield from dtype_errors("qr", lambda t: sg().qr(t))


@register_samples("pinverse")
def _pinverse_samples():
    sg = _sg
    for dtype in (F32, F64):
        yield Sample(
            (Input(values((4, 3), key="pinverse")),), {}, np.linalg.pinv, dtype, call=lambda t: sg().pinverse(t),
            **tolerance(dtype),
        )  # fmt: skip
    yield Sample(
        (Input(values((3, 5), key="pinverse-m")),), {}, lambda x: np.linalg.pinv(x, rcond=0.3), F64, name="rcond",
        call=lambda t: t.pinverse(rcond=0.3), grad=False,
    )  # fmt: skip
    yield from dtype_errors("pinverse", lambda t: sg().pinverse(t))


def _expm(x):
    # through the eigen decomposition (complex in general): independent of the Taylor series
    w, V = np.linalg.eig(x)
    return np.real((V * np.exp(w)[..., None, :]) @ np.linalg.inv(V))


@register_samples("linalg_matrix_exp")
def _matrix_exp_samples():
    sg = _sg
    for dtype in (F32, F64):
        yield Sample(
            (Input(values((2, 3, 3), key="expm")),), {}, _expm, dtype, call=lambda t: sg().linalg.matrix_exp(t),
            **tolerance(dtype),
        )  # fmt: skip
    yield Sample(
        (Input(values((3, 3), key="expm-big", low=-6.0, high=6.0)),), {}, _expm, F64, name="large",
        call=lambda t: t.matrix_exp(), rtol=1e-9, atol=1e-9,
    )  # fmt: skip
    yield Sample(
        (Input(np.zeros((3, 3))),), {}, lambda x: np.eye(3), F64, name="zeros", call=lambda t: sg().matrix_exp(t)
    )
    yield Sample((Input(np.zeros((2, 0, 0))),), {}, _expm, F64, name="empty", call=lambda t: t.matrix_exp(), grad=False)
    yield from dtype_errors("linalg.matrix_exp", lambda t: sg().linalg.matrix_exp(t))


def _factor(x):
    return np.linalg.cholesky(x @ np.swapaxes(x, -1, -2) + np.eye(x.shape[-1]))


def _t_factor(t):
    sg = _sg()
    return sg.linalg.cholesky(t @ t.mT + sg.eye(t.shape[-1], dtype=t.dtype, device=t.device))


@register_samples("cholesky_solve")
def _cholesky_solve_samples():
    sg = _sg
    A, B = values((3, 3), key="chs-A"), values((3, 2), key="chs-B")
    for dtype in (F32, F64):
        yield Sample(
            (Input(B), Input(A)), {}, lambda b, a: np.linalg.solve(_factor(a) @ _factor(a).T, b), dtype,
            call=lambda b, a: sg().cholesky_solve(b, _t_factor(a)), **tolerance(dtype),
        )  # fmt: skip
    yield Sample(
        (Input(values((2, 3, 2), key="chs-bB")), Input(A)),
        {},
        lambda b, a: np.linalg.solve(_factor(a) @ _factor(a).T, b),
        F64,
        name="upper-batch",
        call=lambda b, a: b.cholesky_solve(_t_factor(a).mT, upper=True),
    )
    yield ErrorSample(
        (Input(values((3,))), Input(np.eye(3))), {}, RuntimeError, "at least 2 dimensions", name="vector",
        call=lambda b, L: sg().cholesky_solve(b, L),
    )  # fmt: skip


@register_samples("cholesky_inverse")
def _cholesky_inverse_samples():
    sg = _sg
    A = values((2, 3, 3), key="chi")
    inverse = lambda a: np.linalg.inv(_factor(a) @ np.swapaxes(_factor(a), -1, -2))  # noqa: E731
    for dtype in (F32, F64):
        yield Sample(
            (Input(A),), {}, inverse, dtype, call=lambda a: sg().cholesky_inverse(_t_factor(a)), **tolerance(dtype)
        )
    yield Sample(
        (Input(A),), {}, inverse, F64, name="upper", call=lambda a: _t_factor(a).mT.cholesky_inverse(upper=True)
    )
    yield from dtype_errors("cholesky_inverse", lambda t: sg().cholesky_inverse(t))


@register_samples("linalg_tensorinv")
def _tensorinv_samples():
    la = lambda: _sg().linalg  # noqa: E731
    A = square((6, 6), "tinv").reshape(6, 2, 3)
    yield Sample(
        (Input(A),), {}, lambda a: np.linalg.tensorinv(a, ind=1), F64, name="ind1", call=lambda t: la().tensorinv(t, 1)
    )
    B = square((6, 6), "tinv2").reshape(2, 3, 3, 2)
    for dtype in (F32, F64):
        yield Sample((Input(B),), {}, np.linalg.tensorinv, dtype, call=lambda t: la().tensorinv(t), **tolerance(dtype))
    yield ErrorSample(
        (Input(values((2, 3, 4))),), {}, RuntimeError, "prod(A.shape[:ind])", name="shape",
        call=lambda t: la().tensorinv(t, 1),
    )  # fmt: skip


@register_samples("linalg_tensorsolve")
def _tensorsolve_samples():
    la = lambda: _sg().linalg  # noqa: E731
    A = square((6, 6), "tsolve").reshape(2, 3, 6)
    B = values((2, 3), key="tsolve-B")
    for dtype in (F32, F64):
        yield Sample(
            (Input(A), Input(B)), {}, np.linalg.tensorsolve, dtype, call=lambda a, b: la().tensorsolve(a, b),
            **tolerance(dtype),
        )  # fmt: skip
    A2 = square((6, 6), "tsolve2").reshape(6, 2, 3)
    yield Sample(
        (Input(A2), Input(values((2, 3), key="tsolve-B2"))),
        {},
        lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)),
        F64,
        name="dims",
        call=lambda a, b: la().tensorsolve(a, b, dims=(0,)),
    )
    yield ErrorSample(
        (Input(values((2, 3, 5))), Input(B)), {}, RuntimeError, "square system", name="shape",
        call=lambda a, b: la().tensorsolve(a, b),
    )  # fmt: skip


@register_samples("linalg_vander")
def _vander_samples():
    la = lambda: _sg().linalg  # noqa: E731
    x = values((2, 4), key="vander")
    for dtype in (F32, F64):
        yield Sample(
            (Input(x),), {}, lambda x: np.stack([np.flip(np.vander(row), -1) for row in x]), dtype,
            call=lambda t: la().vander(t),
        )  # fmt: skip
    yield Sample(
        (Input(np.array([0.0, 1.5, -2.0])),), {}, lambda x: np.flip(np.vander(x, 5), -1), F64, name="N5-zero",
        call=lambda t: la().vander(t, N=5),
    )  # fmt: skip
    yield Sample(
        (Input(np.array([1, 2, 3])),), {}, lambda x: np.flip(np.vander(x), -1), dtypes.int64, name="int64",
        call=lambda t: la().vander(t),
    )  # fmt: skip
    yield ErrorSample((Input(np.array(2.0)),), {}, RuntimeError, "at least one dimension", name="0d",
                      call=lambda t: la().vander(t))  # fmt: skip


MIXED = np.stack([np.eye(3), -np.eye(3), np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])])


@register_samples("linalg_cholesky_ex")
def _cholesky_ex_samples():
    la = lambda: _sg().linalg  # noqa: E731
    for dtype in (F32, F64):
        yield Sample(
            (Input(values((2, 3, 3), key="chex")),), {}, lambda x: _factor(x), dtype, name="L",
            call=lambda t: la().cholesky_ex(t @ t.mT + _sg().eye(3, dtype=t.dtype, device=t.device)).L,
            **tolerance(dtype),
        )  # fmt: skip
    yield Sample(
        (Input(MIXED),), {}, lambda x: np.array([0, 1, 2]), F64, dtypes.int32, name="info",
        call=lambda t: la().cholesky_ex(t).info,
    )  # fmt: skip
    yield Sample(
        (Input(MIXED),),
        {},
        lambda x: np.eye(3),
        F64,
        name="L-of-the-good-one",
        call=lambda t: la().cholesky_ex(t)[0][0],
        grad=False,  # the identity itself, not a function of an unconstrained matrix
    )
    yield Sample(
        (Input(np.triu(MIXED[2]) + np.tril(np.ones((3, 3)), -1) * 0.1),), {}, lambda x: np.array(2), F64, dtypes.int32,
        name="upper-info", call=lambda t: la().cholesky_ex(t, upper=True).info,
    )  # fmt: skip
    yield ErrorSample(
        (Input(MIXED),), {}, RuntimeError, "not positive-definite",
        name="check-errors", call=lambda t: la().cholesky_ex(t, check_errors=True),
    )  # fmt: skip


@register_samples("linalg_cross")
def _cross_samples():
    la = lambda: _sg().linalg  # noqa: E731
    a, b = values((4, 3), key="cross-a"), values((4, 3), key="cross-b")
    for dtype in (F32, F64):
        yield Sample((Input(a), Input(b)), {}, lambda a, b: np.cross(a, b), dtype, call=lambda a, b: la().cross(a, b))
    yield Sample(
        (Input(a.T, layout="transposed"), Input(values((3, 1), key="cross-c"))), {},
        lambda a, b: np.cross(a, b, axis=0), F64, name="dim0-broadcast", call=lambda a, b: la().cross(a, b, dim=0),
    )  # fmt: skip
    yield Sample(
        (Input(np.arange(6).reshape(2, 3)), Input(np.array([1, 0, 2]))), {}, lambda a, b: np.cross(a, b),
        dtypes.int64, name="int64", call=lambda a, b: la().cross(a, b),
    )  # fmt: skip
    yield ErrorSample(
        (Input(values((4, 2))), Input(values((4, 2)))), {}, RuntimeError, "must be 3", name="size",
        call=lambda a, b: la().cross(a, b),
    )  # fmt: skip


@register_samples("lu")
def _legacy_lu_samples():
    sg = _sg
    x = values((2, 3, 3), key="legacy-lu")
    yield Sample((Input(x),), {}, lambda x: np.stack([np.linalg.solve(a, np.eye(3)) for a in x]), F64, name="inverse",
                 call=lambda t: sg().lu_solve(sg().eye(3, dtype=t.dtype, device=t.device), *sg().lu(t)))  # fmt: skip
    yield Sample((Input(x),), {}, lambda x: np.zeros(2), F64, dtypes.int32, name="infos",
                 call=lambda t: t.lu(get_infos=True)[2])  # fmt: skip


@register_samples("lu_solve")
def _legacy_lu_solve_samples():
    sg = _sg
    A, b = square((3, 3), "legacy-lus"), values((3, 2), key="legacy-lus-b")
    yield Sample((Input(b), Input(A)), {}, lambda b, a: np.linalg.solve(a, b), F64,
                 call=lambda b, a: b.lu_solve(*sg().linalg.lu_factor(a)))  # fmt: skip


@register_samples("triangular_solve")
def _legacy_triangular_solve_samples():
    sg = _sg
    A, b = square((3, 3), "legacy-tri"), values((3, 2), key="legacy-tri-b")
    for upper in (True, False):
        for transpose in (False, True):

            def reference(b, a, upper=upper, transpose=transpose):
                t = np.triu(a) if upper else np.tril(a)
                return np.linalg.solve(t.T if transpose else t, b)

            yield Sample(
                (Input(b), Input(A)), {}, reference, F64, name=f"upper{upper}-transpose{transpose}",
                call=lambda b, a, u=upper, tr=transpose: sg().triangular_solve(b, a, u, tr)[0],
            )  # fmt: skip
    yield Sample((Input(b), Input(A)), {}, lambda b, a: a, F64, name="coefficient",
                 call=lambda b, a: b.triangular_solve(a).cloned_coefficient)  # fmt: skip


@register_samples("chain_matmul")
def _chain_matmul_samples():
    sg = _sg
    a, b, c = values((2, 4), key="cm-a"), values((4, 3), key="cm-b"), values((3, 5), key="cm-c")
    yield Sample((Input(a), Input(b), Input(c)), {}, lambda *m: np.linalg.multi_dot(m), F64,
                 call=lambda *t: sg().chain_matmul(*t))  # fmt: skip
    yield Sample((Input(a),), {}, lambda a: a, F64, name="one", call=lambda t: sg().chain_matmul(t))
    yield ErrorSample((Input(values((3,))), Input(b)), {}, RuntimeError, "2-D", name="vector",
                      call=lambda *t: sg().chain_matmul(*t))  # fmt: skip


def _householder_reference(a, tau):
    m, n = a.shape
    q = np.eye(m)
    for i in range(tau.shape[-1]):
        v = np.concatenate([np.zeros(i), [1.0], a[i + 1 :, i]])
        q = q @ (np.eye(m) - tau[i] * np.outer(v, v))
    return q[:, :n]


@register_samples("linalg_householder_product")
def _householder_samples():
    sg = _sg
    A, tau = values((4, 3), key="hh-A"), values((3,), key="hh-tau", low=0.5, high=1.5)
    for dtype in (F32, F64):
        yield Sample((Input(A), Input(tau)), {}, _householder_reference, dtype,
                     call=lambda a, t: sg().linalg.householder_product(a, t), **tolerance(dtype))  # fmt: skip
    yield Sample((Input(A), Input(tau[:2])), {}, _householder_reference, F64, name="k2",
                 call=lambda a, t: sg().orgqr(a, t))  # fmt: skip
    yield ErrorSample((Input(A.T), Input(tau)), {}, RuntimeError, "at least as many rows", name="wide",
                      call=lambda a, t: sg().linalg.householder_product(a, t))  # fmt: skip
