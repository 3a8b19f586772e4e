"""Parity with PyTorch of MultiheadAttention and the Transformer modules: outputs, attention
weights, input gradients and every parameter's gradient, float64 and float32; state-dict keys
and error classes."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, ModuleCase, check, check_error, check_module

import somegrad as sg

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity

E, HEADS, L, S, N = 8, 2, 4, 5, 3

CAUSAL = np.triu(np.ones((L, L), dtype=bool), 1)  # True: not allowed
CROSS = np.array([[False, True, False, False, True]] * L)  # (L, S), every row keeps some keys
PADDING = np.array([[False] * S, [False, False, False, True, True], [False, True, False, False, True]])  # (N, S)
SELF_PADDING = PADDING[:, :L]
PER_HEAD = np.random.default_rng(0).uniform(size=(N * HEADS, L, S)) > 0.7
PER_HEAD[..., 0] = False


def _self(m, x, *rest, **kwargs):
    return m(x, x, x, *rest, **kwargs)


def mha(**options):
    return lambda lib: lib.nn.MultiheadAttention(E, HEADS, **options)


MHA_CASES = [
    ModuleCase("mha-self", mha(), [(L, N, E)], call=_self),
    ModuleCase("mha-self-no-weights", mha(), [(L, N, E)], call=lambda m, x: m(x, x, x, need_weights=False)[0]),
    ModuleCase("mha-batch-first", mha(batch_first=True), [(N, L, E)], call=_self),
    ModuleCase("mha-unbatched", mha(), [(L, E)], call=_self),
    ModuleCase("mha-unbatched-batch-first", mha(batch_first=True), [(L, E), (S, E)], call=lambda m, q, k: m(q, k, k)),
    ModuleCase("mha-cross", mha(), [(L, N, E), (S, N, E), (S, N, E)]),
    ModuleCase("mha-key-is-value", mha(batch_first=True), [(N, L, E), (N, S, E)], call=lambda m, q, kv: m(q, kv, kv)),
    ModuleCase("mha-kdim-vdim", mha(kdim=6, vdim=3), [(L, N, E), (S, N, 6), (S, N, 3)]),
    ModuleCase(
        "mha-kdim-vdim-batch-first-no-bias",
        mha(kdim=6, vdim=3, bias=False, batch_first=True),
        [(N, L, E), (N, S, 6), (N, S, 3)],
    ),
    ModuleCase("mha-no-bias", mha(bias=False), [(L, N, E)], call=_self),
    ModuleCase("mha-bias-kv", mha(add_bias_kv=True), [(L, N, E), (S, N, E), (S, N, E)]),
    ModuleCase("mha-zero-attn", mha(add_zero_attn=True), [(L, N, E), (S, N, E), (S, N, E)]),
    ModuleCase(
        "mha-bias-kv-zero-attn-masks",
        mha(add_bias_kv=True, add_zero_attn=True, batch_first=True),
        [(N, L, E), (N, S, E), CROSS, PADDING],
        call=lambda m, q, kv, mask, pad: m(q, kv, kv, attn_mask=mask, key_padding_mask=pad),
    ),
    ModuleCase(
        "mha-per-head-weights",
        mha(),
        [(L, N, E), (S, N, E)],
        call=lambda m, q, kv: m(q, kv, kv, average_attn_weights=False),
    ),
    ModuleCase("mha-bool-mask", mha(), [(L, N, E), CAUSAL], call=lambda m, x, mask: m(x, x, x, attn_mask=mask)),
    ModuleCase(
        "mha-bool-mask-no-weights",
        mha(),
        [(L, N, E), CAUSAL],
        call=lambda m, x, mask: m(x, x, x, attn_mask=mask, need_weights=False)[0],
    ),
    ModuleCase(
        "mha-float-mask",
        mha(batch_first=True),
        [(N, L, E), (N, S, E), (L, S)],
        call=lambda m, q, kv, mask: m(q, kv, kv, attn_mask=mask),
    ),
    ModuleCase(
        "mha-float-mask-no-weights",
        mha(batch_first=True),
        [(N, L, E), (N, S, E), (L, S)],
        call=lambda m, q, kv, mask: m(q, kv, kv, attn_mask=mask, need_weights=False)[0],
    ),
    ModuleCase(
        "mha-3d-mask",
        mha(),
        [(L, N, E), (S, N, E), PER_HEAD],
        call=lambda m, q, kv, mask: m(q, kv, kv, attn_mask=mask, average_attn_weights=False),
    ),
    ModuleCase(
        "mha-3d-mask-no-weights",
        mha(),
        [(L, N, E), (S, N, E), PER_HEAD],
        call=lambda m, q, kv, mask: m(q, kv, kv, attn_mask=mask, need_weights=False)[0],
    ),
    ModuleCase(
        "mha-key-padding",
        mha(),
        [(L, N, E), (S, N, E), PADDING],
        call=lambda m, q, kv, pad: m(q, kv, kv, key_padding_mask=pad),
    ),
    ModuleCase(
        "mha-key-padding-no-weights",
        mha(),
        [(L, N, E), (S, N, E), PADDING],
        call=lambda m, q, kv, pad: m(q, kv, kv, key_padding_mask=pad, need_weights=False)[0],
    ),
    ModuleCase(
        "mha-float-key-padding",
        mha(),
        [(L, N, E), (S, N, E), (N, S)],
        call=lambda m, q, kv, pad: m(q, kv, kv, key_padding_mask=pad),
    ),
    ModuleCase(
        "mha-both-masks",
        mha(batch_first=True),
        [(N, L, E), CAUSAL, SELF_PADDING],
        call=lambda m, x, mask, pad: m(x, x, x, attn_mask=mask, key_padding_mask=pad),
    ),
    ModuleCase(
        "mha-is-causal-hint",
        mha(),
        [(L, N, E), CAUSAL],
        call=lambda m, x, mask: m(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0],
    ),
    ModuleCase(
        "mha-unbatched-masks",
        mha(),
        [(L, E), (S, E), PER_HEAD[:HEADS], PADDING[1]],
        call=lambda m, q, kv, mask, pad: m(q, kv, kv, attn_mask=mask, key_padding_mask=pad),
    ),
    ModuleCase("mha-dropout-eval", mha(dropout=0.5), [(L, N, E)], call=_self, train=False),
]


@pytest.mark.parametrize("case", MHA_CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_multihead_attention(case, dtype):
    check_module(case, dtype)


# --- the layers --------------------------------------------------------------------------------------
def encoder_layer(**options):
    options = {"dim_feedforward": 16, "dropout": 0.0, **options}
    return lambda lib: lib.nn.TransformerEncoderLayer(E, HEADS, **options)


def decoder_layer(**options):
    options = {"dim_feedforward": 16, "dropout": 0.0, **options}
    return lambda lib: lib.nn.TransformerDecoderLayer(E, HEADS, **options)


def _causal_float(lib, size):
    return lib.nn.Transformer.generate_square_subsequent_mask(size)


ENCODER_CASES = [
    ModuleCase("encoder-layer", encoder_layer(), [(L, N, E)]),
    ModuleCase("encoder-layer-gelu", encoder_layer(activation="gelu"), [(L, N, E)]),
    ModuleCase(
        "encoder-layer-callable",
        lambda lib: lib.nn.TransformerEncoderLayer(E, HEADS, 16, 0.0, lib.nn.functional.silu),
        [(L, N, E)],
    ),
    ModuleCase(
        "encoder-layer-module-activation",
        lambda lib: lib.nn.TransformerEncoderLayer(E, HEADS, 16, 0.0, lib.nn.GELU()),
        [(L, N, E)],
    ),
    ModuleCase("encoder-layer-norm-first", encoder_layer(norm_first=True), [(L, N, E)]),
    ModuleCase("encoder-layer-batch-first", encoder_layer(batch_first=True), [(N, L, E)]),
    ModuleCase("encoder-layer-no-bias", encoder_layer(bias=False), [(L, N, E)]),
    ModuleCase("encoder-layer-eps", encoder_layer(layer_norm_eps=1e-2), [(L, N, E)]),
    ModuleCase("encoder-layer-unbatched", encoder_layer(), [(L, E)]),
    ModuleCase("encoder-layer-dropout-eval", encoder_layer(dropout=0.3), [(L, N, E)], train=False),
    ModuleCase(
        "encoder-layer-causal-float-mask",
        encoder_layer(batch_first=True),
        [(N, L, E)],
        call=lambda m, x: m(x, src_mask=_causal_float(torch if isinstance(m, torch.nn.Module) else sg, L)),
    ),
    ModuleCase(
        "encoder-layer-masks",
        encoder_layer(norm_first=True),
        [(L, N, E), CAUSAL, SELF_PADDING],
        call=lambda m, x, mask, pad: m(x, src_mask=mask, src_key_padding_mask=pad),
    ),
    ModuleCase(
        "encoder-layer-is-causal-hint",
        encoder_layer(),
        [(L, N, E), CAUSAL],
        call=lambda m, x, mask: m(x, src_mask=mask, is_causal=True),
    ),
    ModuleCase(
        "encoder",
        lambda lib: lib.nn.TransformerEncoder(encoder_layer()(lib), 2, enable_nested_tensor=False),
        [(L, N, E)],
    ),
    ModuleCase(
        "encoder-norm-masks",
        lambda lib: lib.nn.TransformerEncoder(encoder_layer(batch_first=True)(lib), 2, lib.nn.LayerNorm(E)),
        [(N, L, E), CAUSAL, SELF_PADDING],
        call=lambda m, x, mask, pad: m(x, mask=mask, src_key_padding_mask=pad),
    ),
]

DECODER_CASES = [
    ModuleCase("decoder-layer", decoder_layer(), [(L, N, E), (S, N, E)]),
    ModuleCase(
        "decoder-layer-norm-first-gelu", decoder_layer(norm_first=True, activation="gelu"), [(L, N, E), (S, N, E)]
    ),
    ModuleCase(
        "decoder-layer-batch-first-no-bias", decoder_layer(batch_first=True, bias=False), [(N, L, E), (N, S, E)]
    ),
    ModuleCase("decoder-layer-unbatched", decoder_layer(), [(L, E), (S, E)]),
    ModuleCase("decoder-layer-dropout-eval", decoder_layer(dropout=0.3), [(L, N, E), (S, N, E)], train=False),
    ModuleCase(
        "decoder-layer-masks",
        decoder_layer(),
        [(L, N, E), (S, N, E), CAUSAL, CROSS, SELF_PADDING, PADDING],
        call=lambda m, t, mem, tm, mm, tp, mp: m(
            t, mem, tgt_mask=tm, memory_mask=mm, tgt_key_padding_mask=tp, memory_key_padding_mask=mp
        ),
    ),
    ModuleCase(
        "decoder",
        lambda lib: lib.nn.TransformerDecoder(decoder_layer()(lib), 2, lib.nn.LayerNorm(E)),
        [(L, N, E), (S, N, E), CAUSAL],
        call=lambda m, t, mem, mask: m(t, mem, tgt_mask=mask),
    ),
]


def transformer(**options):
    options = {
        "d_model": E,
        "nhead": HEADS,
        "num_encoder_layers": 2,
        "num_decoder_layers": 2,
        "dim_feedforward": 16,
        "dropout": 0.0,
        **options,
    }
    return lambda lib: lib.nn.Transformer(**options)


TRANSFORMER_CASES = [
    ModuleCase("transformer", transformer(), [(S, N, E), (L, N, E)]),
    ModuleCase(
        "transformer-batch-first-norm-first", transformer(batch_first=True, norm_first=True), [(N, S, E), (N, L, E)]
    ),
    ModuleCase("transformer-gelu-no-bias", transformer(activation="gelu", bias=False), [(S, N, E), (L, N, E)]),
    ModuleCase("transformer-unbatched", transformer(num_encoder_layers=1, num_decoder_layers=1), [(S, E), (L, E)]),
    ModuleCase(
        "transformer-masks",
        transformer(),
        [(S, N, E), (L, N, E), CAUSAL, CROSS, PADDING, SELF_PADDING],
        call=lambda m, src, tgt, tm, mm, sp, tp: m(
            src,
            tgt,
            tgt_mask=tm,
            memory_mask=mm,
            src_key_padding_mask=sp,
            tgt_key_padding_mask=tp,
            memory_key_padding_mask=sp,
        ),
    ),
    ModuleCase(
        "transformer-causal-float-mask",
        transformer(batch_first=True),
        [(N, S, E), (N, L, E)],
        call=lambda m, src, tgt: m(src, tgt, tgt_mask=m.generate_square_subsequent_mask(L), tgt_is_causal=True),
    ),
    ModuleCase("transformer-dropout-eval", transformer(dropout=0.2), [(S, N, E), (L, N, E)], train=False),
]


@pytest.mark.parametrize("case", ENCODER_CASES + DECODER_CASES + TRANSFORMER_CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_transformer_module(case, dtype):
    check_module(case, dtype)


def test_state_dict_keys():
    for make in (
        mha(),
        mha(kdim=6, vdim=3, add_bias_kv=True, bias=False),
        encoder_layer(),
        decoder_layer(bias=False),
        transformer(),
        lambda lib: lib.nn.TransformerEncoder(encoder_layer()(lib), 3, lib.nn.LayerNorm(E)),
    ):
        ours, theirs = make(sg), make(torch)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        shapes = [tuple(v.shape) for v in theirs.state_dict().values()]
        assert [tuple(v.shape) for v in ours.state_dict().values()] == shapes


FUNCTION_CASES = [
    Case("square-subsequent-mask", lambda lib: lib.nn.Transformer.generate_square_subsequent_mask(5), grad=False),
    Case(
        "square-subsequent-mask-float64",
        lambda lib: lib.nn.Transformer.generate_square_subsequent_mask(3, dtype=lib.float64),
        grad=False,
    ),
]


@pytest.mark.parametrize("case", FUNCTION_CASES, ids=str)
def test_function(case):
    check(case)


ERRORS = [
    ("mha-not-divisible", lambda lib: lib.nn.MultiheadAttention(6, 4), []),
    ("mha-zero-heads", lambda lib: lib.nn.MultiheadAttention(6, 0), []),
    ("mha-query-1d", lambda lib, x: lib.nn.MultiheadAttention(E, HEADS)(x, x, x), [(E,)]),
    ("mha-key-dims", lambda lib, q, k: lib.nn.MultiheadAttention(E, HEADS)(q, k, k), [(L, N, E), (S, E)]),
    ("mha-embed-dim", lambda lib, x: lib.nn.MultiheadAttention(E, HEADS)(x, x, x), [(L, N, 6)]),
    (
        "mha-key-value-shapes",
        lambda lib, q, k, v: lib.nn.MultiheadAttention(E, HEADS)(q, k, v),
        [(L, N, E), (S, N, E), (L, N, E)],
    ),
    (
        "mha-2d-mask-shape",
        lambda lib, x, m: lib.nn.MultiheadAttention(E, HEADS)(x, x, x, attn_mask=m),
        [(L, N, E), np.zeros((L, L + 1), dtype=bool)],
    ),
    (
        "mha-3d-mask-shape",
        lambda lib, x, m: lib.nn.MultiheadAttention(E, HEADS)(x, x, x, attn_mask=m),
        [(L, N, E), np.zeros((N, L, L), dtype=bool)],
    ),
    (
        "mha-padding-dims",
        lambda lib, x, p: lib.nn.MultiheadAttention(E, HEADS)(x, x, x, key_padding_mask=p),
        [(L, N, E), np.zeros((N, L, 1), dtype=bool)],
    ),
    ("encoder-layer-activation", lambda lib: lib.nn.TransformerEncoderLayer(E, HEADS, activation="tanh"), []),
    ("decoder-layer-activation", lambda lib: lib.nn.TransformerDecoderLayer(E, HEADS, activation="swish"), []),
    ("transformer-batch", lambda lib, s, t: transformer()(lib)(s, t), [(S, N, E), (L, N + 1, E)]),
    ("transformer-features", lambda lib, s, t: transformer()(lib)(s, t), [(S, N, E), (L, N, E + 2)]),
]


@pytest.mark.parametrize("call, inputs", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(call, inputs):
    check_error(call, inputs)
