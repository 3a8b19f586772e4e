"""The arithmetic of the recurrent layers: one step of each cell, and one layer run over time.

A layer projects the inputs of every time step in one matmul before its loop (`gi`, rows of
(steps * batch, gates)); a step then adds only the hidden state's matmul and applies the gates,
with PyTorch's gate order and formulas:

    RNN:   h' = act(gi + h W_hh^T)                      (b_ih + b_hh folded into gi)
    LSTM:  i, f, g, o = gi + h W_hh^T                   (b_ih + b_hh folded into gi)
           c' = sigmoid(f) c + sigmoid(i) tanh(g);  h' = sigmoid(o) tanh(c')  [h' W_hr^T with proj_size]
    GRU:   r, z, n_i = gi;  r_h, z_h, n_h = h W_hh^T + b_hh
           r = sigmoid(r + r_h);  z = sigmoid(z + z_h);  n = tanh(n_i + r n_h);  h' = (1 - z) n + z h

Gradients are autograd's, through these ops.
"""

from __future__ import annotations

import somegrad as sg
from somegrad.nn import functional as F
from somegrad.ops.nn import lstm_cell

__all__ = ["make_step", "project_inputs", "run_layer", "time_steps"]


def _activation(nonlinearity: str):
    return F.relu if nonlinearity == "relu" else F.tanh


def make_step(mode: str, w_hh, b_hh=None, w_hr=None):
    """The step function `step(gi_t, state) -> state` of one layer and direction.

    `state` is (h,) or, for the LSTM, (h, c); each (batch, hidden). `gi_t` is the step's input
    projection, with the biases folded in as `project_inputs` does for `mode`."""
    # h @ W_hh^T as one matmul a step, against the transpose taken once (F.linear would
    # reshape and transpose on every step).
    w_hh_t = w_hh.mT
    if mode == "LSTM":

        def lstm_step(gi_t, state):
            h, c = state
            # one node for the gates' arithmetic (ops/nn/recurrent.py): h' and c' packed side by side
            hidden = c.shape[1]
            packed = lstm_cell(gi_t + h @ w_hh_t, c)
            h, c = packed[:, :hidden], packed[:, hidden:]
            return (h if w_hr is None else F.linear(h, w_hr), c)

        return lstm_step
    if mode == "GRU":

        def gru_step(gi_t, state):
            (h,) = state
            i_r, i_z, i_n = gi_t.chunk(3, 1)
            h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, 1)
            r = (i_r + h_r).sigmoid()
            z = (i_z + h_z).sigmoid()
            n = (i_n + r * h_n).tanh()
            return (n + z * (h - n),)

        return gru_step
    activation = _activation("relu" if mode == "RNN_RELU" else "tanh")

    def rnn_step(gi_t, state):
        return (activation(gi_t + state[0] @ w_hh_t),)

    return rnn_step


def project_inputs(mode: str, x, w_ih, b_ih=None, b_hh=None):
    """x (rows, input_size) -> gi (rows, gates): x W_ih^T + b_ih, plus b_hh except for the GRU
    (whose b_hn sits inside r * (...) and so stays in the step)."""
    bias = b_ih
    if mode != "GRU" and b_hh is not None:
        bias = b_hh if bias is None else bias + b_hh
    return F.linear(x, w_ih, bias)


def time_steps(gi, batch_sizes: list[int]) -> list:
    """The rows of `gi` cut into one piece per time step (batch_sizes[t] rows each).

    The backward adds each piece's gradient into one buffer of gi's size where the piece
    belongs (the engine's BoxGradient), so the T pieces cost the rows they hold, not T times
    gi's size."""
    return list(gi.split(batch_sizes, 0))


def run_layer(step, gi, batch_sizes: list[int], state: tuple, reverse: bool = False):
    """Run one layer and direction over time.

    gi: (sum(batch_sizes), gates), the step inputs one step after another; batch_sizes: the
    rows of each step, non-increasing (a padded batch has them all equal; a packed one drops
    the sequences that have ended); state: the initial (h,) or (h, c), each (batch_sizes[0], *).
    Returns (output (sum(batch_sizes), hidden_out), final state) where a sequence's final state
    is the one after its own last step (its first, for `reverse`)."""
    pieces = time_steps(gi, batch_sizes)
    outputs = []
    if not reverse:
        ended = []  # the final states of sequences that stop before the longest
        for piece, rows in zip(pieces, batch_sizes):
            if rows < state[0].shape[0]:
                ended.append(tuple(s[rows:] for s in state))
                state = tuple(s[:rows] for s in state)
            state = step(piece, state)
            outputs.append(state[0])
        if ended:
            state = tuple(sg.cat([s, *(e[k] for e in reversed(ended))], 0) for k, s in enumerate(state))
    else:
        initial = state
        state = tuple(s[: batch_sizes[-1]] for s in initial) if batch_sizes[-1] < initial[0].shape[0] else initial
        for piece, rows in zip(reversed(pieces), reversed(batch_sizes)):
            if rows > state[0].shape[0]:  # sequences that start (end, in time) here join
                state = tuple(sg.cat([s, i[s.shape[0] : rows]], 0) for s, i in zip(state, initial))
            state = step(piece, state)
            outputs.append(state[0])
        outputs.reverse()
    return sg.cat(outputs, 0), state
