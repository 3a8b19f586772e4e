"""somegrad.linalg against torch.linalg: the same calls, values and gradients, float64 and float32.

Square inputs are shifted by a multiple of the identity (well conditioned); symmetric and
positive-definite ones are built inside the call. Singular and eigen vectors (and QR's factors)
are unique only up to sign, so the factorizations are compared through quantities that do not
depend on it (|U|, |Q|, the values, products), as PyTorch's own tests do.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from harness import Case, check, check_error

import somegrad as sg

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity

INF = math.inf
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
RANK_TWO = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, -1.0], [0.0, 1.0, 2.0]])
TIES = np.array([[1.0, -3.0, 3.0], [2.0, 2.0, -2.0]])


def shifted(lib, x, shift=3.0):
    return x + shift * lib.eye(x.shape[-1], dtype=x.dtype)


def pd(lib, x):
    return x @ x.mT + lib.eye(x.shape[-1], dtype=x.dtype)


def sym(x):
    return x + x.mT


def abs_all(out):
    return [o.abs() for o in out]


CASES = [
    # det, slogdet
    Case("det", lambda lib, x: lib.linalg.det(shifted(lib, x)), [(3, 3)]),
    Case("det-batch", lambda lib, x: lib.linalg.det(shifted(lib, x)), [(2, 4, 4)]),
    Case("det-1x1", lambda lib, x: lib.linalg.det(x), [(3, 1, 1)]),
    Case("det-singular", lambda lib, x: lib.linalg.det(x), [SINGULAR]),
    Case("det-top-level", lambda lib, x: lib.det(shifted(lib, x)), [(3, 3)]),
    Case("det-method", lambda lib, x: shifted(lib, x).det(), [(2, 3, 3)]),
    Case("slogdet", lambda lib, x: lib.linalg.slogdet(x), [(2, 3, 3)], low=-2, high=2),
    Case("slogdet-top-level", lambda lib, x: lib.slogdet(shifted(lib, x)), [(3, 3)]),
    Case("slogdet-method", lambda lib, x: x.slogdet(), [(3, 3)]),
    # inv
    Case("inv", lambda lib, x: lib.linalg.inv(shifted(lib, x)), [(3, 3)]),
    Case("inv-batch", lambda lib, x: lib.linalg.inv(shifted(lib, x)), [(2, 2, 4, 4)]),
    Case("inverse", lambda lib, x: lib.inverse(shifted(lib, x)), [(3, 3)]),
    Case("inverse-method", lambda lib, x: shifted(lib, x).inverse(), [(3, 3)]),
    Case("inv-transposed", lambda lib, x: lib.linalg.inv(shifted(lib, x).mT), [(3, 3)]),
    # solve
    Case("solve", lambda lib, a, b: lib.linalg.solve(shifted(lib, a), b), [(3, 3), (3, 2)]),
    Case("solve-vector", lambda lib, a, b: lib.linalg.solve(shifted(lib, a), b), [(3, 3), (3,)]),
    Case("solve-batch-vector", lambda lib, a, b: lib.linalg.solve(shifted(lib, a), b), [(2, 3, 3), (2, 3)]),
    Case("solve-broadcast", lambda lib, a, b: lib.linalg.solve(shifted(lib, a), b), [(2, 3, 3), (3, 4)]),
    Case("solve-broadcast-A", lambda lib, a, b: lib.linalg.solve(shifted(lib, a), b), [(3, 3), (2, 3, 4)]),
    Case("solve-right", lambda lib, a, b: lib.linalg.solve(shifted(lib, a), b, left=False), [(3, 3), (4, 3)]),
    # cholesky
    Case("cholesky", lambda lib, x: lib.linalg.cholesky(pd(lib, x)), [(3, 3)]),
    Case("cholesky-batch", lambda lib, x: lib.linalg.cholesky(pd(lib, x)), [(2, 4, 4)]),
    Case("cholesky-upper", lambda lib, x: lib.linalg.cholesky(pd(lib, x), upper=True), [(3, 3)]),
    Case("cholesky-top-level", lambda lib, x: lib.cholesky(pd(lib, x)), [(3, 3)]),
    Case("cholesky-method-upper", lambda lib, x: pd(lib, x).cholesky(upper=True), [(3, 3)]),
    # qr
    Case("qr-tall", lambda lib, x: abs_all(lib.linalg.qr(x)), [(5, 3)]),
    Case("qr-wide", lambda lib, x: abs_all(lib.linalg.qr(x)), [(3, 5)]),
    Case("qr-batch", lambda lib, x: abs_all(lib.linalg.qr(x)), [(2, 3, 3)]),
    Case("qr-complete-wide", lambda lib, x: abs_all(lib.linalg.qr(x, mode="complete")), [(3, 4)]),
    Case("qr-product", lambda lib, x: (lambda q, r: q @ r)(*lib.linalg.qr(x)), [(4, 3)]),
    Case("qr-r", lambda lib, x: lib.linalg.qr(x, mode="r")[1].abs(), [(4, 3)], grad=False),
    # svd
    Case("svd-tall", lambda lib, x: [*abs_all(lib.linalg.svd(x, full_matrices=False))], [(5, 3)]),
    Case("svd-wide", lambda lib, x: [*abs_all(lib.linalg.svd(x, full_matrices=False))], [(3, 5)]),
    Case("svd-batch", lambda lib, x: [*abs_all(lib.linalg.svd(x, full_matrices=False))], [(2, 3, 3)]),
    Case("svd-full", lambda lib, x: [*abs_all(lib.linalg.svd(x))], [(4, 3)]),
    Case("svd-S", lambda lib, x: lib.linalg.svd(x)[1], [(4, 3)]),
    Case(
        "svd-product",
        lambda lib, x: (lambda u, s, vh: (u * s.unsqueeze(-2)) @ vh)(*lib.linalg.svd(x, full_matrices=False)),
        [(3, 4)],
    ),
    Case("svdvals", lambda lib, x: lib.linalg.svdvals(x), [(2, 4, 3)]),
    # eigh
    Case("eigh", lambda lib, x: (lambda L, V: [L, V.abs()])(*lib.linalg.eigh(sym(x))), [(3, 3)]),
    Case("eigh-batch", lambda lib, x: (lambda L, V: [L, V.abs()])(*lib.linalg.eigh(sym(x))), [(2, 4, 4)]),
    Case("eigh-upper", lambda lib, x: (lambda L, V: [L, V.abs()])(*lib.linalg.eigh(x, UPLO="U")), [(3, 3)]),
    Case("eigh-lower-only", lambda lib, x: lib.linalg.eigh(x)[0], [(3, 3)]),
    Case("eigvalsh", lambda lib, x: lib.linalg.eigvalsh(sym(x)), [(2, 3, 3)]),
    Case("eigvalsh-upper", lambda lib, x: lib.linalg.eigvalsh(x, UPLO="U"), [(3, 3)]),
    # pinv, matrix_rank, lstsq
    Case("pinv-tall", lambda lib, x: lib.linalg.pinv(x), [(4, 3)]),
    Case("pinv-wide", lambda lib, x: lib.linalg.pinv(x), [(2, 3, 5)]),
    Case("pinv-hermitian", lambda lib, x: lib.linalg.pinv(sym(x), hermitian=True), [(3, 3)]),
    Case("pinv-rank-deficient", lambda lib, x: lib.linalg.pinv(x), [RANK_TWO], grad=False),
    Case("pinv-rtol", lambda lib, x: lib.linalg.pinv(x, rtol=0.5), [RANK_TWO], grad=False),
    Case("matrix-rank", lambda lib, x: lib.linalg.matrix_rank(x), [RANK_TWO]),
    Case("matrix-rank-atol", lambda lib, x: lib.linalg.matrix_rank(x, atol=5.0), [RANK_TWO]),
    Case("matrix-rank-hermitian", lambda lib, x: lib.linalg.matrix_rank(x @ x.mT, hermitian=True), [RANK_TWO]),
    Case("lstsq", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, [(5, 3), (5, 2)]),
    # PyTorch's backward ignores the residuals' gradient (somegrad's is the residuals' own): values only
    Case("lstsq-gelsd", lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd"), [(5, 3), (5, 2)], grad=False),
    Case("lstsq-gelss", lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelss"), [(2, 5, 3), (2, 5, 2)], grad=False),
    Case("lstsq-gels", lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gels")[::2], [(5, 3), (5, 2)]),
    Case("lstsq-gelsy-rank", lambda lib, a, b: lib.linalg.lstsq(a, b)[2], [(5, 3), (5, 2)]),
    Case("lstsq-vector", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, [(4, 3), (4,)]),
    # logdet, solve_triangular, matrix_power, multi_dot, vecdot, cond, matmul
    Case("logdet", lambda lib, x: lib.logdet(shifted(lib, x)), [(2, 3, 3)]),
    Case("logdet-method", lambda lib, x: shifted(lib, x).logdet(), [(3, 3)]),
    Case("logdet-negative", lambda lib, x: lib.logdet(x), [np.diag([-1.0, 2.0, 3.0])], grad=False),
    *[
        Case(
            f"solve-triangular-upper{u}-left{left}-unit{unit}",
            lambda lib, a, b, u=u, left=left, unit=unit: lib.linalg.solve_triangular(
                shifted(lib, a), b if left else b.mT, upper=u, left=left, unitriangular=unit
            ),
            [(3, 3), (3, 2)],
        )
        for u in (True, False)
        for left in (True, False)
        for unit in (False, True)
    ],
    Case(
        "solve-triangular-broadcast",
        lambda lib, a, b: lib.linalg.solve_triangular(shifted(lib, a), b, upper=False),
        [(2, 3, 3), (3, 4)],
    ),
    *[
        Case(
            f"matrix-power-{n}",
            lambda lib, x, n=n: lib.linalg.matrix_power(shifted(lib, x, 1.0), n),
            [(2, 3, 3)],
            grad=n != 0,  # the identity: no gradient
        )
        for n in (0, 1, 2, 5, -1, -3)
    ],
    Case("matrix-power-method", lambda lib, x: x.matrix_power(3), [(3, 3)]),
    Case("matrix-power-top-level", lambda lib, x: lib.matrix_power(x, 2), [(3, 3)]),
    Case("multi-dot", lambda lib, a, b, c, d: lib.linalg.multi_dot([a, b, c, d]), [(2, 5), (5, 3), (3, 6), (6, 4)]),
    Case("multi-dot-vectors", lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), [(5,), (5, 3), (3,)]),
    Case("vecdot", lambda lib, x, y: lib.linalg.vecdot(x, y), [(2, 3), (3,)]),
    Case("vecdot-dim", lambda lib, x, y: lib.linalg.vecdot(x, y, dim=0), [(4, 3), (4, 1)]),
    Case("matmul", lambda lib, x, y: lib.linalg.matmul(x, y), [(2, 3), (3, 4)]),
    Case("diagonal", lambda lib, x: lib.linalg.diagonal(x), [(2, 3, 4)]),
    Case("diagonal-offset", lambda lib, x: lib.linalg.diagonal(x, offset=1, dim1=0, dim2=2), [(3, 2, 4)]),
    Case("matrix-exp", lambda lib, x: lib.linalg.matrix_exp(x), [(2, 3, 3)], low=-2, high=2),
    Case("matrix-exp-large", lambda lib, x: lib.matrix_exp(x), [(3, 3)], low=-6, high=6),
    Case("matrix-exp-method", lambda lib, x: x.matrix_exp(), [(4, 4)]),
    # (PyTorch's backward of cond fails for the norms other than 2 and nuc: values only there)
    *[
        Case(
            f"cond-{p}",
            lambda lib, x, p=p: lib.linalg.cond(shifted(lib, x, 1.5), p),
            [(2, 3, 3)],
            grad=p in (None, 2, -2, "nuc"),
        )
        for p in (None, 2, -2, "fro", "nuc", INF, -INF, 1, -1)
    ],
    Case("cond-rectangular", lambda lib, x: lib.linalg.cond(x), [(4, 3)]),
    # cholesky_solve, cholesky_inverse, tensorinv, tensorsolve, vander
    Case("cholesky-solve", lambda lib, b, a: lib.cholesky_solve(b, lib.linalg.cholesky(pd(lib, a))), [(3, 2), (3, 3)]),
    Case(
        "cholesky-solve-upper-batch",
        lambda lib, b, a: b.cholesky_solve(lib.linalg.cholesky(pd(lib, a), upper=True), upper=True),
        [(2, 3, 2), (3, 3)],
    ),
    Case("cholesky-inverse", lambda lib, a: lib.cholesky_inverse(lib.linalg.cholesky(pd(lib, a))), [(2, 3, 3)]),
    Case(
        "cholesky-inverse-upper",
        lambda lib, a: lib.linalg.cholesky(pd(lib, a), upper=True).cholesky_inverse(upper=True),
        [(3, 3)],
    ),
    Case("cholesky-ex", lambda lib, a: lib.linalg.cholesky_ex(pd(lib, a)), [(2, 3, 3)]),
    Case("cholesky-ex-upper", lambda lib, a: lib.linalg.cholesky_ex(pd(lib, a), upper=True), [(3, 3)]),
    Case(
        "cholesky-ex-info",
        lambda lib, a: lib.linalg.cholesky_ex(a).info,
        [np.stack([np.eye(3), -np.eye(3), np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])])],
        grad=False,
    ),
    Case("tensorinv", lambda lib, a: lib.linalg.tensorinv(shifted(lib, a).reshape(2, 3, 3, 2)), [(6, 6)]),
    Case("tensorinv-ind1", lambda lib, a: lib.linalg.tensorinv(shifted(lib, a).reshape(6, 2, 3), ind=1), [(6, 6)]),
    Case(
        "tensorsolve", lambda lib, a, b: lib.linalg.tensorsolve(shifted(lib, a).reshape(2, 3, 6), b), [(6, 6), (2, 3)]
    ),
    Case(
        "tensorsolve-dims",
        lambda lib, a, b: lib.linalg.tensorsolve(shifted(lib, a).reshape(6, 2, 3), b, dims=(0,)),
        [(6, 6), (2, 3)],
    ),
    Case("cross", lambda lib, a, b: lib.linalg.cross(a, b), [(4, 3), (4, 3)]),
    Case("cross-dim-broadcast", lambda lib, a, b: lib.linalg.cross(a, b, dim=0), [(3, 4), (3, 1)]),
    *[
        Case(f"lu-factor-{shape}", lambda lib, x: lib.linalg.lu_factor(x), [shape])
        for shape in [(4, 4), (2, 3, 3), (5, 3), (3, 5)]
    ],
    *[Case(f"lu-{shape}", lambda lib, x: lib.linalg.lu(x), [shape]) for shape in [(4, 4), (2, 3, 3), (5, 3), (3, 5)]],
    Case("lu-unpack", lambda lib, x: lib.lu_unpack(*lib.linalg.lu_factor(x)), [(2, 4, 4)]),
    *[
        Case(
            f"lu-solve-left{left}-adjoint{adjoint}",
            lambda lib, a, b, left=left, adjoint=adjoint: lib.linalg.lu_solve(
                *lib.linalg.lu_factor(shifted(lib, a)), b if left else b.mT, left=left, adjoint=adjoint
            ),
            [(2, 3, 3), (2, 3, 2)],
        )
        for left in (True, False)
        for adjoint in (False, True)
    ],
    Case("inv-ex", lambda lib, x: lib.linalg.inv_ex(shifted(lib, x)), [(2, 3, 3)]),
    Case("solve-ex", lambda lib, a, b: lib.linalg.solve_ex(shifted(lib, a), b), [(2, 3, 3), (3, 2)]),
    Case("solve-ex-vector", lambda lib, a, b: lib.linalg.solve_ex(shifted(lib, a), b), [(2, 3, 3), (3,)]),
    Case("lu-factor-ex", lambda lib, x: lib.linalg.lu_factor_ex(x), [(2, 4, 4)]),
    *[
        Case(f"{name}-info", call, [np.stack([np.eye(3), SINGULAR, np.zeros((3, 3))])], grad=False)
        for name, call in [
            ("inv-ex", lambda lib, x: lib.linalg.inv_ex(x).info),
            ("solve-ex", lambda lib, x: lib.linalg.solve_ex(x, x[..., 0]).info),
            ("lu-factor-ex", lambda lib, x: lib.linalg.lu_factor_ex(x).info),
        ]
    ],
    # torch.lu, lu_solve, triangular_solve, chain_matmul
    Case("top-lu", lambda lib, x: lib.lu(x), [(2, 3, 3)]),
    Case("top-lu-infos", lambda lib, x: x.lu(get_infos=True), [(3, 3)]),
    Case("top-lu-solve", lambda lib, b, a: lib.lu_solve(b, *lib.linalg.lu_factor(shifted(lib, a))), [(3, 2), (3, 3)]),
    *[
        Case(
            f"triangular-solve-upper{u}-transpose{t}-unit{unit}",
            lambda lib, b, a, u=u, t=t, unit=unit: lib.triangular_solve(b, shifted(lib, a), u, t, unit),
            [(3, 2), (3, 3)],
        )
        for u in (True, False)
        for t in (False, True)
        for unit in (False, True)
    ],
    Case("triangular-solve-method", lambda lib, b, a: b.triangular_solve(shifted(lib, a)), [(2, 3, 2), (3, 3)]),
    Case("chain-matmul", lambda lib, a, b, c: lib.chain_matmul(a, b, c), [(2, 4), (4, 3), (3, 5)]),
    Case("householder-product", lambda lib, a, t: lib.linalg.householder_product(a, t), [(4, 3), (3,)]),
    Case("householder-product-batch", lambda lib, a, t: lib.linalg.householder_product(a, t), [(2, 5, 3), (2, 2)]),
    Case("orgqr", lambda lib, a, t: lib.orgqr(a, t), [(4, 4), (3,)]),
    Case("orgqr-method", lambda lib, a, t: a.orgqr(t), [(4, 3), (2,)]),
    Case("vander", lambda lib, x: lib.linalg.vander(x), [(2, 4)]),
    Case("vander-N", lambda lib, x: lib.linalg.vander(x, N=6), [(3,)]),
    # torch.svd, torch.qr, torch.pinverse
    Case("top-svd", lambda lib, x: (lambda u, s, v: [u.abs(), s, v.abs()])(*lib.svd(x)), [(4, 3)]),
    Case("top-svd-full", lambda lib, x: (lambda u, s, v: [u.abs(), s, v.abs()])(*x.svd(some=False)), [(4, 3)]),
    Case("top-svd-no-uv", lambda lib, x: lib.svd(x, compute_uv=False), [(4, 3)], grad=False),
    Case("top-qr", lambda lib, x: [t.abs() for t in lib.qr(x)], [(4, 3)]),
    Case("method-qr-complete", lambda lib, x: [t.abs() for t in x.qr(some=False)], [(3, 4)]),
    Case("pinverse", lambda lib, x: lib.pinverse(x), [(4, 3)]),
    Case("pinverse-method", lambda lib, x: x.pinverse(rcond=1e-3), [(3, 5)]),
    # vector_norm
    *[
        Case(f"vector-norm-{ord}", lambda lib, x, o=ord: lib.linalg.vector_norm(x, o), [(3, 4)])
        for ord in (2, 1, INF, -INF, 0, 3, 1.5, 0.5, -1)
    ],
    Case("vector-norm-dim", lambda lib, x: lib.linalg.vector_norm(x, 3, dim=1), [(3, 4)]),
    Case("vector-norm-dims-keepdim", lambda lib, x: lib.linalg.vector_norm(x, 2, (0, 2), True), [(2, 3, 4)]),
    Case("vector-norm-negative-dim", lambda lib, x: lib.linalg.vector_norm(x, INF, -1), [(3, 4)]),
    Case("vector-norm-ties", lambda lib, x: lib.linalg.vector_norm(x, INF, 1), [TIES]),
    Case("vector-norm-zero", lambda lib, x: lib.linalg.vector_norm(x * 0, dim=1), [(2, 3)]),
    Case("vector-norm-empty", lambda lib, x: lib.linalg.vector_norm(x, dim=1), [(2, 0)]),
    Case("vector-norm-0d", lambda lib, x: lib.linalg.vector_norm(x[0, 0]), [(2, 2)]),
    Case("vector-norm-dtype", lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64), [(3, 4)]),
    # matrix_norm
    *[
        Case(f"matrix-norm-{ord}", lambda lib, x, o=ord: lib.linalg.matrix_norm(x, o), [(2, 3, 4)])
        for ord in ("fro", "nuc", INF, -INF, 1, -1, 2, -2)
    ],
    *[
        Case(f"matrix-norm-{ord}-dims", lambda lib, x, o=ord: lib.linalg.matrix_norm(x, o, (2, 0), True), [(2, 3, 4)])
        for ord in ("fro", "nuc", INF, 1, -2)
    ],
    # linalg.norm
    Case("norm", lambda lib, x: lib.linalg.norm(x), [(2, 3, 4)]),
    Case("norm-vector", lambda lib, x: lib.linalg.norm(x, 3), [(5,)]),
    Case("norm-matrix", lambda lib, x: lib.linalg.norm(x, "nuc"), [(3, 4)]),
    Case("norm-matrix-1", lambda lib, x: lib.linalg.norm(x, -1), [(3, 4)]),
    Case("norm-dim", lambda lib, x: lib.linalg.norm(x, INF, dim=1), [(3, 4)]),
    Case("norm-dims", lambda lib, x: lib.linalg.norm(x, 2, dim=(0, 2), keepdim=True), [(2, 3, 4)]),
    # torch.norm, Tensor.norm
    Case("top-norm", lambda lib, x: lib.norm(x), [(2, 3, 4)]),
    Case("top-norm-p", lambda lib, x: lib.norm(x, 3, dim=1), [(3, 4)]),
    Case("top-norm-fro-dims", lambda lib, x: lib.norm(x, "fro", dim=(0, 1)), [(3, 4, 2)]),
    Case("top-norm-nuc", lambda lib, x: lib.norm(x, "nuc"), [(3, 4)]),
    Case("top-norm-nuc-dims", lambda lib, x: lib.norm(x, "nuc", dim=(1, 2)), [(2, 3, 4)]),
    Case("method-norm", lambda lib, x: x.norm(), [(3, 4)]),
    Case("method-norm-p", lambda lib, x: x.norm(1, dim=-1, keepdim=True), [(3, 4)]),
    Case("method-norm-inf", lambda lib, x: x.norm(p=INF), [(3, 4)]),
]

LOOSE = {"float64": (1e-8, 1e-10), "float32": (1e-3, 1e-4)}


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    if case.rtol is None:
        # factorizations through different LAPACK paths: a little room over the harness's default
        rtol, atol = LOOSE[dtype]
        case = dataclasses.replace(case, rtol=rtol, atol=atol)
    check(case, dtype)


def test_parameter_and_model():
    """A linear layer's weight kept orthogonal-ish by a spectral penalty: the gradient reaches
    the parameter the same way in both libraries."""
    for lib in (torch, sg):
        lib.manual_seed(0)
    t_layer = torch.nn.Linear(4, 3).double()
    s_layer = sg.nn.Linear(4, 3).to(sg.float64)
    s_layer.load_state_dict({k: sg.tensor(v.detach().numpy()) for k, v in t_layer.state_dict().items()})
    x = np.random.default_rng(0).uniform(-1, 1, (5, 4))
    grads = []
    for lib, layer in ((torch, t_layer), (sg, s_layer)):
        out = layer(lib.tensor(x))
        loss = (
            out.pow(2).mean()
            + 0.1 * lib.linalg.matrix_norm(layer.weight, "nuc")
            + lib.linalg.det(layer.weight @ layer.weight.mT)
        )
        loss.backward()
        grads.append(layer.weight.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-12)


ERRORS = [
    ("det-not-square", lambda lib, x: lib.linalg.det(x), [(2, 3)]),
    ("det-1d", lambda lib, x: lib.linalg.det(x), [(3,)]),
    ("inv-not-square", lambda lib, x: lib.linalg.inv(x), [(2, 3, 4)]),
    ("det-int", lambda lib, x: lib.linalg.det(x), [np.ones((2, 2), dtype=np.int64)]),
    ("inv-int", lambda lib, x: lib.linalg.inv(x), [np.ones((2, 2), dtype=np.int64)]),
    ("det-half", lambda lib, x: lib.linalg.det(x.half()), [(3, 3)]),
    ("solve-shapes", lambda lib, a, b: lib.linalg.solve(a, b), [(3, 3), (4, 2)]),
    ("solve-dtypes", lambda lib, a, b: lib.linalg.solve(a, b.double()), [(3, 3), (3, 2)]),
    ("cholesky-not-square", lambda lib, x: lib.linalg.cholesky(x), [(2, 3)]),
    ("qr-mode", lambda lib, x: lib.linalg.qr(x, mode="x"), [(3, 3)]),
    ("eigh-uplo", lambda lib, x: lib.linalg.eigh(x, UPLO="X"), [(3, 3)]),
    ("eigh-not-square", lambda lib, x: lib.linalg.eigh(x), [(2, 3)]),
    ("svd-1d", lambda lib, x: lib.linalg.svd(x), [(3,)]),
    ("svd-int", lambda lib, x: lib.linalg.svd(x), [np.ones((2, 2), dtype=np.int64)]),
    ("vector-norm-int", lambda lib, x: lib.linalg.vector_norm(x), [np.ones(3, dtype=np.int64)]),
    ("vector-norm-str", lambda lib, x: lib.linalg.vector_norm(x, "fro"), [(3,)]),
    ("vector-norm-empty-inf", lambda lib, x: lib.linalg.vector_norm(x, INF), [(0,)]),
    ("vector-norm-empty-negative", lambda lib, x: lib.linalg.vector_norm(x, -1), [(0,)]),
    ("matrix-norm-1d", lambda lib, x: lib.linalg.matrix_norm(x), [(3,)]),
    ("matrix-norm-ord", lambda lib, x: lib.linalg.matrix_norm(x, 3), [(3, 3)]),
    ("matrix-norm-same-dims", lambda lib, x: lib.linalg.matrix_norm(x, dim=(0, 0)), [(3, 3)]),
    ("matrix-norm-nuc-half", lambda lib, x: lib.linalg.matrix_norm(x.half(), "nuc"), [(3, 3)]),
    ("norm-3d-ord", lambda lib, x: lib.linalg.norm(x, 2), [(2, 2, 2)]),
    ("norm-three-dims", lambda lib, x: lib.linalg.norm(x, dim=(0, 1, 2)), [(2, 2, 2)]),
    ("top-norm-int", lambda lib, x: lib.norm(x), [np.ones(3, dtype=np.int64)]),
    ("top-norm-p", lambda lib, x: lib.norm(x, "x"), [(3, 3)]),
    ("solve-triangular-vector", lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), [(3, 3), (3,)]),
    ("matrix-power-not-square", lambda lib, x: lib.linalg.matrix_power(x, 2), [(2, 3)]),
    ("multi-dot-one", lambda lib, x: lib.linalg.multi_dot([x]), [(2, 3)]),
    ("multi-dot-shapes", lambda lib, x, y: lib.linalg.multi_dot([x, y]), [(2, 3), (4, 2)]),
    ("cond-p", lambda lib, x: lib.linalg.cond(x, 3), [(3, 3)]),
    ("cond-fro-rectangular", lambda lib, x: lib.linalg.cond(x, "fro"), [(4, 3)]),
    ("logdet-int", lambda lib, x: lib.logdet(x), [np.ones((2, 2), dtype=np.int64)]),
    ("cholesky-solve-vector", lambda lib, b, L: lib.cholesky_solve(b, L), [(3,), (3, 3)]),
    ("tensorinv-shape", lambda lib, x: lib.linalg.tensorinv(x, ind=1), [(2, 3, 4)]),
    ("tensorsolve-shape", lambda lib, a, b: lib.linalg.tensorsolve(a, b), [(2, 3, 5), (2, 3)]),
    ("cross-size", lambda lib, a, b: lib.linalg.cross(a, b), [(4, 2), (4, 2)]),
    ("vander-0d", lambda lib, x: lib.linalg.vander(x[0]), [(3,)]),
    ("qr-complete-tall-backward", lambda lib, x: lib.linalg.qr(x.requires_grad_(), "complete")[0].sum().backward(),
     [(4, 3)]),
]  # fmt: skip


@pytest.mark.parametrize("name, call, inputs", ERRORS, ids=[e[0] for e in ERRORS])
def test_error(name, call, inputs):
    check_error(call, inputs)


LINALG_ERRORS = [
    ("inv-singular", lambda lib, x: lib.linalg.inv(x), [SINGULAR]),
    ("inv-zeros", lambda lib, x: lib.linalg.inv(x * 0), [(2, 2)]),
    ("inverse-singular", lambda lib, x: lib.inverse(x), [SINGULAR]),
    ("solve-singular", lambda lib, a, b: lib.linalg.solve(a, b), [SINGULAR, (3,)]),
    ("cholesky-negative", lambda lib, x: lib.linalg.cholesky(-lib.eye(3, dtype=x.dtype) + x * 0), [(3, 3)]),
    ("cholesky-indefinite", lambda lib, x: lib.linalg.cholesky(x), [np.array([[1.0, 2.0], [2.0, 1.0]])]),
]


@pytest.mark.parametrize("name, call, inputs", LINALG_ERRORS, ids=[e[0] for e in LINALG_ERRORS])
def test_linalg_error(name, call, inputs):
    """torch.linalg.LinAlgError in PyTorch, somegrad.linalg.LinAlgError here: both RuntimeErrors."""
    from harness import build, host_inputs

    case = Case(name, call, inputs)
    host = host_inputs(case)
    with pytest.raises(torch.linalg.LinAlgError):
        call(torch, *build(torch, host, "float64", False))
    with pytest.raises(sg.linalg.LinAlgError) as caught:
        call(sg, *build(sg, host, "float64", False))
    assert isinstance(caught.value, RuntimeError)
    assert str(caught.value).startswith(("linalg.inv", "linalg.solve", "linalg.cholesky")), str(caught.value)
