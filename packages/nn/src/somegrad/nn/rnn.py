"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's parameter names.

    lstm = nn.LSTM(input_size=10, hidden_size=20, num_layers=2, batch_first=True)
    output, (h_n, c_n) = lstm(x)          # x (N, L, 10) -> output (N, L, 20), h_n and c_n (2, N, 20)

Parameters are `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` (with
`_reverse` for the backward direction, and `weight_hr_l{k}` with an LSTM's `proj_size`), all
initialised U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), so PyTorch's state dicts load as
they are. The arithmetic (gate order, the time loop) is in `rnn_steps`.
"""

from __future__ import annotations

import math
import numbers
import warnings

import somegrad as sg
from somegrad.nn import functional as F
from somegrad.nn import init
from somegrad.nn.linear import empty_parameter
from somegrad.nn.module import Module
from somegrad.nn.rnn_steps import make_step, project_inputs, run_layer
from somegrad.nn.utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_dtype(input, weight):
    if input.dtype != weight.dtype:
        raise ValueError(
            f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). Convert input: "
            f"input.to({weight.dtype}), or convert model: model.to({input.dtype})"
        )


class RNNBase(Module):
    """The layers' shared machinery: parameters, argument checks, and the loop over layers and
    directions. Use `RNN`, `LSTM` or `GRU`."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (gate_size, layer_input_size),
                    "weight_hh": (gate_size, real_hidden_size),
                }
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, empty_parameter(*shape, device=device, dtype=dtype))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op: there is no fused weight buffer to compact (PyTorch's is for cuDNN)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list]:
        """The parameters per layer and direction: [[weight_ih_l0, weight_hh_l0, ...], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- checks ------------------------------------------------------------------------------
    def _hidden_out(self) -> int:
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def _expected_state_sizes(self, batch: int) -> list[tuple[int, ...]]:
        layers = self.num_layers * (2 if self.bidirectional else 1)
        sizes: list[tuple[int, ...]] = [(layers, batch, self._hidden_out())]
        if self.mode == "LSTM":
            sizes.append((layers, batch, self.hidden_size))
        return sizes

    def _check_input(self, input, packed: bool) -> None:
        _check_dtype(input, self._flat_weights[0])
        expected_dims = 2 if packed else 3
        if input.ndim != expected_dims:
            raise RuntimeError(f"input must have {expected_dims} dimensions, got {input.ndim}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    def _check_states(self, states, batch: int) -> None:
        for k, (state, expected) in enumerate(zip(states, self._expected_state_sizes(batch))):
            if tuple(state.shape) != expected:
                what = "hidden" if self.mode != "LSTM" else f"hidden[{k}]"
                raise RuntimeError(f"Expected {what} size {expected}, got {list(state.shape)}")

    # --- the forward -------------------------------------------------------------------------
    def _prepare(self, input, hx):
        """(data (rows, input_size), batch_sizes, states as a list, how to shape the result)."""
        name = type(self).__name__
        states = None if hx is None else (list(hx) if self.mode == "LSTM" else [hx])
        if isinstance(input, PackedSequence):
            data, batch_sizes = input.data, [int(b) for b in input.batch_sizes.tolist()]
            self._check_input(data, packed=True)
            layout = ("packed", input)
            if states is not None and input.sorted_indices is not None:
                states = [s.index_select(1, input.sorted_indices) for s in states]
            batch = batch_sizes[0] if batch_sizes else 0
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
            batched = input.ndim == 3
            if states is not None:
                dims = [s.ndim for s in states]
                want = 3 if batched else 2
                if any(d != want for d in dims):
                    kind = "batched 3-D" if batched else "unbatched 2-D"
                    if self.mode == "LSTM":
                        raise RuntimeError(
                            f"For {kind} input, hx and cx should also be {want}-D but got "
                            f"({dims[0]}-D, {dims[1]}-D) tensors"
                        )
                    raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {dims[0]}-D tensor")
                if not batched:
                    states = [s.unsqueeze(1) for s in states]
            if not batched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            self._check_input(input, packed=False)
            steps, batch = input.shape[0], input.shape[1]
            data, batch_sizes = input.reshape(steps * batch, input.shape[2]), [batch] * steps
            layout = ("batched" if batched else "unbatched", steps)
        if states is None:
            weight = self._flat_weights[0]
            states = [
                sg.zeros(size, dtype=weight.dtype, device=weight.device) for size in self._expected_state_sizes(batch)
            ]
        else:
            self._check_states(states, batch)
        return data, batch_sizes, states, layout

    def _layers(self, data, batch_sizes, states):
        """Every layer and direction over the packed rows: (output rows, final states)."""
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        weights = iter(self._all_weights)
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                params = {name.split("_l")[0]: getattr(self, name) for name in next(weights)}
                gi = project_inputs(self.mode, data, params["weight_ih"], params.get("bias_ih"), params.get("bias_hh"))
                step = make_step(self.mode, params["weight_hh"], params.get("bias_hh"), params.get("weight_hr"))
                index = layer * directions + direction
                initial = tuple(s[index] for s in states)
                output, final = run_layer(step, gi, batch_sizes, initial, reverse=direction == 1)
                outputs.append(output)
                for k, f in enumerate(final):
                    finals[k].append(f)
            data = outputs[0] if directions == 1 else sg.cat(outputs, 1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                data = F.dropout(data, self.dropout, True)
        return data, [sg.stack(f, 0) for f in finals]

    def _run(self, input, hx):
        data, batch_sizes, states, layout = self._prepare(input, hx)
        if not batch_sizes:
            raise RuntimeError(f"{type(self).__name__}: the input has no time steps")
        output, finals = self._layers(data, batch_sizes, states)
        kind, info = layout
        if kind == "packed":
            if info.unsorted_indices is not None:
                finals = [f.index_select(1, info.unsorted_indices) for f in finals]
            return PackedSequence(output, info.batch_sizes, info.sorted_indices, info.unsorted_indices), finals
        output = output.reshape(info, -1, output.shape[-1])
        if kind == "unbatched":
            return output.squeeze(1), [f.squeeze(1) for f in finals]
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, finals


class RNN(RNNBase):
    """An Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    input (L, N, input_size), (N, L, input_size) with `batch_first`, (L, input_size) unbatched,
    or a PackedSequence; h_0 (D * num_layers, N, hidden_size), zeros by default (D = 2 when
    bidirectional). Returns (output (L, N, D * hidden_size), h_n (D * num_layers, N, hidden_size)).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN got unexpected keyword arguments {sorted(kwargs)}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """A long short-term memory layer with PyTorch's gates (i, f, g, o) and its `proj_size`.

    input as for `RNN`; hx = (h_0, c_0), h_0 (D * num_layers, N, H_out) and c_0
    (D * num_layers, N, hidden_size), H_out = proj_size or hidden_size. Returns
    (output (L, N, D * H_out), (h_n, c_n)).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )

    def forward(self, input, hx=None):
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """A gated recurrent unit layer with PyTorch's gates (r, z, n), n = tanh(W_in x + b_in +
    r * (W_hn h + b_hn)). Inputs and outputs as for `RNN`."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU got unexpected keyword arguments {sorted(kwargs)}")
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, hx)
        return output, h_n


# --- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """The cells' parameters (weight_ih, weight_hh, bias_ih, bias_hh) and argument checks."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = empty_parameter(num_chunks * hidden_size, input_size, device=device, dtype=dtype)
        self.weight_hh = empty_parameter(num_chunks * hidden_size, hidden_size, device=device, dtype=dtype)
        if bias:
            self.bias_ih = empty_parameter(num_chunks * hidden_size, device=device, dtype=dtype)
            self.bias_hh = empty_parameter(num_chunks * hidden_size, device=device, dtype=dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _cell(self, mode: str, input, states: list | None):
        """Check, batch, run one step, unbatch: the new states as a tuple."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if states is not None and any(s.ndim not in (1, 2) for s in states):
            what = "hx and cx" if mode == "LSTM" else "hidden"
            raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {states[0].ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if states is None:
            zeros = sg.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            states = [zeros] * (2 if mode == "LSTM" else 1)
        elif not batched:
            states = [s.unsqueeze(0) for s in states]
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for k, s in enumerate(states):
            if s.ndim != 2 or s.shape[0] != input.shape[0]:
                raise RuntimeError(
                    f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size "
                    f"{s.shape[0] if s.ndim == 2 else list(s.shape)}"
                )
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {s.shape[1]}, expected {self.hidden_size}"
                )
        gi = project_inputs(mode, input, self.weight_ih, self.bias_ih, self.bias_hh)
        new = make_step(mode, self.weight_hh, self.bias_hh)(gi, tuple(states))
        return new if batched else tuple(s.squeeze(0) for s in new)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: input (N, input_size) or (input_size,), hx (N, hidden_size)
    (zeros by default) -> h' (N, hidden_size)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        (h,) = self._cell(mode, input, None if hx is None else [hx])
        return h


class LSTMCell(RNNCellBase):
    """One LSTM step: input (N, input_size), hx = (h, c) each (N, hidden_size) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and len(hx) != 2:
            raise RuntimeError(f"LSTMCell: expected hx to be a tuple (h, c), got {len(hx)} tensors")
        h, c = self._cell("LSTM", input, None if hx is None else list(hx))
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step: input (N, input_size), hx (N, hidden_size) -> h' (N, hidden_size)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        (h,) = self._cell("GRU", input, None if hx is None else [hx])
        return h
