"""Side by side with PyTorch: the same weights give the same outputs and gradients, and
the same model has the same state-dict keys."""

import math

import numpy as np
import pytest

import somegrad as sg
import somegrad.nn.functional as F
from somegrad import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity


def to_sg(t, requires_grad=False):
    return sg.tensor(t.detach().numpy(), requires_grad=requires_grad)


def load_from_torch(sg_module, torch_module):
    sg_module.load_state_dict({k: sg.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()})


def close(sg_tensor, torch_tensor, atol=1e-5, rtol=1e-4):
    np.testing.assert_allclose(sg_tensor.numpy(force=True), torch_tensor.detach().numpy(), atol=atol, rtol=rtol)


def check_module(sg_module, torch_module, *inputs):
    load_from_torch(sg_module, torch_module)
    sg_inputs = [to_sg(x, x.dtype.is_floating_point) for x in inputs]
    torch_inputs = [x.clone().requires_grad_(x.dtype.is_floating_point) for x in inputs]
    out, expected = sg_module(*sg_inputs), torch_module(*torch_inputs)
    close(out, expected)
    weights = torch.randn(expected.shape)
    (out * to_sg(weights)).sum().backward()
    (expected * weights).sum().backward()
    for a, b in zip(sg_inputs, torch_inputs):
        if b.grad is not None:
            close(a.grad, b.grad)
    grads = dict(sg_module.named_parameters())
    for name, p in torch_module.named_parameters():
        close(grads[name].grad, p.grad)


def test_linear():
    check_module(nn.Linear(5, 3), torch.nn.Linear(5, 3), torch.randn(4, 2, 5))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(stride=1, padding=1),
        dict(stride=2, padding=0, dilation=2),
        dict(padding="same", groups=2),
    ],
)
def test_conv2d(kwargs):
    check_module(nn.Conv2d(4, 6, 3, **kwargs), torch.nn.Conv2d(4, 6, 3, **kwargs), torch.randn(2, 4, 9, 8))


def test_conv_transpose2d_and_pools():
    check_module(
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
        torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
        torch.randn(2, 3, 4, 5),
    )
    x = torch.randn(2, 3, 7, 8)
    check_module(nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1), x)
    check_module(
        nn.AvgPool2d(3, 2, 1, count_include_pad=False),
        torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
        x,
    )
    check_module(nn.AdaptiveAvgPool2d((3, 5)), torch.nn.AdaptiveAvgPool2d((3, 5)), x)


def test_layer_norm_and_batch_norm():
    check_module(nn.LayerNorm(6), torch.nn.LayerNorm(6), torch.randn(3, 4, 6))
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    check_module(ours, theirs, torch.randn(4, 3, 2, 5) * 3 + 1)
    close(ours.running_mean, theirs.running_mean)
    close(ours.running_var, theirs.running_var)
    ours.eval()
    theirs.eval()
    x = torch.randn(4, 3, 2, 5)
    close(ours(to_sg(x)), theirs(x))
    check_module(nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4), torch.randn(3, 4, 5))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(label_smoothing=0.1),
        dict(ignore_index=2, reduction="sum"),
        dict(weight=True, label_smoothing=0.2),
        dict(reduction="none"),
    ],
)
def test_cross_entropy(kwargs):
    x = torch.randn(7, 5, requires_grad=True)
    y = torch.randint(0, 5, (7,))
    if kwargs.get("weight"):
        kwargs = dict(kwargs, weight=torch.rand(5) + 0.5)
    sg_kwargs = {k: (to_sg(v) if k == "weight" else v) for k, v in kwargs.items()}
    ours = to_sg(x, True)
    out = F.cross_entropy(ours, to_sg(y), **sg_kwargs)
    expected = torch.nn.functional.cross_entropy(x, y, **kwargs)
    close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    close(ours.grad, x.grad)
    probs = torch.softmax(torch.randn(7, 5), 1)
    close(
        F.cross_entropy(to_sg(x), to_sg(probs), label_smoothing=0.1),
        torch.nn.functional.cross_entropy(x, probs, label_smoothing=0.1),
    )


def test_other_losses():
    a, b = torch.randn(4, 3), torch.rand(4, 3)
    tf = torch.nn.functional
    close(F.smooth_l1_loss(to_sg(a), to_sg(b), beta=0.3), tf.smooth_l1_loss(a, b, beta=0.3))
    close(
        F.binary_cross_entropy_with_logits(to_sg(a), to_sg(b), pos_weight=to_sg(b[0] + 1)),
        tf.binary_cross_entropy_with_logits(a, b, pos_weight=b[0] + 1),
    )
    close(
        F.binary_cross_entropy(to_sg(a.sigmoid()), to_sg(b)),
        tf.binary_cross_entropy(a.sigmoid(), b),
    )
    logp = torch.log_softmax(a, 1)
    y = torch.tensor([0, 2, 1, 1])
    close(F.nll_loss(to_sg(logp), to_sg(y)), tf.nll_loss(logp, y))


@pytest.mark.parametrize("is_causal", [False, True])
def test_scaled_dot_product_attention(is_causal):
    q, k, v = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 5, 4), torch.randn(2, 3, 5, 6)
    close(
        F.scaled_dot_product_attention(to_sg(q), to_sg(k), to_sg(v), is_causal=is_causal),
        torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=is_causal),
    )
    mask = torch.rand(5, 5) > 0.3
    mask[:, 0] = True
    close(
        F.scaled_dot_product_attention(to_sg(q), to_sg(k), to_sg(v), attn_mask=to_sg(mask)),
        torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask),
    )


def test_multihead_attention():
    ours, theirs = (
        nn.MultiheadAttention(8, 2, batch_first=True),
        torch.nn.MultiheadAttention(8, 2, batch_first=True),
    )
    load_from_torch(ours, theirs)
    x = torch.randn(2, 5, 8)
    mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)
    out, weights = ours(to_sg(x), to_sg(x), to_sg(x), attn_mask=to_sg(mask))
    expected, expected_weights = theirs(x, x, x, attn_mask=mask)
    close(out, expected)
    close(weights, expected_weights)
    assert list(ours.state_dict()) == list(theirs.state_dict())


class TorchGPTBlock(torch.nn.Module):
    """nanoGPT's block, in PyTorch, for the parity check."""

    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = torch.nn.LayerNorm(n_embd)
        self.attn = torch.nn.Module()
        self.attn.c_attn = torch.nn.Linear(n_embd, 3 * n_embd)
        self.attn.c_proj = torch.nn.Linear(n_embd, n_embd)
        self.ln_2 = torch.nn.LayerNorm(n_embd)
        self.mlp = torch.nn.Module()
        self.mlp.c_fc = torch.nn.Linear(n_embd, 4 * n_embd)
        self.mlp.c_proj = torch.nn.Linear(4 * n_embd, n_embd)

    def attention(self, x):
        b, t, c = x.shape
        q, k, v = self.attn.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.attn.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp.c_proj(torch.nn.functional.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class TorchGPT(torch.nn.Module):
    def __init__(self, vocab, block, n_layer, n_head, n_embd):
        super().__init__()
        self.transformer = torch.nn.ModuleDict(
            dict(
                wte=torch.nn.Embedding(vocab, n_embd),
                wpe=torch.nn.Embedding(block, n_embd),
                drop=torch.nn.Dropout(0.0),
                h=torch.nn.ModuleList([TorchGPTBlock(n_embd, n_head) for _ in range(n_layer)]),
                ln_f=torch.nn.LayerNorm(n_embd),
            )
        )
        self.lm_head = torch.nn.Linear(n_embd, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets):
        pos = torch.arange(idx.shape[1])
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return logits, torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def test_gpt_matches_pytorch_and_has_its_state_dict_keys():
    from somegrad.nn.models import GPT, GPTConfig

    theirs = TorchGPT(13, 8, 2, 2, 16)
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(0, 0.3)
    ours = GPT(GPTConfig(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_from_torch(ours, theirs)
    idx = torch.randint(0, 13, (3, 8))
    targets = torch.randint(0, 13, (3, 8))
    logits, loss = ours(to_sg(idx), to_sg(targets))
    expected_logits, expected_loss = theirs(idx, targets)
    close(logits, expected_logits, atol=1e-4)
    close(loss, expected_loss)
    loss.backward()
    expected_loss.backward()
    grads = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        close(grads[name].grad, p.grad, atol=1e-5, rtol=1e-3)


def test_state_dict_keys_match_pytorch():
    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Conv2d(1, 4, 3),
            lib.nn.BatchNorm2d(4),
            lib.nn.ReLU(),
            lib.nn.MaxPool2d(2),
            lib.nn.Flatten(),
            lib.nn.Linear(4, 3),
            lib.nn.LayerNorm(3),
            lib.nn.Embedding(5, 3),
            lib.nn.GroupNorm(1, 3),
        )

    ours, theirs = build(sg), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert tuple(ours.state_dict()[key].shape) == tuple(value.shape), key
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)


def test_default_initialisation_ranges_match():
    torch.manual_seed(0)
    for ours, theirs in [
        (nn.Linear(30, 20), torch.nn.Linear(30, 20)),
        (nn.Conv2d(3, 8, 5), torch.nn.Conv2d(3, 8, 5)),
    ]:
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            bound = q.detach().abs().max().item()
            limit = 1 / math.sqrt(ours.weight[0].numel())
            assert p.numpy(force=True).__abs__().max() <= limit + 1e-6 and bound <= limit + 1e-6, name
