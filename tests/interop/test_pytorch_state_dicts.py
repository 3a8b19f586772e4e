"""State dicts cross between somegrad and PyTorch through safetensors files: the MLP, the CNN
and the GPT, built the same way in both, give the same outputs after loading either way."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.nn.models import CNN, GPT, MLP, GPTConfig

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

ROOT = Path(__file__).resolve().parents[2]


def _torch_mlp():
    t = torch.nn
    return t.Sequential(t.Flatten(), t.Linear(12, 16), t.ReLU(), t.Linear(16, 16), t.ReLU(), t.Linear(16, 3))


def _torch_cnn():
    t = torch.nn
    features = t.Sequential(
        t.Conv2d(1, 4, 3, padding=1), t.ReLU(), t.MaxPool2d(2), t.Conv2d(4, 8, 3, padding=1), t.ReLU(), t.MaxPool2d(2)
    )
    classifier = t.Sequential(t.Flatten(), t.Linear(8 * 2 * 2, 16), t.ReLU(), t.Dropout(0.0), t.Linear(16, 5))
    model = t.Module()
    model.features, model.classifier = features, classifier
    model.forward = lambda x: classifier(features(x))
    return model


def _torch_gpt(config):
    spec = importlib.util.spec_from_file_location("torch_gpt", ROOT / "benchmarks" / "torch_gpt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Sizes:
        gpt_width, gpt_heads, gpt_layers = config.n_embd, config.n_head, config.n_layer
        gpt_block, gpt_vocab = config.block_size, config.vocab_size

    return module.torch_gpt(Sizes)


def _exact_gelu(model):
    # the reference nanoGPT uses PyTorch's exact nn.GELU(); somegrad's GPT defaults to the tanh form
    for block in model.transformer.h:
        block.mlp.gelu = nn.GELU()
    return model


CASES = {
    "mlp": (lambda: MLP(12, (16, 16), 3), _torch_mlp, lambda rng: rng.normal(size=(4, 3, 4))),
    "cnn": (
        lambda: CNN(1, 5, image_size=8, channels=(4, 8), hidden=16),
        _torch_cnn,
        lambda rng: rng.normal(size=(2, 1, 8, 8)),
    ),
}


def _outputs(ours, theirs, x):
    with sg.no_grad(), torch.no_grad():
        mine = ours(sg.tensor(x)) if not isinstance(x, tuple) else ours(*x[0])
        other = theirs(torch.tensor(x)) if not isinstance(x, tuple) else theirs(*x[1])
    if isinstance(mine, tuple):
        mine, other = mine[0], other[0]
    return mine.numpy(), other.numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_models_round_trip(name, tmp_path):
    build_ours, build_theirs, make_input = CASES[name]
    sg.manual_seed(0)
    ours, theirs = build_ours().eval(), build_theirs().eval()
    x = make_input(np.random.default_rng(0)).astype(np.float32)
    assert set(ours.state_dict()) == set(theirs.state_dict())

    sg.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ours.safetensors")))
    np.testing.assert_allclose(*_outputs(ours, theirs, x), rtol=1e-5, atol=1e-5)

    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(-0.5)
    safetensors_torch.save_file(theirs.state_dict(), str(tmp_path / "theirs.safetensors"))
    ours.load_state_dict(sg.load(tmp_path / "theirs.safetensors"))
    np.testing.assert_allclose(*_outputs(ours, theirs, x), rtol=1e-5, atol=1e-5)


def test_gpt_round_trips_with_the_same_keys_and_logits(tmp_path):
    config = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    sg.manual_seed(0)
    ours, theirs = _exact_gelu(GPT(config)).eval(), _torch_gpt(config).eval()
    tokens = np.random.default_rng(1).integers(0, 11, size=(3, 8))
    x = ((sg.tensor(tokens),), (torch.tensor(tokens),))

    # PyTorch's safetensors refuses shared storage (the tied embedding), so save what it keeps
    sg.save(ours.state_dict(), tmp_path / "ours.safetensors")
    loaded = safetensors_torch.load_file(str(tmp_path / "ours.safetensors"))
    missing, unexpected = theirs.load_state_dict(loaded, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight", "transformer.wte.weight"}
    np.testing.assert_allclose(*_outputs(ours, theirs, x), rtol=1e-4, atol=1e-5)

    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(1.5)
    safetensors_torch.save_model(theirs, str(tmp_path / "theirs.safetensors"))
    result = ours.load_state_dict(sg.load(tmp_path / "theirs.safetensors"), strict=False)
    assert not result.unexpected_keys and set(result.missing_keys) <= {"lm_head.weight", "transformer.wte.weight"}
    np.testing.assert_allclose(*_outputs(ours, theirs, x), rtol=1e-4, atol=1e-5)
