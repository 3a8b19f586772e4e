"""Parity with PyTorch: mm, bmm, mv, dot, vdot, inner, outer/ger, addmm, addmv, addbmm, baddbmm,
tensordot and einsum, values and gradients in float64 and float32, methods, in-place variants and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity

_INT22 = np.array([[1, 2], [3, 4]])
_BOOL22 = np.array([[True, False], [True, True]])

PRODUCTS = [
    Case("mm", lambda lib, a, b: lib.mm(a, b), [(3, 4), (4, 2)]),
    Case("mm-method", lambda lib, a, b: a.mm(b), [(2, 3), (3, 5)]),
    Case("mm-transposed", lambda lib, a, b: lib.mm(a.T, b.T), [(4, 3), (2, 4)]),
    Case("mm-size0", lambda lib, a, b: lib.mm(a, b), [(0, 3), (3, 2)]),
    Case("mm-inner0", lambda lib, a, b: lib.mm(a, b), [(2, 0), (0, 3)]),
    Case("mm-int", lambda lib, a, b: lib.mm(a, b), [np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)]),
    Case("bmm", lambda lib, a, b: lib.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    Case("bmm-method", lambda lib, a, b: a.bmm(b), [(3, 2, 2), (3, 2, 4)]),
    Case("bmm-permuted", lambda lib, a, b: lib.bmm(a.permute(1, 0, 2), b), [(3, 2, 4), (2, 4, 2)]),
    Case("mv", lambda lib, a, v: lib.mv(a, v), [(3, 4), (4,)]),
    Case("mv-method", lambda lib, a, v: a.mv(v), [(2, 5), (5,)]),
    Case("dot", lambda lib, a, b: lib.dot(a, b), [(5,), (5,)]),
    Case("dot-method", lambda lib, a, b: a.dot(b), [(4,), (4,)]),
    Case("dot-empty", lambda lib, a, b: lib.dot(a, b), [(0,), (0,)]),
    Case("vdot", lambda lib, a, b: lib.vdot(a, b), [(6,), (6,)]),
    Case("vdot-method", lambda lib, a, b: a.vdot(b), [(3,), (3,)]),
    Case("inner", lambda lib, a, b: lib.inner(a, b), [(2, 3, 4), (5, 4)]),
    Case("inner-vectors", lambda lib, a, b: lib.inner(a, b), [(4,), (4,)]),
    Case("inner-scalar", lambda lib, a, b: lib.inner(a, b), [(), (2, 3)]),
    Case("inner-method", lambda lib, a, b: a.inner(b), [(3, 2), (2,)]),
    Case("outer", lambda lib, a, b: lib.outer(a, b), [(3,), (4,)]),
    Case("outer-method", lambda lib, a, b: a.outer(b), [(2,), (5,)]),
    Case("ger", lambda lib, a, b: lib.ger(a, b), [(3,), (2,)]),
    Case("ger-method", lambda lib, a, b: a.ger(b), [(3,), (2,)]),
    Case("addmm", lambda lib, c, a, b: lib.addmm(c, a, b), [(3, 2), (3, 4), (4, 2)]),
    Case("addmm-scaled", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=-2.0), [(3, 2), (3, 4), (4, 2)]),
    Case("addmm-broadcast", lambda lib, c, a, b: lib.addmm(c, a, b, alpha=3), [(2,), (3, 4), (4, 2)]),
    Case("addmm-beta0", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0), [(3, 2), (3, 4), (4, 2)]),
    Case("addmm-method", lambda lib, c, a, b: c.addmm(a, b, beta=2), [(1, 2), (3, 4), (4, 2)]),
    Case("addmm-inplace", lambda lib, c, a, b: (c * 1).addmm_(a, b, alpha=0.5), [(3, 2), (3, 4), (4, 2)]),
    Case("addmv", lambda lib, c, a, v: lib.addmv(c, a, v, beta=0.25, alpha=2), [(3,), (3, 4), (4,)]),
    Case("addmv-broadcast", lambda lib, c, a, v: lib.addmv(c, a, v), [(), (3, 4), (4,)]),
    Case("addmv-method", lambda lib, c, a, v: c.addmv(a, v), [(2,), (2, 3), (3,)]),
    Case("addmv-inplace", lambda lib, c, a, v: (c * 1).addmv_(a, v, beta=3), [(2,), (2, 3), (3,)]),
    Case("addbmm", lambda lib, c, a, b: lib.addbmm(c, a, b), [(3, 5), (4, 3, 2), (4, 2, 5)]),
    Case("addbmm-scaled", lambda lib, c, a, b: lib.addbmm(c, a, b, beta=-1, alpha=0.5), [(5,), (2, 3, 2), (2, 2, 5)]),
    Case("addbmm-method", lambda lib, c, a, b: c.addbmm(a, b), [(3, 5), (4, 3, 2), (4, 2, 5)]),
    Case("addbmm-inplace", lambda lib, c, a, b: (c * 1).addbmm_(a, b), [(3, 5), (4, 3, 2), (4, 2, 5)]),
    Case("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b), [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    Case(
        "baddbmm-scaled", lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=2, alpha=0.1), [(3, 4), (2, 3, 5), (2, 5, 4)]
    ),
    Case("baddbmm-method", lambda lib, c, a, b: c.baddbmm(a, b), [(1, 1, 4), (2, 3, 5), (2, 5, 4)]),
    Case("baddbmm-inplace", lambda lib, c, a, b: (c * 1).baddbmm_(a, b, alpha=2), [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    Case("tensordot", lambda lib, a, b: lib.tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
    Case("tensordot-int", lambda lib, a, b: lib.tensordot(a, b, dims=1), [(2, 3), (3, 4)]),
    Case("tensordot-outer", lambda lib, a, b: lib.tensordot(a, b, 0), [(2, 3), (4,)]),
    Case("tensordot-lists", lambda lib, a, b: lib.tensordot(a, b, dims=([1, 0], [0, 1])), [(3, 4, 2), (4, 3)]),
    Case("tensordot-negative", lambda lib, a, b: lib.tensordot(a, b, dims=([-1], [0])), [(2, 3), (3, 4)]),
    Case("outer-bool", lambda lib, a, b: lib.outer(a, b), [np.array([True, False]), np.array([True, True, False])]),
    Case("outer-promotes", lambda lib, a, b: lib.outer(a, b), [(2,), np.arange(3)]),
    Case("addmm-int-scalars", lambda lib, c, a, b: lib.addmm(c, a, b, beta=2.5, alpha=0.5), [_INT22, _INT22, _INT22]),
    Case("addmm-int", lambda lib, c, a, b: lib.addmm(c, a, b, beta=2, alpha=3), [_INT22, _INT22, _INT22]),
    # second order: the gradient of a gradient, through the products
    Case(
        "mm-double-backward", lambda lib, a, b: _grad_of(lib, lambda x: (lib.mm(x, b) ** 2).sum(), a), [(3, 4), (4, 2)]
    ),
]


def _grad_of(lib, f, x):
    (g,) = lib.autograd.grad(f(x), x, create_graph=True)
    return g


EINSUM = [
    Case("einsum-matmul", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    Case("einsum-batched", lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)]),
    Case("einsum-implicit", lambda lib, a, b: lib.einsum("ba,cb", a, b), [(2, 3), (4, 2)]),
    Case("einsum-trace", lambda lib, a: lib.einsum("ii", a), [(4, 4)]),
    Case("einsum-diagonal", lambda lib, a: lib.einsum("ii->i", a), [(3, 3)]),
    Case("einsum-batch-diagonal", lambda lib, a: lib.einsum("bii->bi", a), [(2, 3, 3)]),
    Case("einsum-triple-repeat", lambda lib, a: lib.einsum("iii->i", a), [(3, 3, 3)]),
    Case("einsum-sum", lambda lib, a: lib.einsum("ij->", a), [(3, 4)]),
    Case("einsum-sum-rows", lambda lib, a: lib.einsum("ij->j", a), [(3, 4)]),
    Case("einsum-transpose", lambda lib, a: lib.einsum("ij->ji", a), [(3, 4)]),
    Case("einsum-outer", lambda lib, a, b: lib.einsum("i,j->ij", a, b), [(3,), (4,)]),
    Case("einsum-dot", lambda lib, a, b: lib.einsum("i,i->", a, b), [(5,), (5,)]),
    Case("einsum-hadamard", lambda lib, a, b: lib.einsum("ij,ij->ij", a, b), [(3, 4), (3, 4)]),
    Case("einsum-broadcast-size1", lambda lib, a, b: lib.einsum("ij,ij->ij", a, b), [(1, 4), (3, 4)]),
    Case("einsum-contract-size1", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(3, 1), (4, 2)]),
    Case("einsum-ellipsis", lambda lib, a: lib.einsum("...ij->...ji", a), [(2, 3, 4, 5)]),
    Case("einsum-ellipsis-matmul", lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b), [(2, 3, 4), (4, 5)]),
    Case("einsum-ellipsis-broadcast", lambda lib, a, b: lib.einsum("...j,...j->...", a, b), [(4, 1, 3), (2, 3)]),
    Case("einsum-ellipsis-middle", lambda lib, a: lib.einsum("i...j->j...i", a), [(2, 3, 4, 5)]),
    Case("einsum-ellipsis-summed", lambda lib, a: lib.einsum("...i->i", a), [(2, 3, 4)]),
    Case("einsum-ellipsis-implicit", lambda lib, a: lib.einsum("b...a", a), [(2, 3, 4)]),
    Case("einsum-attention", lambda lib, q, k: lib.einsum("bhqd,bhkd->bhqk", q, k), [(2, 3, 4, 5), (2, 3, 6, 5)]),
    Case("einsum-bilinear", lambda lib, x, w, y: lib.einsum("bi,oij,bj->bo", x, w, y), [(3, 4), (2, 4, 5), (3, 5)]),
    Case("einsum-chain", lambda lib, a, b, c: lib.einsum("ij,jk,kl->il", a, b, c), [(2, 3), (3, 4), (4, 5)]),
    Case(
        "einsum-four", lambda lib, a, b, c, d: lib.einsum("ab,bc,cd,da->", a, b, c, d), [(2, 3), (3, 4), (4, 2), (2, 2)]
    ),
    Case("einsum-uppercase", lambda lib, a, b: lib.einsum("iJ,Jk->ik", a, b), [(2, 3), (3, 4)]),
    Case("einsum-spaces", lambda lib, a, b: lib.einsum(" i j , j k -> i k ", a, b), [(2, 3), (3, 4)]),
    Case("einsum-scalar", lambda lib, a, s: lib.einsum("i,->i", a, s), [(4,), ()]),
    Case("einsum-list", lambda lib, a, b: lib.einsum("ij,jk", [a, b]), [(2, 3), (3, 4)]),
    Case("einsum-sublist", lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [0, 2]), [(2, 3), (3, 4)]),
    Case("einsum-sublist-implicit", lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2]), [(2, 3), (3, 4)]),
    Case("einsum-sublist-ellipsis", lambda lib, a: lib.einsum(a, [..., 0, 1], [..., 1, 0]), [(2, 3, 4)]),
    Case("einsum-diag-and-contract", lambda lib, a, b: lib.einsum("iij,jk->ik", a, b), [(3, 3, 4), (4, 2)]),
    Case("einsum-repeat-across", lambda lib, a, b: lib.einsum("ij,ij->i", a, b), [(3, 4), (3, 4)]),
    Case("einsum-size0", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(2, 0), (0, 3)]),
    Case("einsum-transposed-input", lambda lib, a, b: lib.einsum("ij,jk->ik", a.T, b), [(4, 3), (4, 2)]),
    Case(
        "einsum-int",
        lambda lib, a, b: lib.einsum("ij,jk->ik", a, b),
        [np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)],
    ),
    Case(
        "einsum-double-backward",
        lambda lib, a, b: _grad_of(lib, lambda x: (lib.einsum("ij,jk->ik", x, b) ** 2).sum(), a),
        [(3, 4), (4, 2)],
    ),
]


@pytest.mark.parametrize("case", PRODUCTS + EINSUM, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    check(case, dtype)


ERRORS = {
    "mm-1d": (lambda lib, a, b: lib.mm(a, b), [(3,), (3, 2)]),
    "mm-inner": (lambda lib, a, b: lib.mm(a, b), [(2, 3), (2, 3)]),
    "mm-3d": (lambda lib, a, b: lib.mm(a, b), [(2, 2, 3), (3, 2)]),
    "mm-dtypes": (lambda lib, a, b: lib.mm(a, b.double()), [(2, 3), (3, 2)]),
    "bmm-2d": (lambda lib, a, b: lib.bmm(a, b), [(2, 3), (3, 2)]),
    "bmm-batch": (lambda lib, a, b: lib.bmm(a, b), [(2, 2, 3), (3, 3, 2)]),
    "bmm-inner": (lambda lib, a, b: lib.bmm(a, b), [(2, 2, 3), (2, 4, 2)]),
    "mv-size": (lambda lib, a, v: lib.mv(a, v), [(2, 3), (2,)]),
    "mv-matrix": (lambda lib, a, v: lib.mv(a, v), [(2, 3), (3, 1)]),
    "dot-size": (lambda lib, a, b: lib.dot(a, b), [(3,), (4,)]),
    "dot-2d": (lambda lib, a, b: lib.dot(a, b), [(2, 3), (2, 3)]),
    "dot-dtypes": (lambda lib, a, b: lib.dot(a, b.double()), [(3,), (3,)]),
    "vdot-size": (lambda lib, a, b: lib.vdot(a, b), [(3,), (4,)]),
    "inner-last": (lambda lib, a, b: lib.inner(a, b), [(2, 3), (2,)]),
    "outer-2d": (lambda lib, a, b: lib.outer(a, b), [(2, 3), (3,)]),
    "addmm-input": (lambda lib, c, a, b: lib.addmm(c, a, b), [(3,), (2, 3), (3, 2)]),
    "addmm-inner": (lambda lib, c, a, b: lib.addmm(c, a, b), [(2, 2), (2, 3), (2, 3)]),
    "addmv-input": (lambda lib, c, a, v: lib.addmv(c, a, v), [(3,), (2, 3), (3,)]),
    "addbmm-input": (lambda lib, c, a, b: lib.addbmm(c, a, b), [(3, 3), (2, 2, 3), (2, 3, 2)]),
    "baddbmm-input": (lambda lib, c, a, b: lib.baddbmm(c, a, b), [(3, 2, 2), (2, 2, 3), (2, 3, 2)]),
    "tensordot-negative-dims": (lambda lib, a, b: lib.tensordot(a, b, dims=-1), [(2, 3), (3, 4)]),
    "tensordot-too-many": (lambda lib, a, b: lib.tensordot(a, b, dims=3), [(2, 3), (3, 4)]),
    "tensordot-sizes": (lambda lib, a, b: lib.tensordot(a, b, ([0], [0])), [(2, 3), (3, 4)]),
    "tensordot-lengths": (lambda lib, a, b: lib.tensordot(a, b, ([1], [0, 1])), [(2, 3), (3, 4)]),
    "tensordot-dtypes": (lambda lib, a, b: lib.tensordot(a, b.double(), 1), [(2, 3), (3, 4)]),
    "mm-bool": (lambda lib, a: lib.mm(a, a), [_BOOL22]),
    "bmm-bool": (lambda lib, a: lib.bmm(a[None], a[None]), [_BOOL22]),
    "mv-bool": (lambda lib, a: lib.mv(a, a[0]), [_BOOL22]),
    "dot-bool": (lambda lib, a: lib.dot(a[0], a[1]), [_BOOL22]),
    "inner-bool": (lambda lib, a: lib.inner(a, a), [_BOOL22]),
    "addmm-bool": (lambda lib, a: lib.addmm(a, a, a), [_BOOL22]),
    "baddbmm-bool": (lambda lib, a: lib.baddbmm(a[None], a[None], a[None]), [_BOOL22]),
    "tensordot-bool": (lambda lib, a: lib.tensordot(a, a), [_BOOL22]),
    "einsum-bool": (lambda lib, a: lib.einsum("ij,jk", a, a), [_BOOL22]),
    "einsum-fewer": (lambda lib, a: lib.einsum("ij,jk", a), [(2, 3)]),
    "einsum-more": (lambda lib, a: lib.einsum("ij", a, a), [(2, 3)]),
    "einsum-subscripts": (lambda lib, a: lib.einsum("ijk", a), [(2, 3)]),
    "einsum-too-many-with-ellipsis": (lambda lib, a: lib.einsum("ijk...", a), [(2, 3)]),
    "einsum-sizes": (lambda lib, a, b: lib.einsum("ij,ij->", a, b), [(2, 3), (3, 3)]),
    "einsum-output-repeated": (lambda lib, a: lib.einsum("ij->ii", a), [(2, 3)]),
    "einsum-output-unknown": (lambda lib, a: lib.einsum("ij->k", a), [(2, 3)]),
    "einsum-bad-char": (lambda lib, a: lib.einsum("i1->", a), [(2, 3)]),
    "einsum-two-arrows": (lambda lib, a: lib.einsum("i->i->i", a), [(3,)]),
    "einsum-two-ellipses": (lambda lib, a: lib.einsum("......i->i", a), [(3,)]),
    "einsum-diagonal-sizes": (lambda lib, a: lib.einsum("ii->i", a), [(2, 3)]),
    "einsum-dtypes": (lambda lib, a, b: lib.einsum("ij,jk", a, b.double()), [(2, 3), (3, 2)]),
    "einsum-no-operands": (lambda lib: lib.einsum("i->"), []),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    call, inputs = ERRORS[name]
    check_error(call, inputs)


def test_messages_name_the_shapes():
    import somegrad as sg

    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(2x3 and 2x3\)"):
        sg.mm(sg.ones(2, 3), sg.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"batch2 tensor to be: \[2, 3\] but got: \[3, 3\]"):
        sg.bmm(sg.ones(2, 2, 3), sg.ones(3, 3, 2))
    with pytest.raises(RuntimeError, match="subscript i has size 3 for operand 1"):
        sg.einsum("ij,ij->", sg.ones(2, 3), sg.ones(3, 3))
