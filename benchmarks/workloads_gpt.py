"""The char GPT workloads: training (plain, bf16 autocast, checkpointed) and generation (with and
without somegrad's KV cache), from nanoGPT-named NumPy weights."""

from __future__ import annotations

import math

import numpy as np
from plumbing import LR, WEIGHT_DECAY, Sizes, Unavailable, _import_somegrad, _import_torch, _load, _training_step
from torch_gpt import torch_gpt

# --- char GPT ------------------------------------------------------------------------


def gpt_weights(sizes: Sizes) -> dict[str, np.ndarray]:
    """GPT-2 style initialisation, under nanoGPT's (and somegrad's) state-dict names.

    The LM head is tied to the token embedding, so it has no entry of its own.
    """
    rng = np.random.default_rng(3)
    c, layers = sizes.gpt_width, sizes.gpt_layers

    def normal(*shape, std=0.02):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def zeros(*shape):
        return np.zeros(shape, np.float32)

    def ones(*shape):
        return np.ones(shape, np.float32)

    w = {
        "transformer.wte.weight": normal(sizes.gpt_vocab, c),
        "transformer.wpe.weight": normal(sizes.gpt_block, c),
    }
    projection_std = 0.02 / math.sqrt(2 * layers)
    for i in range(layers):
        p = f"transformer.h.{i}."
        w[p + "ln_1.weight"], w[p + "ln_1.bias"] = ones(c), zeros(c)
        w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"] = normal(3 * c, c), zeros(3 * c)
        w[p + "attn.c_proj.weight"] = normal(c, c, std=projection_std)
        w[p + "attn.c_proj.bias"] = zeros(c)
        w[p + "ln_2.weight"], w[p + "ln_2.bias"] = ones(c), zeros(c)
        w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"] = normal(4 * c, c), zeros(4 * c)
        w[p + "mlp.c_proj.weight"] = normal(c, 4 * c, std=projection_std)
        w[p + "mlp.c_proj.bias"] = zeros(c)
    w["transformer.ln_f.weight"], w["transformer.ln_f.bias"] = ones(c), zeros(c)
    return w


def gpt_inputs(sizes: Sizes) -> dict:
    rng = np.random.default_rng(4)
    shape = (sizes.gpt_batch, sizes.gpt_block)
    return {
        "sizes": sizes,
        "weights": gpt_weights(sizes),
        "idx": rng.integers(0, sizes.gpt_vocab, shape).astype(np.int64),
        "targets": rng.integers(0, sizes.gpt_vocab, shape).astype(np.int64),
        "context": rng.integers(0, sizes.gpt_vocab, (1, sizes.generate_context)).astype(np.int64),
        "prompt": rng.integers(0, sizes.gpt_vocab, (1, sizes.cached_context)).astype(np.int64),
    }


def _somegrad_gpt(sizes: Sizes):
    _import_somegrad("nn")
    try:
        from somegrad.nn.models import GPT, GPTConfig
    except ImportError as e:
        raise Unavailable(f"somegrad.nn.models.GPT is not available: {e}") from e
    config = GPTConfig(
        vocab_size=sizes.gpt_vocab,
        block_size=sizes.gpt_block,
        n_layer=sizes.gpt_layers,
        n_head=sizes.gpt_heads,
        n_embd=sizes.gpt_width,
        dropout=0.0,
        bias=True,
        tie_weights=True,
    )
    return GPT(config)


def _gpt_model(framework: str, inputs: dict):
    sizes = inputs["sizes"]
    if framework == "torch":
        _import_torch()
        model = torch_gpt(sizes)
    else:
        model = _somegrad_gpt(sizes)
    try:
        how = _load(framework, model, inputs["weights"])
    except ValueError as e:
        how = f"own initialisation ({e})"
    inputs.setdefault("loaded", {})[framework] = how
    return model


def gpt_train_somegrad(inputs: dict):
    sg, optim = _import_somegrad("optim")
    model = _gpt_model("somegrad", inputs)
    opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])
    return _training_step(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


def gpt_train_torch(inputs: dict):
    torch = _import_torch()
    model = _gpt_model("torch", inputs)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = torch.from_numpy(inputs["idx"]), torch.from_numpy(inputs["targets"])
    return _training_step(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


def gpt_train_bf16_somegrad(inputs: dict):
    sg, optim = _import_somegrad("optim")
    if not hasattr(sg, "autocast"):
        raise Unavailable("this somegrad has no autocast")
    model = _gpt_model("somegrad", inputs)
    opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])

    def forward_loss():
        with sg.autocast("cpu", dtype=sg.bfloat16):
            return model(idx, targets)[1]

    return _training_step(opt.zero_grad, forward_loss, opt.step)


def gpt_train_bf16_torch(inputs: dict):
    torch = _import_torch()
    model = _gpt_model("torch", inputs)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = torch.from_numpy(inputs["idx"]), torch.from_numpy(inputs["targets"])

    def forward_loss():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return model(idx, targets)[1]

    return _training_step(opt.zero_grad, forward_loss, opt.step)


def gpt_train_checkpointed_somegrad(inputs: dict):
    sg, optim = _import_somegrad("optim")
    model = _gpt_model("somegrad", inputs)
    if not hasattr(model, "gradient_checkpointing"):
        raise Unavailable("this somegrad's GPT has no gradient_checkpointing")
    model.gradient_checkpointing = True
    opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])
    return _training_step(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


def gpt_train_checkpointed_torch(inputs: dict):
    torch = _import_torch()
    from torch.utils.checkpoint import checkpoint

    model = _gpt_model("torch", inputs)
    for block in model.transformer.h:  # each block's forward through torch.utils.checkpoint
        block.forward = (lambda forward: lambda x: checkpoint(forward, x, use_reentrant=False))(block.forward)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = torch.from_numpy(inputs["idx"]), torch.from_numpy(inputs["targets"])
    return _training_step(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


def _somegrad_generate(inputs: dict, context_key: str, tokens: int, use_cache: bool):
    (sg,) = _import_somegrad()
    model = _gpt_model("somegrad", inputs)
    model.eval()
    context = sg.tensor(inputs[context_key])
    try:
        model.generate(context, 1, use_cache=use_cache)
    except TypeError as e:
        raise Unavailable(f"this somegrad's GPT.generate has no use_cache: {e}") from e

    def step() -> None:
        with sg.no_grad():
            model.generate(context, tokens, temperature=1.0, top_k=None, use_cache=use_cache)

    return step


def _torch_generate(inputs: dict, context_key: str, tokens: int):
    torch = _import_torch()
    model = _gpt_model("torch", inputs)
    model.eval()
    context = torch.from_numpy(inputs[context_key])

    def step() -> None:
        model.generate(context, tokens, temperature=1.0, top_k=None)

    return step


def gpt_generate_somegrad(inputs: dict):
    # the path without a KV cache, as this row measured before the cache existed
    return _somegrad_generate(inputs, "context", inputs["sizes"].generate_tokens, use_cache=False)


def gpt_generate_torch(inputs: dict):
    return _torch_generate(inputs, "context", inputs["sizes"].generate_tokens)


def gpt_generate_cached_somegrad(inputs: dict):
    return _somegrad_generate(inputs, "prompt", inputs["sizes"].cached_tokens, use_cache=True)


def gpt_generate_uncached_somegrad(inputs: dict):
    return _somegrad_generate(inputs, "prompt", inputs["sizes"].cached_tokens, use_cache=False)


def gpt_generate_prompt_torch(inputs: dict):
    # nanoGPT's generate, which recomputes the context for every token (no KV cache)
    return _torch_generate(inputs, "prompt", inputs["sizes"].cached_tokens)


# --- the list ----------------------------------------------------------------------------------
