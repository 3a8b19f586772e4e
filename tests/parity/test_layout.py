"""Parity with PyTorch for the layout ops: diagonals, trace, tril/triu indices, roll, Tensor.unfold,
repeat_interleave, meshgrid, unbind, tensor_split and the directional splits, the stacks,
atleast_nd, movedim/moveaxis, swapaxes/swapdims, flatten/unflatten, rot90, t and select: values and
gradients in float64 and float32, the Tensor methods, and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity


def _grad_of(lib, f, x):
    (g,) = lib.autograd.grad(f(x), x, create_graph=True)
    return g


DIAGONALS = [
    Case("diagonal", lambda lib, x: lib.diagonal(x), [(3, 4)]),
    Case("diagonal-offset", lambda lib, x: lib.diagonal(x, 1), [(3, 4)]),
    Case("diagonal-below", lambda lib, x: lib.diagonal(x, -2), [(4, 3)]),
    Case("diagonal-past", lambda lib, x: lib.diagonal(x, 5), [(3, 4)]),
    Case("diagonal-dims", lambda lib, x: lib.diagonal(x, 1, -1, 0), [(2, 3, 4)]),
    Case("diagonal-batch", lambda lib, x: x.diagonal(0, -2, -1), [(2, 3, 3)]),
    Case("diagonal-method", lambda lib, x: x.diagonal(offset=-1, dim1=2, dim2=0), [(3, 2, 4)]),
    Case("diagonal-transposed", lambda lib, x: x.T.diagonal(), [(4, 3)]),
    Case("diagonal-size0", lambda lib, x: lib.diagonal(x), [(0, 3)]),
    Case("diagonal-double-backward", lambda lib, x: _grad_of(lib, lambda y: (y.diagonal() ** 3).sum(), x), [(3, 3)]),
    Case("diag_embed", lambda lib, x: lib.diag_embed(x), [(2, 3)]),
    Case("diag_embed-offset", lambda lib, x: lib.diag_embed(x, 1), [(2, 3)]),
    Case("diag_embed-dims", lambda lib, x: lib.diag_embed(x, -1, 0, 2), [(2, 3)]),
    Case("diag_embed-method", lambda lib, x: x.diag_embed(offset=2, dim1=-1, dim2=0), [(3, 2)]),
    Case("diag_embed-double-backward", lambda lib, x: _grad_of(lib, lambda y: (y.diag_embed() ** 2).sum(), x), [(3,)]),
    Case("diag-vector", lambda lib, x: lib.diag(x), [(4,)]),
    Case("diag-vector-offset", lambda lib, x: lib.diag(x, -2), [(3,)]),
    Case("diag-matrix", lambda lib, x: lib.diag(x), [(3, 5)]),
    Case("diag-matrix-offset", lambda lib, x: lib.diag(x, 2), [(3, 5)]),
    Case("diag-method", lambda lib, x: x.diag(1), [(4, 4)]),
    Case("diag-empty", lambda lib, x: lib.diag(x, 1), [(0,)]),
    Case("diagonal_scatter", lambda lib, x, s: lib.diagonal_scatter(x, s), [(3, 4), (3,)]),
    Case("diagonal_scatter-offset", lambda lib, x, s: lib.diagonal_scatter(x, s, 1), [(3, 4), (3,)]),
    Case("diagonal_scatter-dims", lambda lib, x, s: x.diagonal_scatter(s, -1, 2, 0), [(2, 3, 4), (3, 2)]),
    Case("fill_diagonal_", lambda lib, x: (x * 1).fill_diagonal_(2.5), [(3, 4)]),
    Case("fill_diagonal_-tall", lambda lib, x: (x * 1).fill_diagonal_(-1.0), [(7, 3)]),
    Case("fill_diagonal_-wrap", lambda lib, x: (x * 1).fill_diagonal_(-1.0, wrap=True), [(7, 3)]),
    Case("fill_diagonal_-cube", lambda lib, x: (x * 1).fill_diagonal_(0.0), [(3, 3, 3)]),
    Case("trace", lambda lib, x: lib.trace(x), [(4, 4)]),
    Case("trace-rectangular", lambda lib, x: lib.trace(x), [(2, 5)]),
    Case("trace-method", lambda lib, x: x.trace(), [(3, 2)]),
    Case("trace-int", lambda lib, x: lib.trace(x), [np.arange(9, dtype=np.int32).reshape(3, 3)]),
    Case("trace-double-backward", lambda lib, x: _grad_of(lib, lambda y: lib.trace(y @ y), x), [(3, 3)]),
]

INDICES = [
    Case("tril_indices", lambda lib: lib.tril_indices(3, 4), []),
    Case("tril_indices-offset", lambda lib: lib.tril_indices(4, 3, 1), []),
    Case("tril_indices-below", lambda lib: lib.tril_indices(4, 4, -2), []),
    Case("tril_indices-int32", lambda lib: lib.tril_indices(3, 3, dtype=lib.int32), []),
    Case("tril_indices-empty", lambda lib: lib.tril_indices(0, 3), []),
    Case("triu_indices", lambda lib: lib.triu_indices(3, 4), []),
    Case("triu_indices-offset", lambda lib: lib.triu_indices(4, 3, -1), []),
    Case("triu_indices-above", lambda lib: lib.triu_indices(3, 5, 2), []),
    Case("triu_indices-past", lambda lib: lib.triu_indices(3, 3, 7), []),
    Case("triu-gather", lambda lib, x: x[tuple(lib.triu_indices(4, 4, 1))], [(4, 4)]),
]

ROLL_UNFOLD = [
    Case("roll", lambda lib, x: lib.roll(x, 2, 1), [(3, 5)]),
    Case("roll-negative", lambda lib, x: lib.roll(x, -1, 0), [(3, 5)]),
    Case("roll-flat", lambda lib, x: lib.roll(x, 4), [(3, 5)]),
    Case("roll-tuple", lambda lib, x: lib.roll(x, (1, -2), (0, -1)), [(3, 4, 5)]),
    Case("roll-list-twice", lambda lib, x: lib.roll(x, [1, 2], [1, 1]), [(2, 5)]),
    Case("roll-past", lambda lib, x: lib.roll(x, 13, 1), [(2, 5)]),
    Case("roll-method", lambda lib, x: x.roll(1, -1), [(2, 3)]),
    Case("roll-empty", lambda lib, x: lib.roll(x, 1, 0), [(0, 3)]),
    Case("roll-0d", lambda lib, x: lib.roll(x, 3), [()]),
    Case("roll-transposed", lambda lib, x: lib.roll(x.T, 1, 0), [(3, 4)]),
    Case("unfold", lambda lib, x: x.unfold(0, 3, 1), [(7,)]),
    Case("unfold-step", lambda lib, x: x.unfold(1, 2, 3), [(2, 8, 3)]),
    Case("unfold-patches", lambda lib, x: x.unfold(2, 2, 2).unfold(3, 2, 2), [(1, 2, 4, 6)]),
    Case("unfold-overlap", lambda lib, x: x.unfold(-1, 4, 2), [(2, 9)]),
    Case("unfold-remainder", lambda lib, x: x.unfold(0, 2, 3), [(7, 2)]),
    Case("unfold-size0", lambda lib, x: x.unfold(0, 0, 1), [(3,)]),
    Case("unfold-0d", lambda lib, x: x.unfold(0, 1, 1), [()]),
    Case("unfold-transposed", lambda lib, x: x.T.unfold(1, 2, 1), [(4, 3)]),
    Case("unfold-double-backward", lambda lib, x: _grad_of(lib, lambda y: (y.unfold(0, 3, 1) ** 2).sum(), x), [(6,)]),
]


def _ints(values):
    return np.array(values, dtype=np.int64)


REPEATS = [
    Case("repeat_interleave", lambda lib, x: lib.repeat_interleave(x, 2), [(2, 3)]),
    Case("repeat_interleave-dim", lambda lib, x: lib.repeat_interleave(x, 3, dim=1), [(2, 3)]),
    Case("repeat_interleave-negdim", lambda lib, x: x.repeat_interleave(2, -2), [(2, 3, 2)]),
    Case("repeat_interleave-tensor", lambda lib, x, r: lib.repeat_interleave(x, r, dim=0), [(3, 2), _ints([1, 0, 2])]),
    Case("repeat_interleave-one", lambda lib, x, r: lib.repeat_interleave(x, r, dim=1), [(2, 3), _ints([2])]),
    Case("repeat_interleave-0d-repeats", lambda lib, x, r: x.repeat_interleave(r), [(2, 3), _ints(3)]),
    Case(
        "repeat_interleave-output-size",
        lambda lib, x, r: lib.repeat_interleave(x, r, dim=0, output_size=4),
        [(3,), _ints([2, 1, 1])],
    ),
    Case("repeat_interleave-counts", lambda lib, r: lib.repeat_interleave(r), [_ints([2, 0, 3, 1])]),
    Case("repeat_interleave-0d", lambda lib, x: lib.repeat_interleave(x, 2), [()]),
    Case("repeat_interleave-zero", lambda lib, x: lib.repeat_interleave(x, 0, dim=0), [(2, 3)]),
]


def _meshgrid(lib, *tensors, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.meshgrid(*tensors, **kwargs)


SPLITS = [
    Case("meshgrid-ij", lambda lib, a, b: lib.meshgrid(a, b, indexing="ij"), [(3,), (4,)]),
    Case("meshgrid-xy", lambda lib, a, b: lib.meshgrid(a, b, indexing="xy"), [(3,), (4,)]),
    Case("meshgrid-three-xy", lambda lib, a, b, c: lib.meshgrid(a, b, c, indexing="xy"), [(2,), (3,), (4,)]),
    Case("meshgrid-list", lambda lib, a, b: lib.meshgrid([a, b], indexing="ij"), [(2,), (3,)]),
    Case("meshgrid-0d", lambda lib, a, b: lib.meshgrid(a, b, indexing="xy"), [(), (3,)]),
    Case("meshgrid-one", lambda lib, a: lib.meshgrid(a, indexing="xy"), [(3,)]),
    Case("meshgrid-default", lambda lib, a, b: _meshgrid(lib, a, b), [(2,), (3,)]),
    Case("unbind", lambda lib, x: lib.unbind(x), [(3, 4)]),
    Case("unbind-dim", lambda lib, x: lib.unbind(x, 1), [(2, 3, 4)]),
    Case("unbind-method", lambda lib, x: x.unbind(-1), [(2, 3)]),
    Case("unbind-empty", lambda lib, x: lib.unbind(x, 0), [(0, 3)]),
    Case("tensor_split-sections", lambda lib, x: lib.tensor_split(x, 3), [(7, 2)]),
    Case("tensor_split-more-sections", lambda lib, x: lib.tensor_split(x, 5, dim=1), [(2, 3)]),
    Case("tensor_split-indices", lambda lib, x: lib.tensor_split(x, [1, 4], dim=1), [(2, 6)]),
    Case("tensor_split-wrapping", lambda lib, x: lib.tensor_split(x, [4, -5, 9]), [(6,)]),
    Case("tensor_split-tuple", lambda lib, x: x.tensor_split((2,), -1), [(3, 5)]),
    Case("tensor_split-sections-keyword", lambda lib, x: lib.tensor_split(x, sections=2, dim=1), [(2, 5)]),
    Case("tensor_split-indices-keyword", lambda lib, x: x.tensor_split(indices=[1, 3]), [(5, 2)]),
    Case("tensor_split-tensor", lambda lib, x, i: lib.tensor_split(x, i), [(5,), _ints([1, 3])]),
    Case("tensor_split-0d-tensor", lambda lib, x, i: lib.tensor_split(x, i), [(5,), _ints(2)]),
    Case("hsplit", lambda lib, x: lib.hsplit(x, 2), [(3, 4)]),
    Case("hsplit-1d", lambda lib, x: lib.hsplit(x, [1, 5]), [(6,)]),
    Case("hsplit-method", lambda lib, x: x.hsplit([1, 5]), [(2, 3)]),
    Case("vsplit", lambda lib, x: lib.vsplit(x, 2), [(4, 3)]),
    Case("vsplit-method", lambda lib, x: x.vsplit([1]), [(4, 3)]),
    Case("dsplit", lambda lib, x: lib.dsplit(x, 3), [(2, 2, 6)]),
    Case("dsplit-method", lambda lib, x: x.dsplit([2, 3]), [(2, 2, 6)]),
    Case("hstack", lambda lib, a, b: lib.hstack([a, b]), [(2, 3), (2, 1)]),
    Case("hstack-1d", lambda lib, a, b: lib.hstack((a, b)), [(2,), (3,)]),
    Case("hstack-0d", lambda lib, a, b: lib.hstack([a, b]), [(), ()]),
    Case("vstack", lambda lib, a, b: lib.vstack([a, b]), [(2, 3), (1, 3)]),
    Case("vstack-1d", lambda lib, a, b: lib.vstack([a, b]), [(3,), (3,)]),
    Case("row_stack", lambda lib, a, b: lib.row_stack([a, b]), [(3,), (2, 3)]),
    Case("dstack", lambda lib, a, b: lib.dstack([a, b]), [(3,), (3,)]),
    Case("dstack-2d", lambda lib, a, b: lib.dstack([a, b]), [(2, 3), (2, 3)]),
    Case("column_stack", lambda lib, a, b, c: lib.column_stack([a, b, c]), [(4,), (4, 2), (4,)]),
    Case("column_stack-0d", lambda lib, a, b: lib.column_stack([a, b]), [(), ()]),
    Case("hstack-promotes", lambda lib, a, b: lib.hstack([a, b]), [(2,), np.array([1, 2], dtype=np.int64)]),
    Case("atleast_1d", lambda lib, x: lib.atleast_1d(x), [()]),
    Case("atleast_2d", lambda lib, x: lib.atleast_2d(x), [(3,)]),
    Case("atleast_3d", lambda lib, x: lib.atleast_3d(x), [(3,)]),
    Case("atleast_3d-2d", lambda lib, x: lib.atleast_3d(x), [(2, 3)]),
    Case("atleast_3d-0d", lambda lib, x: lib.atleast_3d(x), [()]),
    Case("atleast_2d-many", lambda lib, a, b, c: lib.atleast_2d(a, b, c), [(), (3,), (2, 2, 2)]),
    Case("atleast_1d-list", lambda lib, a, b: lib.atleast_1d([a, b]), [(), (2,)]),
]

MOVES = [
    Case("movedim", lambda lib, x: lib.movedim(x, 0, 2), [(2, 3, 4)]),
    Case("movedim-negative", lambda lib, x: lib.movedim(x, -1, 0), [(2, 3, 4)]),
    Case("movedim-tuples", lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    Case("movedim-method", lambda lib, x: x.movedim((0, -1), (-1, 0)), [(2, 3, 4)]),
    Case("moveaxis", lambda lib, x: lib.moveaxis(x, 1, -1), [(2, 3, 4)]),
    Case("moveaxis-method", lambda lib, x: x.moveaxis([0, 1], [1, 2]), [(2, 3, 4)]),
    Case("swapaxes", lambda lib, x: lib.swapaxes(x, 0, 2), [(2, 3, 4)]),
    Case("swapaxes-method", lambda lib, x: x.swapaxes(-1, 0), [(2, 3)]),
    Case("swapdims", lambda lib, x: lib.swapdims(x, 1, 2), [(2, 3, 4)]),
    Case("swapdims-method", lambda lib, x: x.swapdims(0, 1), [(2, 3)]),
    Case("flatten", lambda lib, x: lib.flatten(x), [(2, 3, 4)]),
    Case("flatten-range", lambda lib, x: lib.flatten(x, 1, 2), [(2, 3, 4, 5)]),
    Case("flatten-method", lambda lib, x: x.flatten(start_dim=-2), [(2, 3, 4)]),
    Case("flatten-0d", lambda lib, x: lib.flatten(x), [()]),
    Case("flatten-transposed", lambda lib, x: x.T.flatten(), [(3, 4)]),
    Case("unflatten", lambda lib, x: lib.unflatten(x, 1, (2, 3)), [(4, 6)]),
    Case("unflatten-infer", lambda lib, x: lib.unflatten(x, -1, (-1, 2)), [(4, 6)]),
    Case("unflatten-method", lambda lib, x: x.unflatten(0, (2, 2)), [(4, 3)]),
    # values only: PyTorch gives the skipped (0,) tensor an empty gradient, somegrad none
    Case("cat-skips-1d-empty", lambda lib, a, b: lib.cat([a, b], dim=1), [(0,), (2, 3)], grad=False),
    Case("hstack-empty-first", lambda lib, a, b, c: lib.hstack([a, b, c]), [(0,), (1, 2), (1, 2)], grad=False),
    Case("rot90", lambda lib, x: lib.rot90(x), [(2, 3)]),
    Case("rot90-twice", lambda lib, x: lib.rot90(x, 2), [(2, 3)]),
    Case("rot90-back", lambda lib, x: lib.rot90(x, -1, [1, 2]), [(2, 3, 4)]),
    Case("rot90-four", lambda lib, x: lib.rot90(x, 4), [(2, 3)]),
    Case("rot90-method", lambda lib, x: x.rot90(3, (0, -1)), [(2, 3, 4)]),
    Case("t", lambda lib, x: lib.t(x), [(2, 3)]),
    Case("t-1d", lambda lib, x: lib.t(x), [(3,)]),
    Case("t-method", lambda lib, x: x.t(), [(3, 2)]),
    Case("select", lambda lib, x: lib.select(x, 1, -1), [(2, 3, 4)]),
    Case("select-method", lambda lib, x: x.select(0, 1), [(2, 3)]),
]


@pytest.mark.parametrize("case", DIAGONALS + INDICES + ROLL_UNFOLD + REPEATS + SPLITS + MOVES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    check(case, dtype)


ERRORS = {
    "diag-3d": (lambda lib, x: lib.diag(x), [(2, 2, 2)]),
    "diagonal-same-dims": (lambda lib, x: lib.diagonal(x, 0, 1, 1), [(2, 3)]),
    "diagonal-dim-range": (lambda lib, x: lib.diagonal(x, 0, 0, 2), [(2, 3)]),
    "diag_embed-same-dims": (lambda lib, x: lib.diag_embed(x, 0, 1, 1), [(3,)]),
    "diagonal_scatter-shape": (lambda lib, x, s: lib.diagonal_scatter(x, s, 1), [(3, 4), (2,)]),
    "fill_diagonal_-1d": (lambda lib, x: x.fill_diagonal_(1.0), [(3,)]),
    "fill_diagonal_-unequal": (lambda lib, x: x.fill_diagonal_(1.0), [(3, 3, 2)]),
    "trace-3d": (lambda lib, x: lib.trace(x), [(2, 2, 2)]),
    "trace-1d": (lambda lib, x: lib.trace(x), [(3,)]),
    "trace-bool": (lambda lib, x: lib.trace(x), [np.ones((2, 2), dtype=bool)]),
    "tril_indices-negative": (lambda lib: lib.tril_indices(-1, 3), []),
    "triu_indices-negative": (lambda lib: lib.triu_indices(3, -2), []),
    "tril_indices-float": (lambda lib: lib.tril_indices(3, 3, dtype=lib.float32), []),
    "roll-misaligned": (lambda lib, x: lib.roll(x, (1, 2), 0), [(2, 3)]),
    "roll-no-dims": (lambda lib, x: lib.roll(x, (1, 2)), [(2, 3)]),
    "roll-dim-range": (lambda lib, x: lib.roll(x, 1, 2), [(2, 3)]),
    "unfold-too-big": (lambda lib, x: x.unfold(1, 4, 1), [(2, 3)]),
    "unfold-step0": (lambda lib, x: x.unfold(1, 2, 0), [(2, 3)]),
    "unfold-negative-size": (lambda lib, x: x.unfold(1, -1, 1), [(2, 3)]),
    "repeat_interleave-negative": (lambda lib, x, r: lib.repeat_interleave(x, r), [(3,), _ints([1, -1, 1])]),
    "repeat_interleave-sizes": (lambda lib, x, r: lib.repeat_interleave(x, r), [(3,), _ints([1, 1])]),
    "repeat_interleave-2d-repeats": (lambda lib, x, r: lib.repeat_interleave(x, r), [(3,), _ints([[1]])]),
    "repeat_interleave-output-size": (
        lambda lib, x, r: lib.repeat_interleave(x, r, output_size=2),
        [(3,), _ints([1, 1, 1])],
    ),
    "repeat_interleave-float-repeats": (lambda lib, x, r: lib.repeat_interleave(x, r), [(3,), (3,)]),
    "repeat_interleave-negative-int": (lambda lib, x: lib.repeat_interleave(x, -1), [(3,)]),
    "meshgrid-2d": (lambda lib, a, b: lib.meshgrid(a, b, indexing="ij"), [(2, 3), (3,)]),
    "meshgrid-indexing": (lambda lib, a: lib.meshgrid(a, a, indexing="yx"), [(3,)]),
    "meshgrid-dtypes": (lambda lib, a: lib.meshgrid(a, a.double(), indexing="ij"), [(3,)]),
    "meshgrid-empty": (lambda lib: lib.meshgrid(indexing="ij"), []),
    "unbind-0d": (lambda lib, x: lib.unbind(x), [()]),
    "unbind-dim-range": (lambda lib, x: lib.unbind(x, 2), [(2, 3)]),
    "tensor_split-0d": (lambda lib, x: lib.tensor_split(x, 2), [()]),
    "tensor_split-zero-sections": (lambda lib, x: lib.tensor_split(x, 0), [(4,)]),
    "hsplit-indivisible": (lambda lib, x: lib.hsplit(x, 2), [(2, 3)]),
    "hsplit-0d": (lambda lib, x: lib.hsplit(x, 1), [()]),
    "vsplit-1d": (lambda lib, x: lib.vsplit(x, 1), [(4,)]),
    "dsplit-2d": (lambda lib, x: lib.dsplit(x, 1), [(2, 3)]),
    "vstack-sizes": (lambda lib, a, b: lib.vstack([a, b]), [(2, 3), (2, 4)]),
    "column_stack-rows": (lambda lib, a, b: lib.column_stack([a, b]), [(3,), (4,)]),
    "movedim-repeated": (lambda lib, x: lib.movedim(x, (0, 0), (1, 2)), [(2, 3, 4)]),
    "movedim-lengths": (lambda lib, x: lib.movedim(x, (0, 1), (1,)), [(2, 3, 4)]),
    "movedim-range": (lambda lib, x: lib.movedim(x, 3, 0), [(2, 3, 4)]),
    "swapaxes-range": (lambda lib, x: lib.swapaxes(x, 0, 2), [(2, 3)]),
    "unflatten-sizes": (lambda lib, x: lib.unflatten(x, 1, (4, 2)), [(2, 6)]),
    "unflatten-0d": (lambda lib, x: lib.unflatten(x, 0, (1,)), [()]),
    "unflatten-empty-sizes": (lambda lib, x: lib.unflatten(x, 1, ()), [(2, 4)]),
    "unflatten-two-inferred": (lambda lib, x: lib.unflatten(x, 1, (-1, -1)), [(2, 4)]),
    "unflatten-inferred-misfit": (lambda lib, x: lib.unflatten(x, 1, (-1, 3)), [(2, 4)]),
    "flatten-order": (lambda lib, x: lib.flatten(x, 2, 1), [(2, 3, 4)]),
    "rot90-one-dim": (lambda lib, x: lib.rot90(x, 1, [0]), [(2, 3)]),
    "rot90-same-dims": (lambda lib, x: lib.rot90(x, 1, [0, 0]), [(2, 3)]),
    "rot90-1d": (lambda lib, x: lib.rot90(x, 1, [0, 1]), [(3,)]),
    "t-3d": (lambda lib, x: lib.t(x), [(2, 3, 4)]),
    "select-range": (lambda lib, x: lib.select(x, 0, 2), [(2, 3)]),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    call, inputs = ERRORS[name]
    check_error(call, inputs)


def test_meshgrid_warns_without_indexing():
    import somegrad as sg

    with pytest.warns(UserWarning, match="indexing"):
        sg.meshgrid(sg.ones(2), sg.ones(3))


def test_diagonal_is_a_view_like_pytorch():
    import torch

    import somegrad as sg

    for lib in (torch, sg):
        x = lib.zeros(3, 4)
        x.diagonal(1).fill_(2.0)
        x.diagonal().add_(1.0)
        if lib is torch:
            want = x.numpy()
        else:
            np.testing.assert_array_equal(x.numpy(), want)
