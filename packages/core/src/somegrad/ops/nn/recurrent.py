"""The LSTM cell's gate arithmetic as one node: `lstm_cell(gates, c) -> [h' | c']`.

    gates: (N, 4H), the pre-activations i, f, g, o (PyTorch's order);  c: (N, H)
    c' = sigmoid(f) c + sigmoid(i) tanh(g);  h' = sigmoid(o) tanh(c')  ->  (N, 2H), h' then c'

Written as Tensor ops the cell is a chunk, four activations and four products, and the chunk's
backward pads each quarter back to the full width: one node with the closed-form backward does
a time step's elementwise work in a few array operations instead.
"""

from __future__ import annotations

from somegrad.errors import ShapeError
from somegrad.ops.dispatch import apply, backward_op
from somegrad.ops.movement import cat
from somegrad.ops.nn.composite import composite
from somegrad.ops.spec import public

__all__ = ["lstm_cell"]


def _lstm_cell_infer(gates, c):
    if gates.ndim != 2 or c.ndim != 2 or gates.shape[1] != 4 * c.shape[1] or gates.shape[0] != c.shape[0]:
        raise ShapeError(
            f"lstm_cell: expected gates (N, 4H) and c (N, H), got {tuple(gates.shape)} and {tuple(c.shape)}"
        )
    if gates.dtype is not c.dtype:
        raise RuntimeError(f"lstm_cell: gates are {gates.dtype.name} but c is {c.dtype.name}")
    return (c.shape[0], 2 * c.shape[1]), c.dtype


def _quarters(gates):
    hidden = gates.shape[1] // 4
    return [gates[:, k * hidden : (k + 1) * hidden] for k in range(4)]


def _lstm_cell(gates, c):
    i, f, g, o = _quarters(gates)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return cat([o.sigmoid() * c_next.tanh(), c_next], 1)


def _lstm_cell_grads(g, gates, c, out):
    hidden = c.shape[1]
    i, f, gg, o = _quarters(gates)
    si, sf, so, tg = i.sigmoid(), f.sigmoid(), o.sigmoid(), gg.tanh()
    tc = out[:, hidden:].tanh()
    dh, dc = g[:, :hidden], g[:, hidden:]
    dc = dc + dh * so * (1 - tc * tc)
    d_gates = cat(
        [dc * tg * si * (1 - si), dc * c * sf * (1 - sf), dc * si * (1 - tg * tg), dh * tc * so * (1 - so)], 1
    )
    return d_gates, dc * sf


def _lstm_cell_backward_infer(g, gates, c, out):
    if g.shape != out.shape or g.dtype is not out.dtype:
        raise ShapeError(
            f"lstm_cell_backward: gradient of shape {tuple(g.shape)} and dtype {g.dtype.name} for an output of "
            f"shape {tuple(out.shape)} and dtype {out.dtype.name}"
        )
    return (gates.shape, gates.dtype), (c.shape, c.dtype)


LSTM_CELL_BACKWARD = composite(
    "lstm_cell_backward",
    ("g", "gates", "c", "out"),
    _lstm_cell_backward_infer,
    None,
    _lstm_cell_grads,
    doc="The gradients of lstm_cell for the gates and the cell state, in one call (two outputs).",
    outputs=2,
)


def _lstm_cell_backward(g, gates, c, out):
    return backward_op(LSTM_CELL_BACKWARD, (g, gates, c, out), {}, _lstm_cell_grads)


LSTM_CELL = composite(
    "lstm_cell",
    ("gates", "c"),
    _lstm_cell_infer,
    _lstm_cell_backward,
    _lstm_cell,
    doc="An LSTM time step's gates: (N, 4H) pre-activations and (N, H) cell -> (N, 2H) [h' | c'].",
)


@public(LSTM_CELL, export=False)
def lstm_cell(gates, c):
    """The new hidden and cell states, packed: gates (N, 4H) in PyTorch's i, f, g, o order and
    c (N, H) -> (N, 2H), h' in the first H columns and c' in the last H."""
    return apply(LSTM_CELL, (gates, c), {})
