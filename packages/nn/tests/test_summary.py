"""Module.summary: layers, output shapes and parameter counts from one forward pass."""

import pytest

import somegrad as sg
from somegrad import nn
from somegrad.nn.models import GPT, GPTConfig


def test_sequential_summary_lists_each_layer_with_shape_and_count():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    table = model.summary((3, 4)).splitlines()
    assert table[0].split() == ["Layer", "(type)", "Output", "shape", "Params"]
    rows = [line.split() for line in table[2:5]]
    assert rows == [
        ["0", "(Linear)", "(3,", "8)", "40"],
        ["1", "(ReLU)", "(3,", "8)", "0"],
        ["2", "(Linear)", "(3,", "2)", "18"],
    ]
    assert table[-2] == "Total params: 58" and table[-1] == "Trainable params: 58"


def test_frozen_parameters_are_not_trainable_and_hooks_are_removed():
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    model[0].requires_grad_(False)
    table = model.summary((1, 4))
    assert "Total params: 58" in table and "Trainable params: 18" in table
    assert all(not m._forward_hooks for m in model.modules())


def test_gpt_summary_takes_token_ids_and_counts_tied_weights_once():
    model = GPT(GPTConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=16))
    table = model.summary(input_data=sg.zeros(2, 8, dtype=sg.int64))
    assert "lm_head (Linear)" in table and "(2, 8, 20)" in table
    total = sum(p.numel() for p in model.parameters())
    assert f"Total params: {total:,}" in table


def test_summary_needs_an_input():
    with pytest.raises(ValueError, match="summary: give input_size"):
        nn.Linear(2, 2).summary()


def test_gpt_summary_with_a_shape_and_an_integer_dtype_or_a_tensor():
    model = GPT(GPTConfig(vocab_size=20, block_size=32, n_layer=1, n_head=2, n_embd=16))
    by_shape = model.summary((1, 32), dtype=sg.int64)
    assert "lm_head (Linear)" in by_shape and "(1, 32, 20)" in by_shape
    assert model.summary((1, 32), dtype="int64") == by_shape
    assert model.summary((1, 32), dtypes=[sg.int64]) == by_shape  # torchinfo's spelling
    assert model.summary(sg.zeros(1, 32, dtype=sg.int64)) == by_shape  # a tensor, positionally
    with pytest.raises(TypeError, match="unknown dtype 'int65'"):
        model.summary((1, 32), dtype="int65")
    with pytest.raises(TypeError, match="input_size must be a shape"):
        model.summary("tokens")


def test_summary_says_when_tied_weights_make_rows_exceed_the_total():
    tied = GPT(GPTConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=16))
    table = tied.summary((1, 8), dtype=sg.int64)
    rows = [line for line in table.splitlines() if line.endswith(tuple("0123456789")) and "(" in line]
    listed = sum(int(line.split()[-1].replace(",", "")) for line in rows)
    total = tied.num_parameters()
    assert listed == total + 20 * 16  # the embedding's 320 counted twice in the rows
    assert f"the rows add up to {listed:,}, more than the total" in table
    assert "transformer.wte.weight = lm_head.weight" in table
    untied = GPT(GPTConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=16, tie_weights=False))
    assert "Note:" not in untied.summary((1, 8), dtype=sg.int64)
