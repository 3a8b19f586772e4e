"""Recurrent layers against NumPy references of PyTorch's formulas; packed sequences against
running each sequence alone; gradients by finite differences; training a real model."""

import math

import numpy as np
import pytest
from nn_testing import array, assert_close, gradcheck, t64, value

import somegrad as sg
from somegrad import nn, optim
from somegrad.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference(mode, x, params, h, c=None):
    """One layer, one direction, in NumPy: x (L, N, I) -> (outputs (L, N, H), h, c)."""
    w_ih, w_hh, b_ih, b_hh = (value(p) for p in params)
    outputs = []
    for x_t in x:
        gi, gh = x_t @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if mode == "LSTM":
            i, f, g, o = np.split(gi + gh, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        elif mode == "GRU":
            i_r, i_z, i_n = np.split(gi, 3, axis=1)
            h_r, h_z, h_n = np.split(gh, 3, axis=1)
            r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
            n = np.tanh(i_n + r * h_n)
            h = (1 - z) * n + z * h
        elif mode == "relu":
            h = np.maximum(gi + gh, 0)
        else:
            h = np.tanh(gi + gh)
        outputs.append(h)
    return np.stack(outputs), h, c


def layer_params(module, suffix="_l0"):
    return [getattr(module, f"{kind}{suffix}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "tanh", "relu"])
def test_one_layer_matches_the_formulas(mode):
    if mode in ("tanh", "relu"):
        module = nn.RNN(3, 5, nonlinearity=mode).double()
    else:
        module = getattr(nn, mode)(3, 5).double()
    x, h0, c0 = array(6, 2, 3), array(1, 2, 5), array(1, 2, 5)
    hx = (t64(h0), t64(c0)) if mode == "LSTM" else t64(h0)
    out, state = module(t64(x), hx)
    expected, h, c = reference(mode, x, layer_params(module), h0[0], c0[0])
    assert_close(out, expected)
    if mode == "LSTM":
        assert_close(state[0], h[None])
        assert_close(state[1], c[None])
    else:
        assert_close(state, h[None])


def test_bidirectional_two_layers_match_the_formulas():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    x = array(5, 2, 3)
    out, (h_n, c_n) = lstm(t64(x))
    zeros = np.zeros((2, 4))
    forward, hf, cf = reference("LSTM", x, layer_params(lstm), zeros, zeros)
    backward, hb, cb = reference("LSTM", x[::-1], layer_params(lstm, "_l0_reverse"), zeros, zeros)
    first = np.concatenate([forward, backward[::-1]], axis=-1)
    forward, hf1, cf1 = reference("LSTM", first, layer_params(lstm, "_l1"), zeros, zeros)
    backward, hb1, cb1 = reference("LSTM", first[::-1], layer_params(lstm, "_l1_reverse"), zeros, zeros)
    assert_close(out, np.concatenate([forward, backward[::-1]], axis=-1))
    assert_close(h_n, np.stack([hf, hb, hf1, hb1]))  # layer-major, forward then reverse
    assert_close(c_n, np.stack([cf, cb, cf1, cb1]))


def test_shapes_batch_first_unbatched_and_projections():
    lstm = nn.LSTM(3, 6, num_layers=2, batch_first=True, bidirectional=True, proj_size=2)
    out, (h, c) = lstm(sg.randn(4, 7, 3))
    assert out.shape == (4, 7, 4) and h.shape == (4, 4, 2) and c.shape == (4, 4, 6)
    assert lstm.weight_hr_l0.shape == (2, 6) and lstm.weight_ih_l1.shape == (24, 4)
    gru = nn.GRU(3, 6)
    out, h = gru(sg.randn(7, 3))  # unbatched (L, H_in)
    assert out.shape == (7, 6) and h.shape == (1, 6)
    batched, h_b = gru(sg.randn(7, 3).unsqueeze(1))
    assert batched.shape == (7, 1, 6) and h_b.shape == (1, 1, 6)


def test_unbatched_equals_a_batch_of_one():
    gru = nn.GRU(3, 4, num_layers=2).double()
    x, h0 = t64(array(5, 3)), t64(array(2, 4))
    out, h = gru(x, h0)
    out_b, h_b = gru(x.unsqueeze(1), h0.unsqueeze(1))
    assert_close(out, value(out_b)[:, 0])
    assert_close(h, value(h_b)[:, 0])


def test_state_dict_names_and_initialisation():
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True, proj_size=5)
    names = [name for name, _ in lstm.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert names[5] == "weight_ih_l0_reverse" and names[-1] == "weight_hr_l1_reverse" and len(names) == 20
    bound = 1 / math.sqrt(20)
    for p in lstm.parameters():
        assert np.abs(value(p)).max() <= bound and value(p).std() > bound / 3
    assert [n for n, _ in nn.GRU(3, 4, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert [n for n, _ in nn.LSTMCell(3, 4).named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert len(lstm.all_weights) == 4 and lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse
    assert repr(nn.LSTM(3, 4, 2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"


def test_cells_equal_one_step_of_the_layers():
    for cell_type, layer_type in ((nn.LSTMCell, nn.LSTM), (nn.GRUCell, nn.GRU), (nn.RNNCell, nn.RNN)):
        cell, layer = cell_type(3, 4).double(), layer_type(3, 4).double()
        layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
        x, h = t64(array(2, 3)), t64(array(2, 4))
        if cell_type is nn.LSTMCell:
            c = t64(array(2, 4))
            h1, c1 = cell(x, (h, c))
            _, (h2, c2) = layer(x.unsqueeze(0), (h.unsqueeze(0), c.unsqueeze(0)))
            assert_close(c1, value(c2)[0])
        else:
            h1 = cell(x, h)
            _, h2 = layer(x.unsqueeze(0), h.unsqueeze(0))
        assert_close(h1, value(h2)[0])
    assert nn.GRUCell(3, 4)(sg.randn(3)).shape == (4,)
    h, c = nn.LSTMCell(3, 4)(sg.randn(5, 3))
    assert h.shape == c.shape == (5, 4)


def test_dropout_between_layers_only_in_training():
    sg.manual_seed(0)
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5).double()
    x = t64(array(4, 2, 3))
    train_a, train_b = value(lstm(x)[0]), value(lstm(x)[0])
    assert not np.allclose(train_a, train_b)
    lstm.eval()
    assert_close(lstm(x)[0], value(lstm(x)[0]))
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_sequences_equal_each_sequence_run_alone(bidirectional):
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=bidirectional).double()
    lengths = [2, 5, 3]
    sequences = [t64(array(n, 3)) for n in lengths]
    packed = pack_sequence(sequences, enforce_sorted=False)
    assert isinstance(packed, PackedSequence)
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    out, (h_n, c_n) = lstm(packed)
    assert isinstance(out, PackedSequence)
    padded, out_lengths = pad_packed_sequence(out, batch_first=True)
    assert out_lengths.tolist() == lengths and padded.shape == (3, 5, 8 if bidirectional else 4)
    for b, (seq, n) in enumerate(zip(sequences, lengths)):
        alone, (h, c) = lstm(seq)
        assert_close(padded[b, :n], value(alone))
        assert not value(padded[b, n:]).any()
        assert_close(h_n[:, b], value(h))
        assert_close(c_n[:, b], value(c))


def test_packed_gradients_reach_only_the_real_steps():
    gru = nn.GRU(2, 3).double()
    x = t64(array(4, 2, 2))
    out, h = gru(pack_padded_sequence(x, [4, 2]))
    (pad_packed_sequence(out)[0].sum() + h.sum()).backward()
    grad = value(x.grad)
    assert grad[:, 0].any() and grad[:2, 1].any()
    assert not grad[2:, 1].any()  # padding


def test_pad_and_pack_helpers():
    a, b = sg.tensor([[1.0], [2.0], [3.0]]), sg.tensor([[4.0]])
    assert value(pad_sequence([a, b], padding_value=-1)).tolist() == [[[1.0], [4.0]], [[2.0], [-1.0]], [[3.0], [-1.0]]]
    left = pad_sequence([a, b], batch_first=True, padding_side="left")
    assert value(left)[:, :, 0].tolist() == [[1.0, 2.0, 3.0], [0.0, 0.0, 4.0]]
    packed = pack_sequence([b, a], enforce_sorted=False)
    assert value(packed.data)[:, 0].tolist() == [1.0, 4.0, 2.0, 3.0]
    assert packed.sorted_indices.tolist() == [1, 0] and packed.unsorted_indices.tolist() == [1, 0]
    assert [value(s).tolist() for s in unpack_sequence(packed)] == [value(b).tolist(), value(a).tolist()]
    padded, lengths = pad_packed_sequence(packed, total_length=5)
    assert padded.shape == (5, 2, 1) and lengths.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(sg.zeros(3, 2), [1, 3])
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(packed, total_length=2)
    assert packed.double().data.dtype is sg.float64 and packed.to(sg.float64).batch_sizes is packed.batch_sizes


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2),
        lambda: nn.GRU(2, 3, batch_first=True),
        lambda: nn.RNN(2, 3, nonlinearity="relu"),
    ],
)
def test_gradients_by_finite_differences(make):
    module = make().double()

    def f(x, *params):
        out = module(x)[0]
        return out

    gradcheck(f, [t64(array(3, 2, 2))])
    x = t64(array(3, 2, 2))
    module(x)[0].sum().backward()
    assert all(p.grad is not None for p in module.parameters())


def test_double_backward_through_a_cell():
    cell = nn.GRUCell(2, 3).double()
    x = t64(array(4, 2))
    (g,) = sg.autograd.grad(cell(x).sum(), [x], create_graph=True)
    gradcheck(lambda x: sg.autograd.grad(cell(x).sum(), [x], create_graph=True)[0], [x])
    assert g.requires_grad


def test_an_lstm_learns_to_remember_the_first_input():
    # The target is the first element of each sequence; only the recurrence carries it.
    sg.manual_seed(0)
    rng = np.random.default_rng(0)
    lstm, head = nn.LSTM(1, 16, batch_first=True), nn.Linear(16, 1)
    opt = optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.02)
    losses = []
    for _ in range(150):
        x = sg.tensor(rng.uniform(-1, 1, (32, 6, 1)), dtype=sg.float32)
        out, (h, _) = lstm(x)
        loss = ((head(h[-1]) - x[:, 0]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(lstm.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.1 * np.mean(losses[:10]), (losses[:3], losses[-3:])


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        nn.LSTM(3, 4)(sg.zeros(2, 1, 5))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.GRU(3, 4)(sg.zeros(2, 1, 3), sg.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="input dtype"):
        nn.RNN(3, 4)(sg.zeros(2, 1, 3, dtype=sg.float64))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D"):
        nn.LSTM(3, 4)(sg.zeros(3))
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        nn.LSTMCell(3, 4)(sg.zeros(2, 5))
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.RNN(3, 4, proj_size=2)
