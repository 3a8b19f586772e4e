"""The GPT model: names, initialisation, causality, training to zero loss, generation."""

import math

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.nn.models import CNN, GPT, MLP, GPTConfig


def tiny(**overrides):
    config = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    config.update(overrides)
    return GPT(GPTConfig(**config))


def test_parameter_names_follow_nanogpt():
    model = tiny()
    names = [n for n, _ in model.named_parameters()]
    assert names[:8] == [
        "transformer.wte.weight",
        "transformer.wpe.weight",
        "transformer.h.0.ln_1.weight",
        "transformer.h.0.ln_1.bias",
        "transformer.h.0.attn.c_attn.weight",
        "transformer.h.0.attn.c_attn.bias",
        "transformer.h.0.attn.c_proj.weight",
        "transformer.h.0.attn.c_proj.bias",
    ]
    assert "lm_head.weight" not in names  # tied: listed once, under its first name
    assert "lm_head.weight" in model.state_dict() and "transformer.h.1.mlp.c_fc.weight" in model.state_dict()
    assert model.lm_head.weight is model.transformer.wte.weight
    untied = tiny(tie_weights=False, bias=False)
    assert "lm_head.weight" in dict(untied.named_parameters())
    assert not any(n.endswith("bias") for n, _ in untied.named_parameters())
    expected = 11 * 16 + 8 * 16 + 2 * (4 * 16 + 16 * 48 + 48 + 16 * 16 + 16 + 16 * 64 + 64 + 64 * 16 + 16) + 2 * 16
    assert model.num_parameters() == expected


def test_gpt2_initialisation():
    model = tiny(n_layer=4, n_embd=64)
    c_proj = model.transformer.h[0].attn.c_proj.weight.numpy(force=True)
    c_fc = model.transformer.h[0].mlp.c_fc.weight.numpy(force=True)
    assert abs(c_fc.std() - 0.02) < 0.002
    assert abs(c_proj.std() - 0.02 / math.sqrt(8)) < 0.001
    assert float(model.transformer.h[0].attn.c_attn.bias.abs().sum()) == 0.0


def test_forward_shapes_and_loss():
    model = tiny()
    idx = sg.randint(0, 11, (3, 8))
    logits, loss = model(idx)
    assert logits.shape == (3, 8, 11) and loss is None
    logits, loss = model(idx, idx)
    assert loss.shape == () and abs(loss.item() - math.log(11)) < 0.3
    with pytest.raises(ValueError, match="block size is only 8"):
        model(sg.randint(0, 11, (1, 9)))


def test_logits_at_t_do_not_depend_on_later_tokens():
    model = tiny()
    idx = sg.randint(0, 11, (2, 8))
    changed = idx.numpy().copy()
    changed[:, 5:] = (changed[:, 5:] + 3) % 11
    a, _ = model(idx)
    b, _ = model(sg.tensor(changed))
    a, b = a.numpy(force=True), b.numpy(force=True)
    np.testing.assert_allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert not np.allclose(a[:, 5:], b[:, 5:], atol=1e-3)


def adam(params, lr):
    """A minimal Adam (the optimizers live in somegrad-train, which nn must not need)."""
    state = [(sg.zeros_like(p), sg.zeros_like(p)) for p in params]
    step = [0]

    def update():
        step[0] += 1
        with sg.no_grad():
            for p, (m, v) in zip(params, state):
                m.mul_(0.9).add_(p.grad * 0.1)
                v.mul_(0.999).add_(p.grad * p.grad * 0.001)
                m_hat = m / (1 - 0.9 ** step[0])
                v_hat = v / (1 - 0.999 ** step[0])
                p.sub_(m_hat / (v_hat.sqrt() + 1e-8) * lr)
                p.grad = None

    return update


def test_tiny_gpt_overfits_a_sequence():
    model = tiny(n_embd=32, block_size=16)
    data = sg.tensor([[1, 5, 2, 8, 3, 3, 9, 0, 4, 7, 6, 1, 2, 10, 5, 8, 3]])
    x, y = data[:, :-1], data[:, 1:]
    step = adam(list(model.parameters()), 1e-2)
    for _ in range(120):
        _, loss = model(x, y)
        loss.backward()
        step()
    assert loss.item() < 0.05
    sg.manual_seed(0)
    out = model.generate(x[:, :1], 15, temperature=0)
    assert out.tolist() == data[:, :16].tolist()


def test_generate_is_reproducible_crops_context_and_restores_mode():
    model = tiny(dropout=0.1)
    idx = sg.randint(0, 11, (2, 3))
    sg.manual_seed(7)
    a = model.generate(idx, 12, temperature=0.8, top_k=4)
    sg.manual_seed(7)
    b = model.generate(idx, 12, temperature=0.8, top_k=4)
    assert a.shape == (2, 15) and a.tolist() == b.tolist()  # longer than block_size 8: cropped
    assert a[:, :3].tolist() == idx.tolist()
    assert model.training and not a.requires_grad
    model.eval()
    model.generate(idx, 1)
    assert not model.training


def test_top_k_one_is_greedy():
    model = tiny()
    idx = sg.randint(0, 11, (1, 4))
    greedy = model.generate(idx, 5, temperature=0)
    assert model.generate(idx, 5, top_k=1).tolist() == greedy.tolist()


def test_dropout_only_in_training():
    model = tiny(dropout=0.5)
    idx = sg.randint(0, 11, (2, 8))
    a, _ = model(idx)
    b, _ = model(idx)
    assert not np.allclose(a.numpy(force=True), b.numpy(force=True))
    model.eval()
    a, _ = model(idx)
    b, _ = model(idx)
    np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))


def test_mlp_and_cnn_models():
    mlp = MLP(12, [16, 8], 3, dropout=0.1)
    assert mlp(sg.randn(5, 3, 4)).shape == (5, 3)
    assert [n for n, _ in mlp.named_parameters()][0] == "1.weight"
    cnn = CNN(image_size=8, batch_norm=True)
    out = cnn(sg.randn(4, 1, 8, 8))
    assert out.shape == (4, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in cnn.parameters())
    assert isinstance(cnn.features[0], nn.Conv2d)


def test_fused_kernels_agree_with_decompositions_on_the_whole_model():
    from somegrad.ops.dispatch import use_decompositions

    model = tiny().double()
    idx = sg.randint(0, 11, (2, 8))
    results = []
    for decompose in (False, True):
        model.zero_grad()
        with use_decompositions(decompose):
            logits, loss = model(idx, idx)
            loss.backward()
        grads = [p.grad.numpy() for p in model.parameters()]
        results.append((logits.numpy(force=True), loss.item(), grads))
    (la, sa, ga), (lb, sb, gb) = results
    np.testing.assert_allclose(la, lb, atol=1e-12)
    assert abs(sa - sb) < 1e-12
    for a, b in zip(ga, gb, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_gpt_runs_in_other_dtypes(dtype):
    model = tiny().to(getattr(sg, dtype))
    idx = sg.randint(0, 11, (2, 8))
    logits, loss = model(idx, idx)
    assert logits.dtype is getattr(sg, dtype) and math.isfinite(loss.item())
    loss.backward()
    assert model.transformer.wte.weight.grad.dtype is getattr(sg, dtype)


def test_import_exposes_the_nn_package():
    import somegrad
    from somegrad import nn as imported

    assert imported is nn and somegrad.nn is nn and hasattr(imported, "Module")


# --- the KV cache ---------------------------------------------------------------------------------


def test_cached_forward_gives_the_full_forwards_logits():
    from somegrad.nn.models import KVCache

    sg.manual_seed(0)
    model = tiny().double().eval()
    idx = sg.randint(0, 11, (2, 8))
    full, _ = model(idx)
    cache = KVCache(model.config)
    with sg.no_grad():
        prefix, _ = model(idx[:, :3], kv_cache=cache)  # a prompt of 3
        middle, _ = model(idx[:, 3:6], kv_cache=cache)  # 3 more at once: the bottom-right causal mask
        steps = [model(idx[:, t : t + 1], kv_cache=cache)[0] for t in (6, 7)]  # one at a time
    pieces = sg.cat([prefix, middle, *steps], 1)
    np.testing.assert_allclose(pieces.numpy(), full.numpy(force=True), atol=1e-12)
    assert cache.length == 8 and tuple(cache.keys[0].shape) == (2, 2, 8, 8)
    with pytest.raises(ValueError, match="length 1 after 8 cached positions, the block size is only 8"):
        model(idx[:, :1], kv_cache=cache)
    cache.reset()
    again, _ = model(idx[:, :2], kv_cache=cache)
    np.testing.assert_allclose(again.numpy(force=True), full[:, :2].numpy(force=True), atol=1e-12)


@pytest.mark.parametrize("new_tokens", [5, 20])  # within the context, and well past it (block 8)
@pytest.mark.parametrize("temperature, top_k", [(0, None), (1.0, None), (0.8, 3)])
def test_cached_generation_equals_the_uncached_path(new_tokens, temperature, top_k):
    sg.manual_seed(1)
    model = tiny()
    prompt = sg.randint(0, 11, (3, 2))
    outputs = []
    for use_cache in (True, False):
        sg.manual_seed(7)  # the same random numbers for the draws
        outputs.append(model.generate(prompt, new_tokens, temperature=temperature, top_k=top_k, use_cache=use_cache))
    assert outputs[0].shape == (3, 2 + new_tokens)
    assert outputs[0].tolist() == outputs[1].tolist()


def test_cached_sampling_draws_from_the_uncached_distribution():
    """The next-token probabilities of the cached and uncached paths agree at every step of a
    sampled continuation (so the draws are from the same distribution), not only the argmax."""
    from somegrad.nn import functional as F
    from somegrad.nn.models import KVCache

    sg.manual_seed(2)
    model = tiny().eval()
    sg.manual_seed(3)
    out = model.generate(sg.randint(0, 11, (2, 1)), 7, temperature=1.0)
    cache = KVCache(model.config)
    with sg.no_grad():
        for t in range(out.shape[1]):
            cached = F.softmax(model(out[:, t : t + 1], kv_cache=cache)[0][:, -1], -1)
            plain = F.softmax(model(out[:, : t + 1])[0][:, -1], -1)
            np.testing.assert_allclose(cached.numpy(), plain.numpy(), rtol=1e-5, atol=1e-7)


def test_generate_keeps_the_training_mode_and_records_no_graph():
    model = tiny()
    out = model.generate(sg.zeros(1, 1, dtype=sg.int64), 3)
    assert model.training and not out.requires_grad


# --- gradient checkpointing -------------------------------------------------------------------------


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_gradient_checkpointing_gives_the_same_gradients(dropout):
    sg.manual_seed(4)
    plain = tiny(dropout=dropout)
    checkpointed = tiny(dropout=dropout, gradient_checkpointing=True)
    checkpointed.load_state_dict(plain.state_dict())
    idx = sg.randint(0, 11, (2, 8))
    results = []
    for model in (plain, checkpointed):
        sg.manual_seed(5)  # dropout masks: the recomputation must draw the same ones
        _, loss = model(idx, idx)
        loss.backward()
        results.append((loss.item(), [p.grad.numpy().copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(a, b)
    # what the graph holds: one checkpoint node per block instead of the blocks' ops
    _, loss = checkpointed(idx, idx)
    names, stack, seen = set(), [loss.grad_fn], set()
    while stack:
        node = stack.pop()
        if isinstance(node, sg.autograd.Node) and id(node) not in seen:
            seen.add(id(node))
            names.add(node.name())
            stack.extend(node.next_functions)
    assert "CheckpointBackward0" in names and "ScaledDotProductAttentionBackward0" not in names
    checkpointed.eval()
    _, loss = checkpointed(idx, idx)  # eval: no checkpointing
    assert loss.grad_fn is not None
