"""Workloads of the recurrent and Transformer layers: the same `lib.nn` code builds the model in
each framework (the port is the import), and both start from the same initial weights, copied
over by name (PyTorch's state-dict names are somegrad's)."""

from __future__ import annotations

import numpy as np
from plumbing import LR, WEIGHT_DECAY, Sizes, Workload, _import_somegrad, _import_torch, _training_step


def _char_lstm(nn, sizes: Sizes):
    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(sizes.gpt_vocab, sizes.lstm_embed)
            self.lstm = nn.LSTM(sizes.lstm_embed, sizes.lstm_hidden, num_layers=sizes.lstm_layers, batch_first=True)
            self.head = nn.Linear(sizes.lstm_hidden, sizes.gpt_vocab)

        def forward(self, idx):
            out, _ = self.lstm(self.embed(idx))
            return self.head(out)

    return CharLSTM()


def _encoder(nn, sizes: Sizes):
    layer = nn.TransformerEncoderLayer(
        sizes.encoder_width, sizes.encoder_heads, sizes.encoder_ff, dropout=0.0, batch_first=True
    )
    return nn.TransformerEncoder(layer, sizes.encoder_layers, enable_nested_tensor=False)


def _initial_weights(make, sizes: Sizes) -> dict[str, np.ndarray]:
    """The model's initial state, drawn by somegrad (its initialisation is PyTorch's), by name."""
    sg, _ = _import_somegrad("nn")
    sg.manual_seed(0)
    return {k: v.detach().numpy().copy() for k, v in make(sg.nn, sizes).state_dict().items()}


def lstm_inputs(sizes: Sizes) -> dict:
    rng = np.random.default_rng(5)
    tokens = rng.integers(0, sizes.gpt_vocab, size=(sizes.lstm_batch, sizes.lstm_seq + 1))
    return {"sizes": sizes, "x": tokens[:, :-1], "y": tokens[:, 1:]}


def encoder_inputs(sizes: Sizes) -> dict:
    rng = np.random.default_rng(6)
    shape = (sizes.encoder_batch, sizes.encoder_seq, sizes.encoder_width)
    return {"sizes": sizes, "x": rng.standard_normal(shape).astype(np.float32)}


def _build(framework: str, make, inputs: dict):
    sizes = inputs["sizes"]
    weights = _initial_weights(make, sizes)
    if framework == "torch":
        lib = _import_torch()
        model = make(lib.nn, sizes)
        model.load_state_dict({k: lib.from_numpy(v) for k, v in weights.items()})
    else:
        lib, _, _ = _import_somegrad("nn", "optim")
        model = make(lib.nn, sizes)
        model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    opt = lib.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    return lib, model, opt


def _lstm_step(framework: str):
    def build(inputs: dict):
        lib, model, opt = _build(framework, _char_lstm, inputs)
        x, y = lib.tensor(inputs["x"]), lib.tensor(inputs["y"])
        vocab = inputs["sizes"].gpt_vocab

        def loss():
            return lib.nn.functional.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))

        return _training_step(lambda: opt.zero_grad(set_to_none=True), loss, opt.step)

    return build


def _encoder_step(framework: str):
    def build(inputs: dict):
        lib, model, opt = _build(framework, _encoder, inputs)
        x = lib.tensor(inputs["x"])
        return _training_step(lambda: opt.zero_grad(set_to_none=True), lambda: model(x).square().mean(), opt.step)

    return build


LAYER_WORKLOADS = [
    Workload(
        "lstm_train",
        "char LSTM: embedding 64, 2-layer nn.LSTM 256 wide, linear head, batch 32 x 64 steps, AdamW: one step",
        "ms/step",
        lstm_inputs,
        {"somegrad": _lstm_step("somegrad"), "torch": _lstm_step("torch")},
        throughput=lambda s: s.lstm_batch * s.lstm_seq,
        throughput_unit="tok/s",
    ),
    Workload(
        "encoder_train",
        "nn.TransformerEncoder: 2 layers, 128 wide, 4 heads, feed-forward 512, batch 16 x 64, AdamW: one step",
        "ms/step",
        encoder_inputs,
        {"somegrad": _encoder_step("somegrad"), "torch": _encoder_step("torch")},
        throughput=lambda s: s.encoder_batch * s.encoder_seq,
        throughput_unit="tok/s",
    ),
]
