"""`GPT`: a GPT-2 style decoder-only transformer, with nanoGPT's (and PyTorch's) parameter names.

    config = GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128)
    model = GPT(config)
    logits, loss = model(idx, targets)          # idx, targets: (B, T) int64
    out = model.generate(idx, max_new_tokens=100, temperature=0.8, top_k=10)   # with a KV cache
    out = model.generate(idx, 100, use_cache=False)                          # recomputing the context

`GPTConfig(gradient_checkpointing=True)` (or setting `model.gradient_checkpointing`) recomputes
each block's activations in the backward instead of keeping them (`somegrad.utils.checkpoint`).

State-dict keys: transformer.wte.weight, transformer.wpe.weight,
transformer.h.{i}.ln_1.{weight,bias}, transformer.h.{i}.attn.c_attn.{weight,bias},
transformer.h.{i}.attn.c_proj.*, transformer.h.{i}.ln_2.*, transformer.h.{i}.mlp.c_fc.*,
transformer.h.{i}.mlp.c_proj.*, transformer.ln_f.*, lm_head.weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import somegrad as sg
from somegrad.nn import functional as F
from somegrad.nn import init
from somegrad.nn.activation import GELU
from somegrad.nn.container import ModuleDict, ModuleList
from somegrad.nn.dropout import Dropout
from somegrad.nn.linear import Linear
from somegrad.nn.module import Module
from somegrad.nn.normalization import LayerNorm
from somegrad.nn.sparse import Embedding

__all__ = ["GPT", "GPTConfig", "KVCache"]


@dataclass
class GPTConfig:
    """The shape of a GPT. `bias`: biases in the Linear and LayerNorm layers;
    `tie_weights`: the LM head shares the token embedding's weight (as GPT-2);
    `gradient_checkpointing`: in training, keep only each block's input and recompute the rest
    in the backward (less memory, one more forward per step)."""

    vocab_size: int
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    tie_weights: bool = True
    gradient_checkpointing: bool = False

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")


class KVCache:
    """The keys and values of the positions a GPT has seen, per layer, for generation.

    Each layer's are kept in buffers of shape (B, n_head, block_size, head_dim), allocated at
    the first write in the dtype of the keys (so an autocast run keeps bfloat16 ones);
    `length` positions are filled. A forward with the cache attends over them and appends its
    own; `reset()` empties it.

        cache = KVCache(model.config)
        logits, _ = model(prompt, kv_cache=cache)        # (B, T) -> cache.length == T
        logits, _ = model(next_token, kv_cache=cache)    # (B, 1), at position T
    """

    def __init__(self, config: GPTConfig):
        self.block_size = config.block_size
        self.keys: list = [None] * config.n_layer
        self.values: list = [None] * config.n_layer
        self.length = 0

    def reset(self) -> None:
        self.length = 0

    def update(self, layer: int, k, v):
        """Store k, v (B, heads, T, head_dim) after the cached positions; return every cached
        position's keys and values, (B, heads, length + T, head_dim) each."""
        start, end = self.length, self.length + k.shape[2]
        buffer = self.keys[layer]
        if buffer is None or buffer.shape[:2] != k.shape[:2] or buffer.dtype != k.dtype:
            shape = (k.shape[0], k.shape[1], self.block_size, k.shape[3])
            self.keys[layer] = sg.zeros(shape, dtype=k.dtype, device=k.device)
            self.values[layer] = sg.zeros(shape[:3] + (v.shape[3],), dtype=v.dtype, device=v.device)
        self.keys[layer][:, :, start:end] = k
        self.values[layer][:, :, start:end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]


class CausalSelfAttention(Module):
    """Multi-head self-attention where position t attends to positions <= t."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
        self.c_attn = Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = Dropout(config.dropout)

    def forward(self, x, kv_cache: KVCache | None = None, layer: int = 0):
        batch, length, channels = x.shape
        heads, head_dim = self.n_head, channels // self.n_head
        # (B, T, 3C) -> (3, B, heads, T, head_dim): one permute instead of three
        qkv = self.c_attn(x).reshape(batch, length, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        dropout_p = self.dropout if self.training else 0.0
        past = 0 if kv_cache is None else kv_cache.length
        mask = None
        if kv_cache is not None:
            k, v = kv_cache.update(layer, k, v)
            if past and length > 1:
                # query i sits at position past + i: it sees keys 0 .. past + i (bottom-right
                # aligned; is_causal is top-left aligned, right only when there is no past)
                mask = (
                    sg.arange(past + length, device=x.device)
                    <= sg.arange(past, past + length, device=x.device)[:, None]
                )
        causal = past == 0 and length > 1
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=causal)
        y = y.transpose(1, 2).reshape(batch, length, channels)
        return self.resid_dropout(self.c_proj(y))


class MLP(Module):
    """The transformer block's feed-forward part: 4x wider, tanh-GELU, back."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = GELU(approximate="tanh")
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(Module):
    """A pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, kv_cache: KVCache | None = None, layer: int = 0):
        x = x + self.attn(self.ln_1(x), kv_cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(Module):
    """Token and position embeddings, `n_layer` blocks, a final LayerNorm and the LM head."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = ModuleDict(
            dict(
                wte=Embedding(config.vocab_size, config.n_embd),
                wpe=Embedding(config.block_size, config.n_embd),
                drop=Dropout(config.dropout),
                h=ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.gradient_checkpointing = config.gradient_checkpointing
        if config.tie_weights:
            self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        # GPT-2: residual projections scaled down by the number of residual additions.
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(param, 0.0, 0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: Module) -> None:
        if isinstance(module, Linear):
            init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, Embedding):
            init.normal_(module.weight, 0.0, 0.02)

    def num_parameters(self, non_embedding: bool = False) -> int:
        """The number of parameters (shared ones once); `non_embedding` leaves out the
        position embedding (and the token embedding when it is not tied to the head)."""
        total = sum(p.numel() for p in self.parameters())
        if non_embedding:
            total -= self.transformer.wpe.weight.numel()
            if not self.config.tie_weights:
                total -= self.transformer.wte.weight.numel()
        return total

    def forward(self, idx, targets=None, *, kv_cache: KVCache | None = None):
        """idx: (B, T) int64 with T <= block_size -> (logits (B, T, vocab_size), loss).

        loss is the mean cross entropy against `targets` (B, T) (entries of -1 are ignored,
        as in nanoGPT), or None without targets. With `kv_cache`, idx continues the cached
        positions (cache.length + T <= block_size) and its keys and values are appended."""
        batch, length = idx.shape
        start = 0 if kv_cache is None else kv_cache.length
        if start + length > self.config.block_size:
            cached = f" after {start} cached positions" if start else ""
            raise ValueError(
                f"GPT: cannot forward a sequence of length {length}{cached}, the block size is only "
                f"{self.config.block_size}"
            )
        pos = sg.arange(start, start + length, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        checkpointing = self.gradient_checkpointing and self.training and kv_cache is None and sg.is_grad_enabled()
        for layer, block in enumerate(self.transformer.h):
            if checkpointing:
                from somegrad.utils.checkpoint import checkpoint

                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x, kv_cache, layer)
        if kv_cache is not None:
            kv_cache.length += length
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def generate(
        self,
        idx,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        *,
        use_cache: bool = True,
    ):
        """Append `max_new_tokens` sampled tokens to idx (B, T) and return (B, T + new).

        The context is cropped to the last block_size tokens; the model runs in eval mode
        (restored afterwards) and without a graph; draws come from the device generator,
        so `sg.manual_seed` makes the result reproducible. temperature=0 picks the argmax.

        With `use_cache` (default) the keys and values of the positions seen are kept
        (:class:`KVCache`), so each new token costs one position's forward instead of the whole
        context's; the tokens are the ones the uncached path (`use_cache=False`) picks, and
        the draws come from the same distribution with the same random numbers. Once the
        context is full the positions of every token shift, so from then on each step runs
        the cropped context again, as the uncached path does.
        """
        was_training = self.training
        self.eval()
        block_size = self.config.block_size
        try:
            with sg.no_grad():
                cache = KVCache(self.config) if use_cache else None
                logits = None
                for _ in range(max_new_tokens):
                    context = idx if idx.shape[1] <= block_size else idx[:, -block_size:]
                    if cache is None:
                        logits, _ = self(context)
                    elif logits is None or cache.length >= block_size:
                        cache.reset()
                        logits, _ = self(context, kv_cache=cache)
                    else:
                        logits, _ = self(idx[:, -1:], kv_cache=cache)
                    next_token = self._sample(logits[:, -1, :], temperature, top_k)
                    idx = sg.cat([idx, next_token.to(idx.dtype)], 1)
        finally:
            self.train(was_training)
        return idx

    @staticmethod
    def _sample(logits, temperature, top_k):
        """The next token (B, 1) from the last position's logits (B, vocab_size)."""
        if temperature == 0:
            return logits.argmax(-1, keepdim=True)
        logits = logits / temperature
        if top_k is not None:
            kth = logits.topk(min(top_k, logits.shape[-1]), -1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, -math.inf)
        return sg.multinomial(F.softmax(logits, -1), 1)
