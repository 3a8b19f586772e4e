"""The layout ops, products and einsum beyond their samples: which results are views, what each
lowers to (one matmul per contraction, no per-element work), gradients through nn.Parameter and a
small model, and second derivatives."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest

import somegrad as sg
from somegrad.ops.dispatch import DispatchMode


class OpCounter(DispatchMode):
    """Counts the ops dispatched while active, by name."""

    def __init__(self):
        self.counts = Counter()

    def apply(self, spec, inputs, params, proceed):
        self.counts[spec.name] += 1
        return proceed(spec, inputs, params)


def arange(*shape):
    return sg.arange(int(np.prod(shape)), dtype=sg.float64).reshape(shape)


# --- views ---------------------------------------------------------------------------------------
def test_diagonal_is_a_view_of_a_contiguous_input():
    x = sg.zeros(3, 4)
    d = x.diagonal(1)
    assert np.shares_memory(d.numpy(), x.numpy())
    d.fill_(2.0)
    x.diagonal().add_(1.0)
    np.testing.assert_array_equal(x.numpy(), np.eye(3, 4) + 2 * np.eye(3, 4, 1))


def test_diagonal_of_a_batch_with_other_dims_is_a_view_too():
    x = arange(2, 3, 3)
    d = sg.diagonal(x, 0, -2, -1)
    assert np.shares_memory(d.numpy(), x.numpy())
    np.testing.assert_array_equal(d.numpy(), np.diagonal(x.numpy(), 0, -2, -1))


def test_diagonal_of_a_layout_that_does_not_flatten_is_a_correct_copy():
    base = arange(4, 5, 6)
    x = base[:, ::2, 1:]  # the matrix dims (1, 2) cannot merge into one strided dim
    d = sg.diagonal(x, 1, 1, 2)
    np.testing.assert_array_equal(d.numpy(), np.diagonal(x.numpy(), 1, 1, 2))


def test_a_diagonal_saved_for_backward_sees_in_place_changes_of_its_base():
    w = sg.ones(3, 3, requires_grad=True)
    x = w * 1.0
    d = x.diagonal()
    y = (d * d).sum()
    with sg.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        y.backward()


def test_non_overlapping_unfold_is_a_view():
    x = arange(2, 8)
    windows = x.unfold(1, 2, 2)
    assert windows.shape == (2, 4, 2)
    assert np.shares_memory(windows.numpy(), x.numpy())


def test_splits_and_grids_are_views():
    x = arange(4, 6)
    for piece in (*x.unbind(0), *sg.tensor_split(x, 3, dim=1), *sg.hsplit(x, [2, 3]), x.select(1, 2), x.t()):
        assert np.shares_memory(piece.numpy(), x.numpy())
    a, b = sg.arange(3.0), sg.arange(4.0)
    ga, gb = sg.meshgrid(a, b, indexing="ij")
    assert np.shares_memory(ga.numpy(), a.numpy()) and np.shares_memory(gb.numpy(), b.numpy())


# --- what the ops lower to ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "equation, shapes, matmuls",
    [
        ("ij,jk->ik", [(30, 40), (40, 20)], 1),
        ("bhqd,bhkd->bhqk", [(2, 4, 16, 8), (2, 4, 16, 8)], 1),
        ("bi,oij,bj->bo", [(5, 6), (3, 6, 7), (5, 7)], 2),
        ("ij,jk,kl,lm->im", [(2, 3), (3, 4), (4, 5), (5, 6)], 3),
        ("ij,ij->ij", [(30, 40), (30, 40)], 0),  # nothing summed: a broadcast product, no BLAS call
        ("ii->", [(50, 50)], 0),
    ],
)
def test_einsum_is_one_matmul_per_contraction(equation, shapes, matmuls):
    operands = [sg.tensor(np.random.default_rng(0).standard_normal(s)) for s in shapes]
    counter = OpCounter()
    with counter:
        out = sg.einsum(equation, *operands)
    np.testing.assert_allclose(out.numpy(), np.einsum(equation, *[o.numpy() for o in operands]), rtol=1e-10)
    assert counter.counts["matmul"] == matmuls
    # a handful of layout ops per operand, never one per element
    assert sum(counter.counts.values()) < 12 * len(shapes)


def test_addbmm_reduces_the_batch_inside_one_matmul():
    counter = OpCounter()
    with counter:
        out = sg.addbmm(sg.zeros(3, 5, dtype=sg.float64), arange(7, 3, 2), arange(7, 2, 5))
    np.testing.assert_allclose(out.numpy(), np.matmul(arange(7, 3, 2).numpy(), arange(7, 2, 5).numpy()).sum(0))
    assert counter.counts["matmul"] == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.diagonal(),
        lambda x: sg.diag_embed(x[0]),
        lambda x: sg.roll(x, (1, 2), (0, 1)),
        lambda x: x.unfold(1, 3, 1),
        lambda x: sg.repeat_interleave(x, 3, dim=0),
        lambda x: sg.repeat_interleave(x, sg.tensor([1, 2] * 32), dim=1),
        lambda x: sg.trace(x),
    ],
)
def test_layout_ops_take_a_few_ops_whatever_the_size(call):
    x = arange(64, 64)
    counter = OpCounter()
    with counter:
        call(x)
    assert sum(counter.counts.values()) < 16


# --- gradients ---------------------------------------------------------------------------------
def test_einsum_trains_a_bilinear_form_of_parameters():
    from somegrad import nn

    rng = np.random.default_rng(1)
    w = nn.Parameter(sg.tensor(rng.standard_normal((3, 4, 5))))
    x, y = sg.tensor(rng.standard_normal((6, 4))), sg.tensor(rng.standard_normal((6, 5)))
    out = sg.einsum("bi,oij,bj->bo", x, w, y)
    out.square().sum().backward()
    expected = np.einsum("bi,oij,bj->bo", x.numpy(), w.detach().numpy(), y.numpy())
    grad = np.einsum("bo,bi,bj->oij", 2 * expected, x.numpy(), y.numpy())
    np.testing.assert_allclose(w.grad.numpy(), grad, rtol=1e-10)


def test_products_in_a_model_match_linear():
    from somegrad import nn

    layer = nn.Linear(4, 3).double()
    x = sg.tensor(np.random.default_rng(2).standard_normal((5, 4)))
    by_addmm = sg.addmm(layer.bias, x, layer.weight.t())
    np.testing.assert_allclose(by_addmm.detach().numpy(), layer(x).detach().numpy(), rtol=1e-12)
    by_addmm.sum().backward()
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(3, 5.0))
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.tile(x.numpy().sum(0), (3, 1)), rtol=1e-12)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: (sg.einsum("ij,jk->ik", x, x) ** 2).sum(),
        lambda x: (sg.diagonal(x, 1) ** 3).sum(),
        lambda x: (sg.diag_embed(x[0]) ** 3).sum(),
        lambda x: sg.trace(x @ x @ x),
        lambda x: (x.unfold(0, 2, 1) ** 3).sum(),
        lambda x: (sg.mm(x, x.t()) ** 2).sum(),
        lambda x: sg.dot(x[0], x[1]) ** 2,
    ],
)
def test_second_derivatives_match_finite_differences(fn):
    x = sg.tensor(np.random.default_rng(3).standard_normal((3, 3)), requires_grad=True)
    v = np.random.default_rng(4).standard_normal((3, 3))
    (g,) = sg.autograd.grad(fn(x), x, create_graph=True)
    (hv,) = sg.autograd.grad((g * sg.tensor(v)).sum(), x)

    def gradient_at(a):
        t = sg.tensor(a, requires_grad=True)
        (grad,) = sg.autograd.grad(fn(t), t)
        return grad.numpy()

    eps = 1e-6
    numeric = (gradient_at(x.detach().numpy() + eps * v) - gradient_at(x.detach().numpy() - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), numeric, rtol=1e-5, atol=1e-7)


# --- surface --------------------------------------------------------------------------------------
def test_aliases_are_the_same_functions():
    assert sg.moveaxis is sg.movedim and sg.swapaxes is sg.transpose and sg.swapdims is sg.transpose
    assert sg.ger is sg.outer and sg.row_stack is sg.vstack
    x = arange(2, 3, 4)
    assert x.moveaxis(0, -1).shape == x.movedim(0, -1).shape == (3, 4, 2)
    assert x.swapaxes(0, 2).shape == x.swapdims(0, 2).shape == (4, 3, 2)


def test_meshgrid_warns_only_without_indexing():
    with pytest.warns(UserWarning, match="indexing argument"):
        sg.meshgrid(sg.ones(2), sg.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.meshgrid(sg.ones(2), sg.ones(3), indexing="xy")


def test_errors_name_the_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"mm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        sg.mm(sg.ones(2, 3), sg.ones(4, 5))
    with pytest.raises(RuntimeError, match=r"dot: 1D tensors expected, but got 2D and 1D"):
        sg.dot(sg.ones(2, 3), sg.ones(3))
    with pytest.raises(RuntimeError, match=r"addmm: input of shape \(3,\) cannot be expanded to the shape \(2, 2\)"):
        sg.addmm(sg.ones(3), sg.ones(2, 3), sg.ones(3, 2))
    with pytest.raises(RuntimeError, match="einsum\\(\\): subscript j has size 4 for operand 1"):
        sg.einsum("ij,jk", sg.ones(2, 3), sg.ones(4, 5))
    with pytest.raises(RuntimeError, match="unfold: maximum size for tensor at dimension 0 is 3 but size is 5"):
        sg.ones(3).unfold(0, 5, 1)
