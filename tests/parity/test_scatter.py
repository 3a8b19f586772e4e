"""Parity with PyTorch: writes by index and mask (scatter, scatter_reduce, index_add,
index_copy, index_fill, index_put, masked_scatter), the reads beside them (gather,
index_select, masked_select, take_along_dim, nonzero, where), their methods, in-place
variants and errors."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity

UNIQUE = np.array([[0, 3], [2, 1], [3, 0]])  # no repeat along dim 1: the written values are defined
REPEATS = np.array([[0, 3, 0], [1, 1, 1], [3, 0, 3]])
ROWS = np.array([2, 0, 2])
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
TIES_X = np.array([[1.0, 2.0, 0.5, 0.0], [3.0, 1.0, 1.0, 2.0]])
TIES_SRC = np.array([[2.0, 2.0, 1.0], [3.0, 0.0, 4.0]])
TIES_INDEX = np.array([[1, 1, 2], [0, 1, 1]])
ZEROS_X = np.array([[0.0, 2.0, 1.5, -1.0], [1.0, 0.0, 2.0, 0.5]])
ZEROS_SRC = np.array([[0.0, 1.5, 2.0], [0.5, -2.0, 0.0]])
ZEROS_INDEX = np.array([[0, 1, 1], [1, 3, 2]])


def _scatter_reduce_cases():
    cases = []
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            cases.append(
                Case(
                    f"scatter_reduce-{reduce}-self{include_self}",
                    lambda lib, x, i, s, r=reduce, inc=include_self: lib.scatter_reduce(
                        x, 1, i, s, r, include_self=inc
                    ),
                    [(3, 4), REPEATS, (3, 3)],
                )
            )
        cases.append(
            Case(
                f"scatter_reduce-{reduce}-larger-src-dim0",
                lambda lib, x, i, s, r=reduce: x.scatter_reduce(0, i, s, r),
                [(3, 4), np.array([[2, 0, 2, 1]]), (2, 5)],
                grad=False,  # as scatter-dim0-larger-src
            )
        )
    for reduce in ("amax", "amin"):  # the gradient shared evenly among equal elements
        for include_self in (True, False):
            cases.append(
                Case(
                    f"scatter_reduce-{reduce}-ties-self{include_self}",
                    lambda lib, x, i, s, r=reduce, inc=include_self: x.scatter_reduce(1, i, s, r, include_self=inc),
                    [TIES_X, TIES_INDEX, TIES_SRC],
                )
            )
    for include_self in (True, False):  # prod's gradient where a factor is zero
        cases.append(
            Case(
                f"scatter_reduce-prod-zeros-self{include_self}",
                lambda lib, x, i, s, inc=include_self: x.scatter_reduce(1, i, s, "prod", include_self=inc),
                [ZEROS_X, ZEROS_INDEX, ZEROS_SRC],
            )
        )
    cases.append(
        Case(
            "scatter_reduce_-inplace",
            lambda lib, x, i, s: x.clone().scatter_reduce_(1, i, s, "amax", include_self=False),
            [(3, 4), REPEATS, (3, 3)],
        )
    )
    cases.append(
        Case(
            "scatter_reduce-mean-integers",
            lambda lib, x, i, s: x.scatter_reduce(0, i, s, "mean"),
            [np.array([1, 2, 3, -7]), np.array([0, 0, 3, 3]), np.array([-4, -5, 2, 2])],
        )
    )
    return cases


CASES = [
    # scatter
    Case("scatter-src", lambda lib, x, i, s: lib.scatter(x, 1, i, s), [(3, 4), UNIQUE, (3, 2)]),
    Case(
        "scatter-dim0-larger-src",
        lambda lib, x, i, s: x.scatter(0, i, s),
        [(3, 4), np.array([[2, 0, 1, 2]]), (2, 5)],
        grad=False,  # PyTorch's backward refuses a src larger than index (somegrad's pads the gradient)
    ),
    Case("scatter-negative-dim", lambda lib, x, i, s: x.scatter(-1, i, s), [(3, 4), UNIQUE, (3, 2)]),
    Case("scatter-value", lambda lib, x, i: x.scatter(1, i, 1.5), [(3, 4), UNIQUE]),
    Case("scatter-value-keyword", lambda lib, x, i: lib.scatter(x, 1, i, value=-2.0), [(3, 4), UNIQUE]),
    Case("scatter-0d", lambda lib, x, i, s: x.scatter(0, i, s), [(), np.array(0), ()]),
    Case("scatter_-inplace", lambda lib, x, i, s: x.clone().scatter_(1, i, s), [(3, 4), UNIQUE, (3, 2)]),
    Case(
        "scatter-reduce-add",
        lambda lib, x, i, s: x.scatter(1, i, s, reduce="add"),
        [(3, 4), REPEATS, (3, 3)],
        grad=False,
    ),
    Case(
        "scatter-reduce-multiply",
        lambda lib, x, i, s: x.scatter(1, i, s, reduce="multiply"),
        [(3, 4), REPEATS, (3, 3)],
        grad=False,  # PyTorch has no derivative for the deprecated form
    ),
    Case("scatter-bool", lambda lib, x, i: x.scatter(0, i, True), [np.array([False, True, False]), np.array([0, 2])]),
    Case("scatter-int", lambda lib, x, i, s: x.scatter(0, i, s), [np.arange(4), np.array([3, 1]), np.array([7, 8])]),
    *_scatter_reduce_cases(),
    # scatter_add and gather
    Case("scatter_add", lambda lib, x, i, s: lib.scatter_add(x, 1, i, s), [(3, 4), REPEATS, (3, 3)]),
    Case("scatter_add_-inplace", lambda lib, x, i, s: x.clone().scatter_add_(1, i, s), [(3, 4), REPEATS, (3, 3)]),
    Case("gather", lambda lib, x, i: lib.gather(x, 1, i), [(3, 4), REPEATS]),
    Case("gather-method-dim0", lambda lib, x, i: x.gather(0, i), [(4, 3), REPEATS]),
    # index_add / index_copy / index_fill / index_select
    Case("index_add", lambda lib, x, i, s: lib.index_add(x, 0, i, s), [(4, 3), ROWS, (3, 3)]),
    Case("index_add-alpha-dim1", lambda lib, x, i, s: x.index_add(1, i, s, alpha=-2.5), [(4, 3), ROWS, (4, 3)]),
    Case("index_add-int32-index", lambda lib, x, i, s: x.index_add(0, i, s), [(4, 3), ROWS.astype(np.int32), (3, 3)]),
    Case("index_add_-inplace", lambda lib, x, i, s: x.clone().index_add_(0, i, s, alpha=2), [(4, 3), ROWS, (3, 3)]),
    Case(
        "index_add-int",
        lambda lib, x, i, s: x.index_add(0, i, s, alpha=3),
        [np.arange(3), np.array([0, 0]), np.array([1, 2])],
    ),
    Case("index_copy", lambda lib, x, i, s: lib.index_copy(x, 0, i, s), [(4, 3), np.array([3, 0]), (2, 3)]),
    Case("index_copy-dim1", lambda lib, x, i, s: x.index_copy(1, i, s), [(4, 3), np.array([2, 0]), (4, 2)]),
    Case("index_copy_-inplace", lambda lib, x, i, s: x.clone().index_copy_(0, i, s), [(4, 3), np.array([1]), (1, 3)]),
    Case("index_fill", lambda lib, x, i: lib.index_fill(x, 1, i, -1.5), [(3, 4), np.array([3, 1, 3])]),
    Case("index_fill-negative", lambda lib, x, i: x.index_fill(-1, i, 2.0), [(3, 4), np.array([-1, 0])]),
    Case("index_fill-tensor-value", lambda lib, x, i, v: x.index_fill(0, i, v), [(3, 4), np.array([2, 0]), ()]),
    Case("index_fill_-inplace", lambda lib, x, i: x.clone().index_fill_(0, i, 0.0), [(3, 4), np.array([1])]),
    *[
        Case(
            f"index_reduce-{reduce}-self{include_self}",
            lambda lib, x, i, s, r=reduce, inc=include_self: lib.index_reduce(x, 0, i, s, r, include_self=inc),
            [(4, 3), ROWS, (3, 3)],
        )
        for reduce in ("prod", "mean", "amax", "amin")
        for include_self in (True, False)
    ],
    Case(
        "index_reduce_-inplace", lambda lib, x, i, s: x.clone().index_reduce_(1, i, s, "amax"), [(4, 3), ROWS, (4, 3)]
    ),
    Case(
        "index_reduce-int32",
        lambda lib, x, i, s: x.index_reduce(0, i, s, "mean"),
        [(4, 3), ROWS.astype(np.int32), (3, 3)],
    ),
    Case("index_select", lambda lib, x, i: lib.index_select(x, 1, i), [(3, 4), np.array([3, 0, 3])]),
    Case("index_select-method", lambda lib, x, i: x.index_select(0, i), [(3, 4), np.array([2, 2])]),
    # take / put
    Case("take", lambda lib, x, i: lib.take(x, i), [(3, 4), np.array([[0, 11], [5, 5]])]),
    Case("take-negative", lambda lib, x, i: x.take(i), [(3, 4), np.array([-1, 0, -12])]),
    Case("put", lambda lib, x, i, s: x.put(i, s), [(3, 4), np.array([0, -1, 5]), (3,)]),
    Case("put-function", lambda lib, x, i, s: lib.put(x, i, s), [(3, 4), np.array([[2, 7]]), (2, 1)]),
    Case(
        "put_-accumulate",
        lambda lib, x, i, s: x.clone().put_(i, s, accumulate=True),
        [(3, 4), np.array([0, 0, 3]), (3,)],
    ),
    # index_put
    Case("index_put", lambda lib, x, r, v: lib.index_put(x, (r,), v), [(4, 3), np.array([2, 0]), (2, 3)]),
    Case(
        "index_put-accumulate",
        lambda lib, x, r, c, v: x.index_put((r, c), v, accumulate=True),
        [(4, 3), np.array([2, 0, 2]), np.array([1, 1, 1]), (3,)],
    ),
    Case("index_put-broadcast", lambda lib, x, r, v: x.index_put([r], v), [(4, 3), np.array([3, 1]), (3,)]),
    Case("index_put-mask", lambda lib, x, m, v: x.index_put((m,), v), [(3, 4), MASK, ()]),
    Case(
        "index_put_-inplace",
        lambda lib, x, r, v: x.clone().index_put_((r,), v, accumulate=True),
        [(4, 3), np.array([0, 0, 3]), (3, 3)],
    ),
    Case("setitem", lambda lib, x, v: _setitem(x.clone(), v), [(3, 4), (2,)]),
    # masks
    Case("masked_select", lambda lib, x, m: lib.masked_select(x, m), [(3, 4), MASK]),
    Case("masked_select-broadcast", lambda lib, x, m: x.masked_select(m), [(3, 1), MASK]),
    Case("masked_scatter", lambda lib, x, m, s: lib.masked_scatter(x, m, s), [(3, 4), MASK, (12,)]),
    Case("masked_scatter-larger-source", lambda lib, x, m, s: x.masked_scatter(m, s), [(3, 4), MASK, (4, 5)]),
    Case("masked_scatter-broadcast", lambda lib, x, m, s: x.masked_scatter(m, s), [(4,), MASK, (12,)]),
    Case("masked_scatter_-inplace", lambda lib, x, m, s: x.clone().masked_scatter_(m, s), [(3, 4), MASK[0], (9,)]),
    Case("masked_fill", lambda lib, x, m: lib.masked_fill(x, m, 0.5), [(3, 4), MASK]),
    Case("masked_fill-tensor", lambda lib, x, m, v: x.masked_fill(m, v), [(3, 4), MASK[1], ()]),
    Case("masked_fill_-inplace", lambda lib, x, m: x.clone().masked_fill_(m, -1.0), [(3, 4), MASK]),
    # take_along_dim, nonzero, where
    Case("take_along_dim", lambda lib, x, i: lib.take_along_dim(x, i, 1), [(3, 4), REPEATS]),
    Case("take_along_dim-broadcast", lambda lib, x, i: lib.take_along_dim(x, i, dim=0), [(3, 4), np.array([[2], [0]])]),
    Case("take_along_dim-flat", lambda lib, x, i: lib.take_along_dim(x, i), [(3, 4), np.array([[0, 11], [5, 5]])]),
    Case("take_along_dim-method", lambda lib, x, i: x.take_along_dim(i, dim=-1), [(3, 4), UNIQUE]),
    Case("nonzero", lambda lib, x: lib.nonzero(x), [np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]])], grad=False),
    Case("nonzero-int", lambda lib, x: x.nonzero(), [np.array([0, 3, 0, 1])]),
    Case("nonzero-0d", lambda lib, x: lib.nonzero(x), [np.array(2.0)], grad=False),
    Case("nonzero-as-tuple", lambda lib, x: lib.nonzero(x, as_tuple=True), [MASK]),
    Case("nonzero-as-tuple-0d", lambda lib, x: x.nonzero(as_tuple=True), [np.array(3)]),
    Case("nonzero-as-tuple-0d-zero", lambda lib, x: lib.nonzero(x, as_tuple=True), [np.array(0)]),
    Case("argwhere", lambda lib, x: lib.argwhere(x), [np.array([[1, 0], [0, 1]])]),
    Case("argwhere-method", lambda lib, x: x.argwhere(), [MASK]),
    Case("keywords", lambda lib, x, i: lib.gather(input=x, dim=1, index=i, sparse_grad=False), [(3, 4), REPEATS]),
    Case(
        "keywords-scatter_add",
        lambda lib, x, i, s: lib.scatter_add(input=x, dim=1, index=i, src=s),
        [(3, 4), REPEATS, (3, 3)],
    ),
    Case("keywords-index_select", lambda lib, x, i: lib.index_select(input=x, dim=0, index=i), [(3, 4), ROWS]),
    Case("keywords-masked_fill", lambda lib, x, m: lib.masked_fill(input=x, mask=m, value=2.0), [(3, 4), MASK]),
    Case("where", lambda lib, c, a, b: lib.where(c, a, b), [MASK, (3, 4), (4,)]),
    Case("where-scalar", lambda lib, c, a: lib.where(c, a, 0.0), [MASK, (3, 4)]),
    Case("where-method", lambda lib, c, a, b: a.where(c, b), [MASK, (3, 4), (3, 1)]),
]


def _setitem(x, v):
    x[1, 1:3] = v
    return x


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    check(case, dtype)


def _long(lib, values):
    return lib.tensor(np.asarray(values))


ERRORS = [
    ("scatter-index-out-of-range", lambda lib, x: x.scatter(1, _long(lib, [[4]]), x)),
    ("scatter-negative-index", lambda lib, x: x.scatter(1, _long(lib, [[-1]]), x)),
    ("scatter-dtype-mismatch", lambda lib, x: x.scatter(1, _long(lib, [[0]]), x.double())),
    ("scatter-float-index", lambda lib, x: x.scatter(1, lib.tensor([[0.0]]), x)),
    ("scatter-rank", lambda lib, x: x.scatter(1, _long(lib, [0, 1]), x)),
    ("scatter-index-too-large", lambda lib, x: x.scatter(1, lib.zeros(4, 2, dtype=lib.int64), x)),
    ("scatter-src-too-small", lambda lib, x: x.scatter(1, lib.zeros(3, 2, dtype=lib.int64), x[:, :1])),
    ("scatter-bad-reduce", lambda lib, x: x.scatter(1, _long(lib, [[0]]), x, reduce="sum")),
    ("scatter-bad-dim", lambda lib, x: x.scatter(2, _long(lib, [[0]]), x)),
    ("scatter_add-dtype-mismatch", lambda lib, x: x.scatter_add(1, _long(lib, [[0]]), x.double())),
    ("scatter_add-out-of-range", lambda lib, x: x.scatter_add(0, _long(lib, [[3]]), x)),
    ("scatter_reduce-bad-reduce", lambda lib, x: x.scatter_reduce(1, _long(lib, [[0]]), x, "add")),
    ("scatter_reduce-dtype-mismatch", lambda lib, x: x.scatter_reduce(1, _long(lib, [[0]]), x.double(), "sum")),
    ("scatter_reduce-out-of-range", lambda lib, x: x.scatter_reduce(1, _long(lib, [[7]]), x, "amax")),
    ("gather-out-of-range", lambda lib, x: x.gather(1, _long(lib, [[4]]))),
    ("gather-rank", lambda lib, x: x.gather(1, _long(lib, [0]))),
    ("index_add-out-of-range", lambda lib, x: x.index_add(0, _long(lib, [3]), x[:1])),
    ("index_add-negative", lambda lib, x: x.index_add(0, _long(lib, [-1]), x[:1])),
    ("index_add-float-index", lambda lib, x: x.index_add(0, lib.tensor([0.0]), x[:1])),
    ("index_add-dtype-mismatch", lambda lib, x: x.index_add(0, _long(lib, [0]), x[:1].double())),
    ("index_add-count", lambda lib, x: x.index_add(0, _long(lib, [0]), x[:2])),
    ("index_add-shape", lambda lib, x: x.index_add(0, _long(lib, [0]), x[:1, :2])),
    ("index_add-2d-index", lambda lib, x: x.index_add(0, _long(lib, [[0]]), x[:1])),
    ("index_copy-out-of-range", lambda lib, x: x.index_copy(0, _long(lib, [3]), x[:1])),
    ("index_copy-int32-index", lambda lib, x: x.index_copy(0, lib.tensor([0], dtype=lib.int32), x[:1])),
    ("index_copy-dtype-mismatch", lambda lib, x: x.index_copy(0, _long(lib, [0]), x[:1].double())),
    ("index_copy-count", lambda lib, x: x.index_copy(0, _long(lib, [0]), x[:2])),
    ("index_fill-out-of-range", lambda lib, x: x.index_fill(0, _long(lib, [3]), 1.0)),
    ("index_fill-negative-out-of-range", lambda lib, x: x.index_fill(0, _long(lib, [-4]), 1.0)),
    ("index_fill-int32-index", lambda lib, x: x.index_fill(0, lib.tensor([0], dtype=lib.int32), 1.0)),
    ("index_fill-1d-value", lambda lib, x: x.index_fill(0, _long(lib, [0]), lib.tensor([1.0]))),
    ("index_fill-2d-index", lambda lib, x: x.index_fill(0, _long(lib, [[0]]), 1.0)),
    ("index_reduce-sum", lambda lib, x: x.index_reduce(0, _long(lib, [0]), x[:1], "sum")),
    ("index_reduce-out-of-range", lambda lib, x: x.index_reduce(0, _long(lib, [3]), x[:1], "prod")),
    ("index_reduce-negative", lambda lib, x: x.index_reduce(0, _long(lib, [-1]), x[:1], "prod")),
    ("index_reduce-float-index", lambda lib, x: x.index_reduce(0, lib.tensor([0.0]), x[:1], "prod")),
    ("index_reduce-dtype-mismatch", lambda lib, x: x.index_reduce(0, _long(lib, [0]), x[:1].double(), "amax")),
    ("index_reduce-count", lambda lib, x: x.index_reduce(0, _long(lib, [0]), x[:2], "amin")),
    ("index_select-out-of-range", lambda lib, x: x.index_select(0, _long(lib, [3]))),
    ("take-out-of-range", lambda lib, x: lib.take(x, _long(lib, [12]))),
    ("take-int32", lambda lib, x: lib.take(x, lib.tensor([1], dtype=lib.int32))),
    ("put-count", lambda lib, x: x.put(_long(lib, [0, 1]), lib.ones(1))),
    ("put-out-of-range", lambda lib, x: x.put(_long(lib, [-13]), lib.ones(1))),
    ("put-dtype-mismatch", lambda lib, x: x.put(_long(lib, [0]), lib.ones(1, dtype=lib.float64))),
    ("index_put-out-of-range", lambda lib, x: x.index_put((_long(lib, [3]),), lib.tensor(1.0))),
    ("index_put-dtype-mismatch", lambda lib, x: x.index_put((_long(lib, [0]),), lib.tensor(1.0, dtype=lib.float64))),
    ("index_put-float-index", lambda lib, x: x.index_put((lib.tensor([0.0]),), lib.tensor(1.0))),
    ("index_put-shape", lambda lib, x: x.index_put((_long(lib, [0, 1]),), lib.ones(3))),
    ("index_put-not-a-tuple", lambda lib, x: x.index_put(_long(lib, [0, 1]), lib.ones(4))),
    ("index_put-too-many", lambda lib, x: x.index_put((_long(lib, [0]),) * 3, lib.tensor(1.0))),
    ("masked_select-int-mask", lambda lib, x: x.masked_select(x.long())),
    ("masked_select-bad-mask", lambda lib, x: x.masked_select(lib.tensor([True, False]))),
    ("masked_scatter-int-mask", lambda lib, x: x.masked_scatter(x.long(), x)),
    ("masked_scatter-short-source", lambda lib, x: x.masked_scatter(x > -10, lib.ones(3))),
    ("masked_scatter-dtype-mismatch", lambda lib, x: x.masked_scatter(x > 0, x.double())),
    ("masked_scatter_-broadcast-self", lambda lib, x: x[0].clone().masked_scatter_(x > 0, x)),
    ("masked_fill-int-mask", lambda lib, x: x.masked_fill(x.long(), 1.0)),
    ("take_along_dim-int32", lambda lib, x: lib.take_along_dim(x, lib.tensor([[0]], dtype=lib.int32), 1)),
]


@pytest.mark.parametrize("call", [c for _, c in ERRORS], ids=[n for n, _ in ERRORS])
def test_error(call):
    check_error(call, [(3, 4)])


def test_scatter_reduce_amax_shares_the_gradient_of_ties_evenly():
    import somegrad as sg

    x = sg.tensor([[1.0, 2.0, 0.0]], requires_grad=True)
    src = sg.tensor([[2.0, 2.0]], requires_grad=True)
    x.scatter_reduce(1, sg.tensor([[1, 1]]), src, "amax").sum().backward()
    # three elements equal to the maximum 2.0 at position 1: x[0, 1] and both of src
    assert np.allclose(x.grad.numpy(), [[1.0, 1 / 3, 1.0]])
    assert np.allclose(src.grad.numpy(), [[1 / 3, 1 / 3]])
