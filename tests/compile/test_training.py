"""Compiled training steps give the eager bits: MLP, CNN and GPT with AdamW, clipping and a
cosine schedule for 50 steps; eval-mode inference and GPT.generate compile too."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.nn.models import CNN, GPT, MLP, GPTConfig
from somegrad.optim.lr_scheduler import CosineAnnealingLR

from .helpers import run_side_by_side, twins


def clip_grad_norm(parameters, max_norm):
    """Gradient clipping with no host read (PyTorch's formulation: the coefficient is clamped
    to 1 and always applied), which a compiled step can replay."""
    grads = [p.grad for p in parameters if p.grad is not None]
    total = sg.stack([(g.detach() ** 2).sum() for g in grads]).sum() ** 0.5
    coefficient = (max_norm / (total + 1e-6)).clamp(max=1.0)
    with sg.no_grad():
        for g in grads:
            g.mul_(coefficient)
    return total


def training_step(loss_of, clip=1.0):
    def make(model, opt, sched):
        params = list(model.parameters())

        def step(*batch):
            opt.zero_grad()
            loss = loss_of(model, *batch)
            loss.backward()
            clip_grad_norm(params, clip)
            opt.step()
            return loss

        return step

    return make


def adamw(model):
    return sg.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1, capturable=True)


def cosine(opt):
    return CosineAnnealingLR(opt, T_max=50, eta_min=1e-4)


def classification(model, x, y):
    return nn.functional.cross_entropy(model(x), y)


def test_mlp_50_steps_bit_identical():
    triples = twins(lambda: MLP(12, (32, 16), 5), adamw, cosine)
    batches = [(sg.randn(16, 12), sg.randint(0, 5, (16,))) for _ in range(50)]
    compiled = run_side_by_side(training_step(classification), triples, batches)
    assert next(iter(compiled.signatures.values())).program is not None


@pytest.mark.slow
def test_cnn_50_steps_bit_identical():
    triples = twins(lambda: CNN(1, 4, image_size=8, channels=(4, 8), hidden=16, batch_norm=True), adamw, cosine)
    batches = [(sg.randn(4, 1, 8, 8), sg.randint(0, 4, (4,))) for _ in range(50)]
    run_side_by_side(training_step(classification), triples, batches)


def gpt_config(**extra):
    return GPTConfig(vocab_size=17, block_size=8, n_layer=2, n_head=2, n_embd=16, **extra)


def lm_loss(model, idx, targets):
    _, loss = model(idx, targets)
    return loss


@pytest.mark.slow
def test_gpt_50_steps_bit_identical_with_dropout():
    # dropout draws from the generator: the replay's random kernels draw the same numbers
    triples = twins(lambda: GPT(gpt_config(dropout=0.1)), adamw, cosine)
    batches = [(sg.randint(0, 17, (2, 8)), sg.randint(0, 17, (2, 8))) for _ in range(50)]
    compiled = run_side_by_side(training_step(lm_loss), triples, batches)
    assert "foreach_adam_step_" in compiled.explain(file=_Null())


class _Null:
    def write(self, text):
        pass


def test_eval_inference_compiles_and_train_mode_is_a_guard():
    sg.manual_seed(0)
    model = MLP(6, (8,), 3)
    model.eval()

    @sg.compile
    def predict(x):
        with sg.no_grad():
            return model(x).softmax(-1)

    xs = [sg.randn(4, 6) for _ in range(6)]
    for x in xs:
        with sg.no_grad():
            expected = model(x).softmax(-1)
        assert np.array_equal(predict(x).numpy(), expected.numpy())
    assert len(predict.signatures) == 1
    model.train()
    predict(xs[0])
    assert len(predict.signatures) == 2  # a different mode records again


def test_gpt_generate_compiles():
    sg.manual_seed(0)
    model = GPT(gpt_config())
    generate = sg.compile(lambda idx: model.generate(idx, 5, temperature=1.0, top_k=5))
    prompt = sg.randint(0, 17, (2, 3))
    for i in range(5):
        sg.manual_seed(i)
        expected = model.generate(prompt, 5, temperature=1.0, top_k=5)
        sg.manual_seed(i)
        got = generate(prompt)
        assert np.array_equal(got.numpy(), expected.numpy()), i
    assert next(iter(generate.signatures.values())).program is not None


def test_new_shape_records_again_and_both_replay():
    sg.manual_seed(0)
    model = MLP(6, (8,), 3)
    fn = sg.compile(lambda x: model(x).sum(-1).detach())
    for n in (2, 3, 2, 3, 2, 3, 2, 3):
        x = sg.randn(n, 6)
        assert np.array_equal(fn(x).numpy(), model(x).sum(-1).detach().numpy())
    assert all(sig.program is not None for sig in fn.signatures.values())
    assert len(fn.signatures) == 2


def test_outputs_are_fresh_each_call():
    w = sg.randn(4, 4)
    fn = sg.compile(lambda x: x @ w + 1)
    outs = [fn(sg.ones(2, 4) * i) for i in range(6)]
    for i, out in enumerate(outs):
        assert np.allclose(out.numpy(), ((sg.ones(2, 4) * i) @ w + 1).numpy())


@pytest.mark.parametrize("amsgrad", [False, True])
def test_capturable_adamw_gives_the_bits_of_the_python_step_count(amsgrad):
    triples = twins(
        lambda: MLP(5, (7,), 3),
        lambda m: sg.optim.AdamW(m.parameters(), lr=1e-2, amsgrad=amsgrad),
    )
    (m1, o1, _), (m2, _, _) = triples
    o2 = sg.optim.AdamW(m2.parameters(), lr=1e-2, amsgrad=amsgrad, capturable=True)
    for _ in range(10):
        x, y = sg.randn(4, 5), sg.randint(0, 3, (4,))
        for model, opt in ((m1, o1), (m2, o2)):
            opt.zero_grad()
            classification(model, x, y).backward()
            opt.step()
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert np.array_equal(p.numpy(force=True), q.numpy(force=True))
    step = o2.state[next(iter(m2.parameters()))]["step"]
    assert isinstance(step, sg.Tensor) and step.dtype is sg.float32 and step.item() == 10.0
    # a state saved by a capturable optimizer loads into either kind
    o1.load_state_dict(o2.state_dict())
    assert o1.state[next(iter(m1.parameters()))]["step"] == 10
