"""The gradients of boxes (x[i], slices, split, chunk, narrow) are summed into one buffer.

A getitem's backward hands the engine a BoxGradient, the piece unpadded; the engine adds the
pieces that reach one tensor into a single buffer of its own, in place. These tests check the
values (against finite differences, in float64), that no tensor the engine does not own is
written into, that create_graph still gives a differentiable gradient, and that a split into T
pieces pads once instead of T times.
"""

import numpy as np
import pytest
from gradient_checks import check_gradients

import somegrad as sg
from somegrad import nn


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: sum(piece * (i + 1) for i, piece in enumerate(x.split(1, 0))).sum(0),  # every row
        lambda x: x[0:3] * x[2:5],  # overlapping boxes of one tensor
        lambda x: x.chunk(2, 1)[0] + x[:, 1:3] + x[1, :2],  # slices, an int, and broadcasting back
        lambda x: (x * 2)[1:4].sum() + (x * 2).sum(),  # boxes and a whole gradient into one node
        lambda x: sg.stack([x[i] * x[i + 1] for i in range(4)]),  # each row in two products
        lambda x: x.narrow(1, 1, 2).tanh() + x[:, :2].sigmoid(),
    ],
)
def test_box_gradients_against_finite_differences(fn):
    check_gradients(fn, np.random.default_rng(0).standard_normal((5, 4)))


def test_a_gradient_shared_with_another_input_is_not_written_into():
    # AddBackward hands the same gradient to h and to the leaf v; the box for h must be added
    # into a copy, not into that tensor, which becomes v's .grad
    w = sg.ones(4, requires_grad=True)
    v = sg.ones(4, requires_grad=True)
    h = w * 2
    ((h + v).sum() + (h[1:3] * 5).sum()).backward()
    assert v.grad.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert w.grad.tolist() == [2.0, 12.0, 12.0, 2.0]


def test_the_caller_gradient_is_not_written_into():
    x = sg.randn(3, 4, requires_grad=True)
    y = x * 1
    pieces = y.split(1, 0)
    seed = sg.ones(1, 4)
    before = seed.clone()
    sg.autograd.backward([pieces[0], pieces[1], pieces[0]], [seed, seed, seed])
    assert bool((seed == before).all())
    assert x.grad.tolist() == [[2.0] * 4, [1.0] * 4, [0.0] * 4]


def test_create_graph_through_boxes_is_differentiable():
    x = sg.tensor([1.0, 2.0, 3.0], dtype=sg.float64, requires_grad=True)
    y = (x[:2] ** 3).sum() + (x[1:] ** 2).sum()
    (g,) = sg.autograd.grad(y, [x], create_graph=True)
    assert g.tolist() == [3.0, 12.0 + 4.0, 6.0]
    (gg,) = sg.autograd.grad(g.sum(), [x])
    assert gg.tolist() == [6.0, 12.0 + 2.0, 2.0]


def test_a_split_into_many_pieces_pads_once():
    x = sg.randn(64, 8, requires_grad=True)
    h = x * 1
    with sg.profiler.profile() as prof:
        sum(piece.sum() * i for i, piece in enumerate(h.split(1, 0))).backward()
    pads = [a for a in prof.key_averages() if a.key == "pad"]
    assert sum(a.count for a in pads) == 1  # the first piece; the other 63 are added in place
    np.testing.assert_array_equal(x.grad.numpy(), np.repeat(np.arange(64.0)[:, None], 8, 1))


def test_an_lstm_trains_the_same_with_boxes_and_with_padding():
    # the recurrent layers cut their inputs and states into one box per time step
    sg.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    x = sg.randn(2, 7, 3)
    out, _ = lstm(x)
    out.sum().backward()
    grads = [p.grad.clone() for p in lstm.parameters()]
    lstm.zero_grad()
    with sg.enable_grad():
        out, _ = lstm(x)
        params = list(lstm.parameters())
        # through autograd.grad with create_graph, every getitem pads (no boxes)
        padded = sg.autograd.grad(out.sum(), params, create_graph=True)
    for a, b in zip(grads, padded):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
