"""MultiheadAttention and the Transformer modules against NumPy references; masks, clones,
gradients by finite differences, and a Transformer that learns."""

import numpy as np
import pytest
from nn_testing import array, assert_close, gradcheck, t64, value

import somegrad as sg
from somegrad import nn, optim


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def layer_norm(x, norm):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.eps) * value(norm.weight) + value(norm.bias)


def reference_mha(mha, q, k, v, mask=None):
    """(N, L, E) inputs in NumPy; mask additive (L, S) or None. Returns (out, mean weights)."""
    e, h = mha.embed_dim, mha.num_heads
    w, b = value(mha.in_proj_weight), value(mha.in_proj_bias)
    qp, kp, vp = q @ w[:e].T + b[:e], k @ w[e : 2 * e].T + b[e : 2 * e], v @ w[2 * e :].T + b[2 * e :]

    def heads(t):
        return t.reshape(t.shape[0], t.shape[1], h, -1).transpose(0, 2, 1, 3)

    scores = heads(qp) @ heads(kp).transpose(0, 1, 3, 2) / np.sqrt(e // h)
    p = softmax(scores + (0 if mask is None else mask))
    out = (p @ heads(vp)).transpose(0, 2, 1, 3).reshape(q.shape[0], q.shape[1], e)
    return out @ value(mha.out_proj.weight).T + value(mha.out_proj.bias), p.mean(1)


def reference_encoder_layer(layer, x, mask=None):
    def sa(y):
        return reference_mha(layer.self_attn, y, y, y, mask)[0]

    def ff(y):
        hidden = np.maximum(y @ value(layer.linear1.weight).T + value(layer.linear1.bias), 0)
        return hidden @ value(layer.linear2.weight).T + value(layer.linear2.bias)

    if layer.norm_first:
        x = x + sa(layer_norm(x, layer.norm1))
        return x + ff(layer_norm(x, layer.norm2))
    x = layer_norm(x + sa(x), layer.norm1)
    return layer_norm(x + ff(x), layer.norm2)


def randomise(module):
    with sg.no_grad():
        for p in module.parameters():
            p.copy_(sg.tensor(array(*p.shape) * 0.5, dtype=p.dtype))
    return module


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_the_reference(norm_first):
    layer = randomise(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first))
    layer = layer.double()
    x = array(2, 5, 8)
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=sg.float64)
    assert_close(mask, causal)
    assert_close(layer(t64(x), src_mask=mask), reference_encoder_layer(layer, x, causal))
    assert_close(layer(t64(x), is_causal=True), reference_encoder_layer(layer, x, causal))
    assert_close(layer(t64(x)), reference_encoder_layer(layer, x))


def test_sequence_first_layout_and_unbatched_inputs():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0).double()
    x = t64(array(5, 2, 8))  # (S, N, E)
    out = layer(x)
    assert out.shape == (5, 2, 8)
    assert_close(layer(x[:, 1]), value(out)[:, 1])  # (S, E) unbatched
    decoder = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0).double()
    assert decoder(x, t64(array(3, 2, 8))).shape == (5, 2, 8)


def test_encoder_clones_its_layer():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8))
    assert len(encoder.layers) == 3
    assert encoder.layers[0] is not layer and encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight
    assert_close(encoder.layers[2].linear1.weight, value(layer.linear1.weight))
    keys = list(encoder.state_dict())
    assert keys[:4] == [
        "layers.0.self_attn.in_proj_weight",
        "layers.0.self_attn.in_proj_bias",
        "layers.0.self_attn.out_proj.weight",
        "layers.0.self_attn.out_proj.bias",
    ]
    assert keys[-2:] == ["norm.weight", "norm.bias"]
    decoder_keys = list(nn.TransformerDecoderLayer(8, 2, 16).state_dict())
    assert [k for k in decoder_keys if k.startswith("multihead_attn")][0] == "multihead_attn.in_proj_weight"
    assert decoder_keys[-2:] == ["norm3.weight", "norm3.bias"]


def test_transformer_initialises_matrices_xavier_uniform():
    model = nn.Transformer(16, 2, 1, 1, 32)
    w = value(model.encoder.layers[0].linear1.weight)  # (32, 16)
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not value(model.encoder.layers[0].self_attn.in_proj_bias).any()


def test_key_padding_hides_padded_keys():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    x = array(2, 5, 8)
    padding = sg.tensor([[False, False, False, True, True], [False] * 5])
    changed = x.copy()
    changed[0, 3:] = array(2, 8)  # only the padded positions of sequence 0 differ
    a = value(layer(t64(x), src_key_padding_mask=padding))
    b = value(layer(t64(changed), src_key_padding_mask=padding))
    np.testing.assert_allclose(a[0, :3], b[0, :3], atol=1e-12)
    np.testing.assert_allclose(a[1], b[1], atol=1e-12)


def test_multihead_attention_options():
    mha = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=True)
    assert mha.in_proj_weight is None and mha.k_proj_weight.shape == (8, 5) and mha.v_proj_weight.shape == (8, 3)
    out, weights = mha(sg.randn(2, 4, 8), sg.randn(2, 6, 5), sg.randn(2, 6, 3))
    assert out.shape == (2, 4, 8) and weights.shape == (2, 4, 6)
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)
    assert mha.bias_k.shape == (1, 1, 8)
    out, weights = mha(sg.randn(4, 2, 8), sg.randn(6, 2, 8), sg.randn(6, 2, 8), average_attn_weights=False)
    assert out.shape == (4, 2, 8) and weights.shape == (2, 2, 4, 8)  # 6 keys + bias_k + the zero key
    np.testing.assert_allclose(value(weights).sum(-1), 1.0, rtol=1e-5)
    assert mha(sg.randn(4, 2, 8), sg.randn(6, 2, 8), sg.randn(6, 2, 8), need_weights=False)[1] is None
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask"):
        mha(sg.randn(4, 2, 8), sg.randn(6, 2, 8), sg.randn(6, 2, 8), attn_mask=sg.zeros(4, 4))


def test_multihead_attention_matches_the_reference_with_masks():
    mha = randomise(nn.MultiheadAttention(8, 2, batch_first=True)).double()
    q, kv = array(2, 4, 8), array(2, 6, 8)
    mask = np.where(np.triu(np.ones((4, 6), dtype=bool), 3), -np.inf, 0.0)
    for attn_mask in (sg.tensor(mask, dtype=sg.float64), sg.tensor(np.isinf(mask))):
        out, weights = mha(t64(q), t64(kv), t64(kv), attn_mask=attn_mask)
        expected, expected_weights = reference_mha(mha, q, kv, kv, mask)
        assert_close(out, expected)
        assert_close(weights, expected_weights)
        fused, _ = mha(t64(q), t64(kv), t64(kv), attn_mask=attn_mask, need_weights=False)
        assert_close(fused, expected)


def test_gradients_by_finite_differences():
    layer = nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0, norm_first=True).double()
    memory = t64(array(3, 2, 4))
    mask = nn.Transformer.generate_square_subsequent_mask(2, dtype=sg.float64)
    gradcheck(lambda tgt, mem: layer(tgt, mem, tgt_mask=mask), [t64(array(2, 2, 4)), memory])
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True).double()
    gradcheck(lambda q, k, v: mha(q, k, v)[0], [t64(array(2, 2, 4)), t64(array(3, 2, 3)), t64(array(3, 2, 2))])


def test_dropout_in_training_only():
    sg.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.5).double()
    src, tgt = t64(array(4, 2, 8)), t64(array(3, 2, 8))
    assert not np.allclose(value(model(src, tgt)), value(model(src, tgt)))
    model.eval()
    assert_close(model(src, tgt), value(model(src, tgt)))


def test_a_transformer_learns_to_copy():
    sg.manual_seed(0)
    rng = np.random.default_rng(0)
    vocab, length = 6, 5
    embed, position, head = nn.Embedding(vocab, 16), nn.Embedding(length, 16), nn.Linear(16, vocab)
    model = nn.Transformer(16, 2, 1, 1, 32, dropout=0.0, batch_first=True)
    params = [p for m in (embed, position, model, head) for p in m.parameters()]
    opt = optim.Adam(params, lr=1e-2)
    mask = nn.Transformer.generate_square_subsequent_mask(length)
    losses = []
    for _ in range(80):
        tokens = sg.tensor(rng.integers(1, vocab, (16, length)), dtype=sg.int64)
        tgt_in = sg.cat([sg.zeros(16, 1, dtype=sg.int64), tokens[:, :-1]], 1)  # shifted right, 0 = start
        positions = position(sg.arange(length))  # without them attention cannot tell positions apart
        logits = head(model(embed(tokens) + positions, embed(tgt_in) + positions, tgt_mask=mask))
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), tokens.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), (losses[:3], losses[-3:])


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(sg.zeros(4, 2, 8), sg.zeros(3, 3, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(sg.zeros(4, 2, 8), sg.zeros(3, 2, 6))
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        nn.MultiheadAttention(8, 2)(sg.zeros(8), sg.zeros(8), sg.zeros(8))
