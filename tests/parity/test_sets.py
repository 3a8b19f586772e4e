"""Parity with PyTorch for the searching, counting and set ops (unique, unique_consecutive,
searchsorted, bucketize, bincount, histc, count_nonzero, isin, isreal, kthvalue, msort), the layout
composites (tile, ravel, fliplr, flipud, broadcast_tensors, broadcast_shapes, cartesian_prod,
combinations, block_diag, diagflat, scalar_tensor) and the top-level Tensor queries: values and
gradients in float64 and float32, the Tensor methods, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity


def _ints(values):
    return np.array(values, dtype=np.int64)


def _fn(lib, name):
    """`lib.name`; for somegrad, the function in its family module until the top level exports it."""
    if hasattr(lib, name):
        return getattr(lib, name)
    from somegrad.ops import joins, sets

    return getattr(sets, name, None) or getattr(joins, name)


def _grad_of(lib, f, x):
    (g,) = lib.autograd.grad(f(x), x, create_graph=True)
    return g


REPEATED = np.array([[3.0, 1.0, 2.0, 1.0], [2.0, 3.0, 3.0, 0.0], [3.0, 1.0, 2.0, 1.0]])
ROWS = np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0], [0.0, 1.0], [0.0, 5.0]])
RUNS = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 1.0, 1.0, 2.0])
SEQ = np.array([-0.5, -0.1, 0.0, 0.3, 0.3, 0.8])
DISTINCT = np.array([[0.3, -0.2, 0.9, 0.1], [-0.7, 0.5, 0.0, -0.4], [0.8, -0.9, 0.2, 0.6]])

UNIQUE = [
    Case("unique", lambda lib, x: lib.unique(x), [REPEATED], grad=False),
    Case(
        "unique-all",
        lambda lib, x: lib.unique(x, return_inverse=True, return_counts=True),
        [REPEATED],
        grad=False,
    ),
    Case("unique-inverse", lambda lib, x: lib.unique(x, sorted=True, return_inverse=True), [REPEATED], grad=False),
    Case("unique-method", lambda lib, x: x.unique(return_counts=True), [REPEATED], grad=False),
    Case(
        "unique-dim0",
        lambda lib, x: lib.unique(x, dim=0, return_inverse=True, return_counts=True),
        [ROWS],
        grad=False,
    ),
    Case(
        "unique-dim1",
        lambda lib, x: lib.unique(x, return_inverse=True, return_counts=True, dim=1),
        [ROWS.T.copy()],
        grad=False,
    ),
    Case("unique-dim-neg", lambda lib, x: x.unique(dim=-1), [np.repeat(DISTINCT, 2, axis=1)], grad=False),
    Case("unique-int", lambda lib, x: lib.unique(x, return_counts=True), [_ints([[4, 1], [4, 0]])], grad=False),
    Case("unique-bool", lambda lib, x: lib.unique(x, return_inverse=True), [np.array([True, False, True])]),
    Case("unique-empty", lambda lib, x: lib.unique(x, return_counts=True), [(0,)], grad=False),
    Case(
        "unique-empty-dim",
        lambda lib, x: lib.unique(x, dim=0, return_inverse=True, return_counts=True),
        [(0, 3)],
        grad=False,
    ),
    Case(
        "unique_consecutive-empty-dim",
        lambda lib, x: lib.unique_consecutive(x, dim=0, return_inverse=True, return_counts=True),
        [(0, 3)],
        grad=False,
    ),
    Case("unique-0d", lambda lib, x: lib.unique(x, return_inverse=True), [()], grad=False),
    Case("unique-transposed", lambda lib, x: lib.unique(x.T, return_inverse=True), [REPEATED], grad=False),
    Case("unique_consecutive", lambda lib, x: lib.unique_consecutive(x), [RUNS], grad=False),
    Case(
        "unique_consecutive-all",
        lambda lib, x: lib.unique_consecutive(x, return_inverse=True, return_counts=True),
        [RUNS],
        grad=False,
    ),
    Case(
        "unique_consecutive-dim",
        lambda lib, x: x.unique_consecutive(return_inverse=True, return_counts=True, dim=0),
        [ROWS[[0, 0, 1, 1, 2, 3]]],
        grad=False,
    ),
    Case("unique_consecutive-int", lambda lib, x: lib.unique_consecutive(x), [_ints([5, 5, 1, 5])], grad=False),
]

SEARCH = [
    Case("searchsorted", lambda lib, s, v: lib.searchsorted(s, v), [SEQ, (3, 4)]),
    Case("searchsorted-ties", lambda lib, s, v: lib.searchsorted(s, v), [SEQ, np.array([0.3, -0.5, 0.8, 1.0])]),
    Case(
        "searchsorted-right",
        lambda lib, s, v: lib.searchsorted(s, v, right=True),
        [SEQ, np.array([0.3, -0.5, 0.8, 1.0])],
    ),
    Case(
        "searchsorted-side",
        lambda lib, s, v: lib.searchsorted(s, v, side="right"),
        [SEQ, np.array([0.3, -0.5, 0.0, -2.0])],
    ),
    Case(
        "searchsorted-batched",
        lambda lib, s, v: lib.searchsorted(s.sort(dim=-1).values, v),
        [(2, 3, 5), (2, 3, 4)],
    ),
    Case("searchsorted-int32", lambda lib, s, v: lib.searchsorted(s, v, out_int32=True), [SEQ, (4,)]),
    Case(
        "searchsorted-sorter",
        lambda lib, s, v: lib.searchsorted(s, v, sorter=s.argsort()),
        [np.array([0.4, -0.3, 0.9, 0.0]), (5,)],
    ),
    Case("searchsorted-scalar", lambda lib, s: lib.searchsorted(s, 0.25), [SEQ]),
    Case("searchsorted-ints", lambda lib, s, v: lib.searchsorted(s, v), [_ints([1, 3, 3, 7]), _ints([[3, 0], [8, 4]])]),
    Case("searchsorted-empty", lambda lib, s, v: lib.searchsorted(s, v), [(0,), (3,)]),
    Case("bucketize", lambda lib, x, b: lib.bucketize(x, b), [(3, 4), SEQ]),
    Case("bucketize-right", lambda lib, x, b: lib.bucketize(x, b, right=True), [np.array([0.3, 0.0, 2.0]), SEQ]),
    Case("bucketize-int32", lambda lib, x, b: lib.bucketize(x, b, out_int32=True), [(5,), SEQ]),
    Case("bucketize-ints", lambda lib, x, b: lib.bucketize(x, b), [_ints([0, 3, 9]), _ints([1, 3, 5])]),
]

COUNTS = [
    Case("bincount", lambda lib, x: lib.bincount(x), [_ints([0, 3, 1, 1, 3, 6])]),
    Case("bincount-minlength", lambda lib, x: lib.bincount(x, minlength=10), [_ints([0, 3, 1, 1])]),
    Case("bincount-method", lambda lib, x: x.bincount(), [_ints([2, 2, 0])]),
    Case(
        "bincount-weights",
        lambda lib, x, w: lib.bincount(x, w),
        [_ints([0, 3, 1, 1, 3, 6]), (6,)],
        grad=False,
    ),
    Case(
        "bincount-int-weights",
        lambda lib, x, w: lib.bincount(x, weights=w, minlength=8),
        [_ints([0, 3, 1]), _ints([2, -1, 5])],
    ),
    Case("bincount-empty", lambda lib, x: lib.bincount(x, minlength=3), [np.zeros(0, np.int64)]),
    Case("histc", lambda lib, x: lib.histc(x, bins=7, min=-1, max=1), [(4, 5)], grad=False),
    Case("histc-data-range", lambda lib, x: lib.histc(x, bins=5), [(20,)], grad=False),
    Case("histc-method", lambda lib, x: x.histc(4, -0.5, 0.5), [(3, 3)], grad=False),
    Case("histc-outside", lambda lib, x: lib.histc(x, 3, 0.0, 0.5), [(10,)], grad=False),
    Case("histc-constant", lambda lib, x: lib.histc(x, 4), [np.full(3, 2.0)], grad=False),
    Case("count_nonzero", lambda lib, x: lib.count_nonzero(x), [REPEATED - 1]),
    Case("count_nonzero-dim", lambda lib, x: lib.count_nonzero(x, dim=1), [REPEATED - 1]),
    Case("count_nonzero-dims", lambda lib, x: x.count_nonzero((0, -1)), [np.stack([REPEATED - 1] * 2)]),
    Case("count_nonzero-int", lambda lib, x: lib.count_nonzero(x, 0), [_ints([[0, 2], [0, 0]])]),
    Case("count_nonzero-bool", lambda lib, x: lib.count_nonzero(x), [np.array([True, False, True])]),
    Case("isin", lambda lib, e, t: lib.isin(e, t), [REPEATED, np.array([2.0, 0.0, 7.0])]),
    Case("isin-invert", lambda lib, e, t: lib.isin(e, t, invert=True), [REPEATED, np.array([2.0, 0.0])]),
    Case(
        "isin-unique",
        lambda lib, e, t: lib.isin(e, t, assume_unique=True),
        [np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0])],
    ),
    Case("isin-scalar-test", lambda lib, e: lib.isin(e, 3.0), [REPEATED]),
    Case("isin-scalar-element", lambda lib, t: lib.isin(2, t), [_ints([1, 2])]),
    Case("isin-ints", lambda lib, e, t: lib.isin(e, t), [_ints([[1, 5], [9, 2]]), _ints([2, 9, 9])]),
    Case("isin-empty", lambda lib, e, t: lib.isin(e, t), [(3,), (0,)]),
    Case("isreal", lambda lib, x: lib.isreal(x), [(3,)]),
    Case("isreal-complex", lambda lib, x: lib.isreal(x), [np.array([1 + 0j, 2 - 1j, 0.5j, -3 + 0j])]),
    Case("isreal-method", lambda lib, x: x.isreal(), [_ints([1, 2])]),
]

ORDER = [
    Case("kthvalue", lambda lib, x: lib.kthvalue(x, 2), [DISTINCT]),
    Case("kthvalue-dim", lambda lib, x: lib.kthvalue(x, 3, 0), [DISTINCT]),
    Case("kthvalue-keepdim", lambda lib, x: lib.kthvalue(x, 1, dim=-1, keepdim=True), [DISTINCT]),
    Case("kthvalue-method", lambda lib, x: x.kthvalue(4), [DISTINCT]),
    Case("kthvalue-fields", lambda lib, x: lib.kthvalue(x, 2).values * 2 + lib.kthvalue(x, 2).indices, [DISTINCT]),
    Case("kthvalue-transposed", lambda lib, x: lib.kthvalue(x.T, 2), [DISTINCT]),
    Case("kthvalue-0d", lambda lib, x: lib.kthvalue(x, 1), [()]),
    Case("kthvalue-int", lambda lib, x: lib.kthvalue(x, 2), [_ints([[4, 1, 3], [0, 9, 2]])]),
    Case(
        "kthvalue-double-backward",
        lambda lib, x: _grad_of(lib, lambda y: (lib.kthvalue(y, 2, 1).values ** 3).sum(), x),
        [DISTINCT],
    ),
    Case("msort", lambda lib, x: lib.msort(x), [DISTINCT]),
    Case("msort-method", lambda lib, x: x.msort(), [DISTINCT.T.copy()]),
    Case("msort-1d", lambda lib, x: lib.msort(x), [DISTINCT[0]]),
    Case("msort-int", lambda lib, x: lib.msort(x), [_ints([[3, 1], [0, 4], [2, 2]])]),
]

LAYOUT = [
    Case("tile", lambda lib, x: lib.tile(x, (2,)), [(2, 3)]),
    Case("tile-more", lambda lib, x: lib.tile(x, (2, 1, 3)), [(2, 3)]),
    Case("tile-method", lambda lib, x: x.tile((3, 2)), [(2,)]),
    Case("tile-0d", lambda lib, x: lib.tile(x, (2, 2)), [()]),
    Case("tile-zero", lambda lib, x: lib.tile(x, (0, 1)), [(2, 3)]),
    Case("tile-double-backward", lambda lib, x: _grad_of(lib, lambda y: (y.tile((2, 2)) ** 3).sum(), x), [(2, 2)]),
    Case("ravel", lambda lib, x: lib.ravel(x), [(2, 3, 4)]),
    Case("ravel-method", lambda lib, x: x.T.ravel(), [(2, 3)]),
    Case("ravel-0d", lambda lib, x: lib.ravel(x), [()]),
    Case("fliplr", lambda lib, x: lib.fliplr(x), [(2, 3)]),
    Case("fliplr-method", lambda lib, x: x.fliplr(), [(2, 3, 4)]),
    Case("flipud", lambda lib, x: lib.flipud(x), [(3, 2)]),
    Case("flipud-1d", lambda lib, x: x.flipud(), [(4,)]),
    Case("broadcast_tensors", lambda lib, a, b: lib.broadcast_tensors(a, b), [(3, 1), (4,)]),
    Case("broadcast_tensors-three", lambda lib, a, b, c: lib.broadcast_tensors(a, b, c), [(2, 1, 1), (3, 1), ()]),
    Case("broadcast_tensors-one", lambda lib, a: lib.broadcast_tensors(a), [(2, 3)]),
    Case("broadcast_shapes", lambda lib: lib.tensor(_fn(lib, "broadcast_shapes")((3, 1), (4,), 1)), []),
    Case("broadcast_shapes-none", lambda lib: lib.tensor(_fn(lib, "broadcast_shapes")()), []),
    Case("cartesian_prod", lambda lib, a, b: lib.cartesian_prod(a, b), [(2,), (3,)]),
    Case("cartesian_prod-three", lambda lib, a, b, c: lib.cartesian_prod(a, b, c), [(2,), (1,), (3,)]),
    Case("cartesian_prod-one", lambda lib, a: lib.cartesian_prod(a), [(3,)]),
    Case("cartesian_prod-ints", lambda lib, a, b: lib.cartesian_prod(a, b), [_ints([1, 2]), _ints([5, 6])]),
    Case("combinations", lambda lib, x: lib.combinations(x), [(4,)]),
    Case("combinations-r", lambda lib, x: lib.combinations(x, r=3), [(5,)]),
    Case("combinations-replacement", lambda lib, x: lib.combinations(x, 2, with_replacement=True), [(3,)]),
    Case("combinations-too-many", lambda lib, x: lib.combinations(x, 4), [(3,)]),
    Case("combinations-zero", lambda lib, x: lib.combinations(x, 0), [(3,)]),
    Case("combinations-ints", lambda lib, x: lib.combinations(x), [_ints([7, 8, 9])]),
    Case("block_diag", lambda lib, a, b: lib.block_diag(a, b), [(2, 3), (2, 2)]),
    Case("block_diag-mixed", lambda lib, a, b, c: lib.block_diag(a, b, c), [(), (2,), (2, 1)]),
    Case("block_diag-promotes", lambda lib, a, b: lib.block_diag(a, b), [(2, 2), _ints([[1, 2]])]),
    Case("block_diag-empty-blocks", lambda lib, a, b: lib.block_diag(a, b), [(0, 2), (2, 0)]),
    Case("block_diag-none", lambda lib: lib.block_diag(), []),
    Case("diagflat", lambda lib, x: lib.diagflat(x), [(2, 2)]),
    Case("diagflat-offset", lambda lib, x: lib.diagflat(x, 2), [(3,)]),
    Case("diagflat-method", lambda lib, x: x.diagflat(-1), [(2, 2)]),
    Case("scalar_tensor", lambda lib: lib.scalar_tensor(2.5), []),
    Case("scalar_tensor-int", lambda lib: lib.scalar_tensor(3, dtype=lib.int64), []),
    Case("scalar_tensor-double", lambda lib: lib.scalar_tensor(1.5, dtype=lib.float64) * 2, []),
]


@pytest.mark.parametrize("case", UNIQUE + SEARCH + COUNTS + ORDER + LAYOUT, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    check(case, dtype)


ERRORS = {
    "unique-dim-range": (lambda lib, x: lib.unique(x, dim=2), [(2, 3)]),
    "unique-zero-size-not-selected": (lambda lib, x: lib.unique(x, dim=0), [(2, 0)]),
    "unique-two-zero-sizes": (lambda lib, x: lib.unique(x, dim=1), [(0, 0)]),
    "unique_consecutive-zero-size": (lambda lib, x: lib.unique_consecutive(x, dim=1), [(0, 3)]),
    "unique_consecutive-dim-range": (lambda lib, x: lib.unique_consecutive(x, dim=-3), [(2, 3)]),
    "searchsorted-batch": (lambda lib, s, v: lib.searchsorted(s, v), [(2, 3), (3, 3)]),
    "searchsorted-opposites": (lambda lib, s, v: lib.searchsorted(s, v, right=True, side="left"), [(3,), (2,)]),
    "searchsorted-bool": (
        lambda lib, s, v: lib.searchsorted(s, v),
        [np.array([False, True]), np.array([True])],
    ),
    "bucketize-2d-boundaries": (lambda lib, x, b: lib.bucketize(x, b), [(3,), (2, 2)]),
    "bincount-negative": (lambda lib, x: lib.bincount(x), [_ints([1, -1])]),
    "bincount-2d": (lambda lib, x: lib.bincount(x), [_ints([[1, 2]])]),
    "bincount-float": (lambda lib, x: lib.bincount(x), [(3,)]),
    "bincount-weights-length": (lambda lib, x, w: lib.bincount(x, w), [_ints([1, 2]), (3,)]),
    "bincount-minlength": (lambda lib, x: lib.bincount(x, minlength=-1), [_ints([1, 2])]),
    "histc-int": (lambda lib, x: lib.histc(x), [_ints([1, 2])]),
    "histc-bins": (lambda lib, x: lib.histc(x, bins=0), [(3,)]),
    "histc-range": (lambda lib, x: lib.histc(x, 3, 1.0, 0.0), [(3,)]),
    "count_nonzero-dim": (lambda lib, x: lib.count_nonzero(x, 2), [(2, 3)]),
    "kthvalue-k": (lambda lib, x: lib.kthvalue(x, 4), [(3,)]),
    "kthvalue-zero": (lambda lib, x: lib.kthvalue(x, 0, 1), [(2, 3)]),
    "kthvalue-dim": (lambda lib, x: lib.kthvalue(x, 1, 2), [(2, 3)]),
    "tile-negative": (lambda lib, x: lib.tile(x, (-1,)), [(2,)]),
    "fliplr-1d": (lambda lib, x: lib.fliplr(x), [(3,)]),
    "flipud-0d": (lambda lib, x: lib.flipud(x), [()]),
    "broadcast_tensors-mismatch": (lambda lib, a, b: lib.broadcast_tensors(a, b), [(3,), (4,)]),
    "broadcast_shapes-mismatch": (lambda lib: _fn(lib, "broadcast_shapes")((2, 3), (4, 3)), []),
    "cartesian_prod-2d": (lambda lib, a, b: lib.cartesian_prod(a, b), [(2, 2), (2,)]),
    "combinations-2d": (lambda lib, x: lib.combinations(x), [(2, 2)]),
    "combinations-negative": (lambda lib, x: lib.combinations(x, -1), [(3,)]),
    "block_diag-3d": (lambda lib, a: lib.block_diag(a), [(2, 2, 2)]),
    "is_nonzero-several": (lambda lib, x: _fn(lib, "is_nonzero")(x), [(2,)]),
    "is_nonzero-empty": (lambda lib, x: x.is_nonzero(), [(0,)]),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    call, inputs = ERRORS[name]
    check_error(call, inputs)


QUERIES = [
    ("is_floating_point", lambda lib, x: _fn(lib, "is_floating_point")(x)),
    ("is_complex", lambda lib, x: _fn(lib, "is_complex")(x)),
    ("is_signed", lambda lib, x: _fn(lib, "is_signed")(x)),
    ("is_signed-method", lambda lib, x: x.is_signed()),
    ("is_conj", lambda lib, x: _fn(lib, "is_conj")(x)),
    ("is_neg", lambda lib, x: _fn(lib, "is_neg")(x)),
    ("is_same_size", lambda lib, x: _fn(lib, "is_same_size")(x, x.reshape(-1))),
    ("is_same_size-method", lambda lib, x: x.is_same_size(x * 2)),
    ("nelement", lambda lib, x: x.nelement()),
    ("ndimension", lambda lib, x: x.ndimension()),
    ("itemsize", lambda lib, x: x.itemsize),
    ("element_size", lambda lib, x: x.element_size()),
    ("is_cpu", lambda lib, x: x.is_cpu),
    ("is_pinned", lambda lib, x: x.is_pinned()),
    ("get_device", lambda lib, x: x.get_device()),
    ("storage_offset", lambda lib, x: x.storage_offset()),
    ("storage_offset-view", lambda lib, x: x.reshape(-1)[1:].storage_offset() if x.numel() > 1 else 0),
    ("resolve", lambda lib, x: _fn(lib, "resolve_neg")(_fn(lib, "resolve_conj")(x)).shape == x.shape),
    ("detach", lambda lib, x: _fn(lib, "detach")(x).requires_grad),
]
TENSORS = {
    "float32": lambda lib: lib.zeros(2, 3),
    "float64": lambda lib: lib.ones(4, dtype=lib.float64),
    "int64": lambda lib: lib.arange(6).reshape(2, 3),
    "uint8": lambda lib: lib.zeros(3, dtype=lib.uint8),
    "int8": lambda lib: lib.zeros(3, dtype=lib.int8),
    "bool": lambda lib: lib.zeros(2, dtype=lib.bool),
    "complex64": lambda lib: lib.zeros(2, dtype=lib.complex64),
    "float16": lambda lib: lib.zeros((), dtype=lib.float16),
}


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q[0])
@pytest.mark.parametrize("kind", TENSORS)
def test_queries(query, kind):
    import torch

    import somegrad as sg

    _, ask = query
    want = ask(torch, TENSORS[kind](torch))
    got = ask(sg, TENSORS[kind](sg))
    assert got == want, f"{query[0]} of {kind}: {got}, PyTorch {want}"


@pytest.mark.parametrize("value", [0.0, 2.0, -1, True, False])
def test_is_nonzero(value):
    import torch

    import somegrad as sg

    for lib in (torch, sg):
        t = lib.tensor([value])
        got = (t.is_nonzero(), _fn(lib, "is_nonzero")(t.reshape(())))
        if lib is torch:
            want = got
    assert got == want


def test_unique_dim_rows_match_pytorch_for_random_integers():
    import torch

    import somegrad as sg

    x = np.random.default_rng(0).integers(0, 3, size=(40, 3))
    want = torch.unique(torch.tensor(x), dim=0, return_inverse=True, return_counts=True)
    got = sg.unique(sg.tensor(x), dim=0, return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_searchsorted_matches_pytorch_on_many_values():
    import torch

    import somegrad as sg

    rng = np.random.default_rng(1)
    seq = np.sort(rng.integers(0, 50, size=200)).astype(np.float64)
    v = rng.integers(-5, 55, size=1000).astype(np.float64)
    for right in (False, True):
        want = torch.searchsorted(torch.tensor(seq), torch.tensor(v), right=right).numpy()
        got = sg.searchsorted(sg.tensor(seq), sg.tensor(v), right=right).numpy()
        np.testing.assert_array_equal(got, want)


def test_kthvalue_trains_a_parameter():
    import somegrad as sg
    from somegrad import nn

    p = nn.Parameter(sg.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, 6.0]]))
    sg.kthvalue(p, 2, dim=1).values.sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [[0, 0, 1], [0, 1, 0]])


@pytest.mark.parametrize(
    "change",
    [
        lambda x: x.squeeze_(),
        lambda x: x.squeeze_(1),
        lambda x: x.unsqueeze_(-1),
        lambda x: x.transpose_(0, 2),
        lambda x: x.swapaxes_(0, 1),
        lambda x: x.swapdims_(2, 1),
        lambda x: x.squeeze_().t_(),
    ],
)
def test_in_place_shape_changes(change):
    import torch

    import somegrad as sg

    host = np.arange(6.0).reshape(2, 1, 3)
    results = []
    for lib in (torch, sg):
        leaf = lib.tensor(host, requires_grad=True)
        y = leaf * 1.5
        out = change(y)
        assert out is y
        weights = lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))
        (y * weights).sum().backward()
        results.append((tuple(y.shape), y.detach().numpy().copy(), leaf.grad.numpy().copy()))
    (ts, tv, tg), (ss, sv, sgrad) = results
    assert ss == ts
    np.testing.assert_allclose(sv, tv)
    np.testing.assert_allclose(sgrad, tg)


@pytest.mark.parametrize("name", ["squeeze_", "t_"])
def test_in_place_shape_change_of_a_leaf_is_refused(name):
    check_error(lambda lib, x: getattr(x.requires_grad_(), name)(), [(2, 1)])
