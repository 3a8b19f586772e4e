"""Parity with PyTorch of the recurrent layers, their cells and `nn.utils.rnn`: outputs, final
states, input gradients and every parameter's gradient, float64 and float32."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, ModuleCase, check, check_error, check_module

import somegrad as sg

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity

LENGTHS = [5, 3, 2]  # distinct, so that a sort by length is the same in both libraries
UNSORTED = [2, 5, 3]


def _lib(module):
    return torch if isinstance(module, torch.nn.Module) else sg


def _packed(lengths, enforce_sorted=True, lstm=False):
    """Run the module on x packed with `lengths`; return the padded output, the lengths, the
    final state(s) and the packed data itself."""

    def call(module, x, *state):
        rnn_utils = _lib(module).nn.utils.rnn
        packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        hx = (tuple(state) if lstm else state[0]) if state else None
        out, h = module(packed, hx)
        padded, out_lengths = rnn_utils.pad_packed_sequence(out)
        return padded, out_lengths, h, out.data, out.batch_sizes

    return call


def _layer_cases(kind: str) -> list[ModuleCase]:
    """`kind` is RNN, RNN-relu, LSTM or GRU: every option of the layer."""
    name, extra = (kind, {}) if kind != "RNN-relu" else ("RNN", {"nonlinearity": "relu"})
    lstm = name == "LSTM"

    def make(**options):
        return lambda lib: getattr(lib.nn, name)(4, 6, **extra, **options)

    def with_state(layers, batch=3, hidden=6, cell=6):
        shapes = [(layers, batch, hidden)] + ([(layers, batch, cell)] if lstm else [])
        return shapes, (lambda m, x, h, c: m(x, (h, c))) if lstm else (lambda m, x, h: m(x, h))

    state_shapes, state_call = with_state(1)
    deep_shapes, deep_call = with_state(4)
    unbatched_shapes = [s[:1] + s[2:] for s in state_shapes]
    cases = [
        ModuleCase(f"{kind}-default", make(), [(5, 3, 4)]),
        ModuleCase(f"{kind}-h0", make(), [(5, 3, 4), *state_shapes], call=state_call),
        ModuleCase(f"{kind}-no-bias", make(bias=False), [(5, 3, 4)]),
        ModuleCase(f"{kind}-batch-first", make(batch_first=True), [(3, 5, 4)]),
        ModuleCase(f"{kind}-two-layers", make(num_layers=2), [(5, 3, 4)]),
        ModuleCase(f"{kind}-bidirectional", make(bidirectional=True), [(5, 3, 4)]),
        ModuleCase(
            f"{kind}-two-layers-bidirectional-h0",
            make(num_layers=2, bidirectional=True, batch_first=True),
            [(3, 5, 4), *deep_shapes],
            call=deep_call,
        ),
        ModuleCase(f"{kind}-dropout-eval", make(num_layers=2, dropout=0.5), [(5, 3, 4)], train=False),
        ModuleCase(f"{kind}-unbatched", make(num_layers=2), [(5, 4)]),
        ModuleCase(
            f"{kind}-unbatched-h0",
            make(),
            [(5, 4), *unbatched_shapes],
            call=(lambda m, x, h, c: m(x, (h, c))) if lstm else (lambda m, x, h: m(x, h)),
        ),
        ModuleCase(f"{kind}-one-step", make(), [(1, 2, 4)]),
        ModuleCase(f"{kind}-packed", make(), [(5, 3, 4)], call=_packed(LENGTHS, lstm=lstm)),
        ModuleCase(
            f"{kind}-packed-unsorted-bidirectional-h0",
            make(num_layers=2, bidirectional=True),
            [(5, 3, 4), *deep_shapes],
            call=_packed(UNSORTED, enforce_sorted=False, lstm=lstm),
        ),
    ]
    if lstm:
        proj_shapes, proj_call = with_state(4, hidden=2)
        cases += [
            ModuleCase("LSTM-proj", make(proj_size=2), [(5, 3, 4)]),
            ModuleCase(
                "LSTM-proj-two-layers-bidirectional-h0",
                make(proj_size=2, num_layers=2, bidirectional=True),
                [(5, 3, 4), *proj_shapes],
                call=proj_call,
            ),
            ModuleCase(
                "LSTM-proj-packed-unsorted",
                make(proj_size=2, bidirectional=True),
                [(5, 3, 4)],
                call=_packed(UNSORTED, enforce_sorted=False, lstm=True),
            ),
        ]
    return cases


LAYER_CASES = [case for kind in ("RNN", "RNN-relu", "LSTM", "GRU") for case in _layer_cases(kind)]


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layer(case, dtype):
    check_module(case, dtype)


def test_layer_state_dict_keys():
    for make in (
        lambda lib: lib.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3),
        lambda lib: lib.nn.GRU(4, 6, bias=False),
        lambda lib: lib.nn.RNN(4, 6, num_layers=3, nonlinearity="relu"),
    ):
        ours, theirs = make(sg), make(torch)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [tuple(v.shape) for v in ours.state_dict().values()] == [
            tuple(v.shape) for v in theirs.state_dict().values()
        ]
        assert repr(ours) == repr(theirs)


def _cell_cases() -> list[ModuleCase]:
    cases = []
    for name, extra in (("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})):
        label = name + ("-relu" if extra else "")
        lstm = name == "LSTMCell"

        def make(name=name, extra=extra, **options):
            return lambda lib: getattr(lib.nn, name)(4, 6, **extra, **options)

        def state_call(m, x, *state, lstm=lstm):
            return m(x, tuple(state) if lstm else state[0])

        states = 2 if lstm else 1
        cases += [
            ModuleCase(f"{label}-no-state", make(), [(3, 4)]),
            ModuleCase(f"{label}-state", make(), [(3, 4)] + [(3, 6)] * states, call=state_call),
            ModuleCase(f"{label}-no-bias", make(bias=False), [(3, 4)] + [(3, 6)] * states, call=state_call),
            ModuleCase(f"{label}-unbatched", make(), [(4,)] + [(6,)] * states, call=state_call),
        ]
    return cases


@pytest.mark.parametrize("case", _cell_cases(), ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cell(case, dtype):
    check_module(case, dtype)


def _unrolled_cell(module, x, h, c):
    """A cell driven over time by hand, as a PyTorch training loop does."""
    state = (h, c)
    outputs = []
    for t in range(x.shape[0]):
        state = module(x[t], state)
        outputs.append(state[0])
    return _lib(module).stack(outputs, 0), state


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cell_unrolled(dtype):
    check_module(
        ModuleCase("LSTMCell-unrolled", lambda lib: lib.nn.LSTMCell(4, 6), [(5, 3, 4), (3, 6), (3, 6)], _unrolled_cell),
        dtype,
    )


# --- nn.utils.rnn ----------------------------------------------------------------------------------
def _rnn_utils(lib):
    return lib.nn.utils.rnn


UTILS_CASES = [
    Case("pad_sequence", lambda lib, a, b, c: _rnn_utils(lib).pad_sequence([a, b, c]), [(5, 2), (3, 2), (4, 2)]),
    Case(
        "pad_sequence-batch-first-value",
        lambda lib, a, b: _rnn_utils(lib).pad_sequence([a, b], batch_first=True, padding_value=-1.5),
        [(2, 3, 2), (4, 3, 2)],
    ),
    Case(
        "pad_sequence-left",
        lambda lib, a, b: _rnn_utils(lib).pad_sequence([a, b], batch_first=True, padding_side="left"),
        [(2, 3), (4, 3)],
    ),
    Case(
        "pack_padded_sequence",
        lambda lib, x: tuple(_rnn_utils(lib).pack_padded_sequence(x, LENGTHS)[:2]),
        [(5, 3, 2)],
    ),
    Case(
        "pack_padded_sequence-batch-first-unsorted",
        lambda lib, x: tuple(_rnn_utils(lib).pack_padded_sequence(x, UNSORTED, batch_first=True, enforce_sorted=False)),
        [(3, 5, 2)],
    ),
    Case(
        "pack_padded_sequence-tensor-lengths",
        lambda lib, x, n: tuple(_rnn_utils(lib).pack_padded_sequence(x, n, enforce_sorted=False)),
        [(5, 3), np.array(UNSORTED, dtype=np.int64)],
    ),
    Case(
        "pad_packed_sequence-roundtrip",
        lambda lib, x: _rnn_utils(lib).pad_packed_sequence(
            _rnn_utils(lib).pack_padded_sequence(x, UNSORTED, enforce_sorted=False),
            batch_first=True,
            padding_value=2.0,
            total_length=7,
        ),
        [(5, 3, 2)],
    ),
    Case(
        "pack_sequence-unsorted",
        lambda lib, a, b, c: tuple(_rnn_utils(lib).pack_sequence([a, b, c], enforce_sorted=False)),
        [(2, 2), (5, 2), (3, 2)],
    ),
    Case(
        "unpack_sequence",
        lambda lib, a, b, c: _rnn_utils(lib).unpack_sequence(_rnn_utils(lib).pack_sequence([a, b, c], False)),
        [(2, 2), (5, 2), (3, 2)],
    ),
    Case(
        "unpad_sequence",
        lambda lib, x, n: _rnn_utils(lib).unpad_sequence(x, n, batch_first=True),
        [(3, 4, 2), np.array([3, 1, 2])],
    ),
]


@pytest.mark.parametrize("case", UTILS_CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rnn_utils(case, dtype):
    check(case, dtype)


# --- errors ----------------------------------------------------------------------------------------
ERRORS = [
    ("input-size", lambda lib, x: lib.nn.LSTM(4, 6)(x), [(5, 3, 5)]),
    ("input-1d", lambda lib, x: lib.nn.GRU(4, 6)(x), [(4,)]),
    ("input-4d", lambda lib, x: lib.nn.RNN(4, 6)(x), [(2, 5, 3, 4)]),
    ("hidden-size", lambda lib, x, h: lib.nn.GRU(4, 6)(x, h), [(5, 3, 4), (1, 3, 7)]),
    ("hidden-batch", lambda lib, x, h: lib.nn.RNN(4, 6)(x, h), [(5, 3, 4), (1, 2, 6)]),
    ("hidden-layers", lambda lib, x, h: lib.nn.RNN(4, 6, num_layers=2)(x, h), [(5, 3, 4), (1, 3, 6)]),
    ("cell-state-size", lambda lib, x, h, c: lib.nn.LSTM(4, 6)(x, (h, c)), [(5, 3, 4), (1, 3, 6), (1, 3, 5)]),
    ("hidden-dims-batched", lambda lib, x, h: lib.nn.GRU(4, 6)(x, h), [(5, 3, 4), (3, 6)]),
    ("hidden-dims-unbatched", lambda lib, x, h: lib.nn.RNN(4, 6)(x, h), [(5, 4), (1, 1, 6)]),
    ("lstm-dims-unbatched", lambda lib, x, h, c: lib.nn.LSTM(4, 6)(x, (h, c)), [(5, 4), (1, 6), (1, 1, 6)]),
    ("dtype", lambda lib, x: lib.nn.LSTM(4, 6)(x.double()), [(5, 3, 4)]),
    ("cell-input-size", lambda lib, x: lib.nn.LSTMCell(4, 6)(x), [(3, 5)]),
    ("cell-input-3d", lambda lib, x: lib.nn.RNNCell(4, 6)(x), [(3, 4, 1)]),
    ("cell-hidden-batch", lambda lib, x, h: lib.nn.GRUCell(4, 6)(x, h), [(3, 4), (2, 6)]),
    ("cell-hidden-size", lambda lib, x, h: lib.nn.RNNCell(4, 6)(x, h), [(3, 4), (3, 7)]),
    ("unsorted-lengths", lambda lib, x: _rnn_utils(lib).pack_padded_sequence(x, UNSORTED), [(5, 3, 2)]),
    ("zero-length", lambda lib, x: _rnn_utils(lib).pack_padded_sequence(x, [5, 3, 0]), [(5, 3, 2)]),
    ("lengths-count", lambda lib, x: _rnn_utils(lib).pack_padded_sequence(x, [5, 3]), [(5, 3, 2)]),
    (
        "total-length",
        lambda lib, x: _rnn_utils(lib).pad_packed_sequence(
            _rnn_utils(lib).pack_padded_sequence(x, LENGTHS), False, 0, 4
        ),
        [(5, 3, 2)],
    ),
    ("bad-nonlinearity", lambda lib: lib.nn.RNN(4, 6, nonlinearity="sigmoid"), []),
    ("proj-size-gru", lambda lib: lib.nn.GRU(4, 6, proj_size=2), []),
    ("proj-size-too-big", lambda lib: lib.nn.LSTM(4, 6, proj_size=6), []),
    ("bad-dropout", lambda lib: lib.nn.LSTM(4, 6, dropout=1.5), []),
    ("zero-hidden", lambda lib: lib.nn.GRU(4, 0), []),
    ("zero-layers", lambda lib: lib.nn.RNN(4, 6, num_layers=0), []),
]


@pytest.mark.parametrize("call, inputs", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(call, inputs):
    check_error(call, inputs)


def test_error_messages():
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 4, got 5"):
        sg.nn.LSTM(4, 6)(sg.zeros(5, 3, 5))
    with pytest.raises(RuntimeError, match="Expected hidden\\[0\\] size \\(1, 3, 6\\), got \\[1, 3, 7\\]"):
        sg.nn.LSTM(4, 6)(sg.zeros(5, 3, 4), (sg.zeros(1, 3, 7), sg.zeros(1, 3, 6)))
    with pytest.raises(RuntimeError, match="Expected hidden size \\(1, 3, 6\\), got \\[1, 2, 6\\]"):
        sg.nn.GRU(4, 6)(sg.zeros(5, 3, 4), sg.zeros(1, 2, 6))
