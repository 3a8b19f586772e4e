"""nanoGPT's model in PyTorch, the reference for somegrad's GPT (the same state-dict names).

``sizes`` is a ``workloads.Sizes``. It uses PyTorch's fused ``scaled_dot_product_attention``,
as a PyTorch user would.
"""

from __future__ import annotations


def torch_gpt(sizes):
    """nanoGPT's model in PyTorch, with PyTorch's fused attention."""
    import torch

    nn, F = torch.nn, torch.nn.functional
    c, heads = sizes.gpt_width, sizes.gpt_heads

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(c, 3 * c)
            self.c_proj = nn.Linear(c, c)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.c_attn(x).split(c, dim=2)
            q, k, v = (z.view(b, t, heads, c // heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(c, 4 * c)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * c, c)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(c)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(c)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(sizes.gpt_vocab, c),
                    wpe=nn.Embedding(sizes.gpt_block, c),
                    h=nn.ModuleList([Block() for _ in range(sizes.gpt_layers)]),
                    ln_f=nn.LayerNorm(c),
                )
            )
            self.lm_head = nn.Linear(c, sizes.gpt_vocab, bias=False)
            self.transformer.wte.weight = self.lm_head.weight

        def forward(self, idx, targets=None):
            t = idx.shape[1]
            pos = torch.arange(t, dtype=torch.long)
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            return logits, loss

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
            for _ in range(max_new_tokens):
                idx_cond = idx[:, -sizes.gpt_block :]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float("inf")
                probs = F.softmax(logits, dim=-1)
                idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
            return idx

    return GPT()
