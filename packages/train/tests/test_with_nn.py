"""The training stack with real ``somegrad.nn`` models: fit with gradient clipping, an exact
checkpoint resume with dropout, and state dicts that PyTorch models load (and back)."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad import optim
from somegrad.data import DataLoader, TensorDataset, random_split
from somegrad.train import EarlyStopping, fit, load_checkpoint, save_checkpoint

nn = pytest.importorskip("somegrad.nn")
F = pytest.importorskip("somegrad.nn.functional")


def mlp():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))


def loaders(make_blobs, seed=0):
    x, y = make_blobs(96, seed=seed)
    train, val = random_split(TensorDataset(x, y), [0.75, 0.25], generator=sg.Generator().manual_seed(0))
    return DataLoader(train, batch_size=12, shuffle=True), DataLoader(val, batch_size=24)


def test_fit_an_nn_model_with_clipping_and_early_stopping(make_blobs):
    sg.manual_seed(0)
    model = mlp()
    opt = optim.AdamW(model.parameters(), lr=0.02)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    train, val = loaders(make_blobs)
    history = fit(
        model, train, F.cross_entropy, opt, epochs=10, scheduler=sched, val_loader=val,
        metrics=["accuracy"], callbacks=[EarlyStopping(patience=3)], grad_clip=1.0,
        accumulate=2, progress=False,
    )  # fmt: skip
    assert history["val_accuracy"][-1] >= 0.9
    assert history["lr"][1] < history["lr"][0]
    assert model.training  # evaluate restored the mode that training set
    assert len(history.steps) == len(history) * 3  # 6 batches per epoch, a step every 2


def run(model, opt, loader, epochs):
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()


def test_resume_with_dropout_is_bit_identical(make_blobs, tmp_path):
    def build(seed):
        sg.manual_seed(seed)
        model = mlp()
        return model, optim.Adam(model.parameters(), lr=0.01, amsgrad=True), loaders(make_blobs)[0]

    model, opt, loader = build(0)
    run(model, opt, loader, 4)
    expected = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    model, opt, loader = build(0)
    run(model, opt, loader, 2)
    save_checkpoint(tmp_path / "c.safetensors", model=model, optimizer=opt, epoch=2)
    model, opt, loader = build(5)
    load_checkpoint(tmp_path / "c.safetensors", model=model, optimizer=opt)
    run(model, opt, loader, 2)
    for name, value in model.state_dict().items():
        assert value.numpy().tobytes() == expected[name].tobytes(), name


@pytest.mark.parity
def test_state_dict_round_trips_with_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    sg.manual_seed(0)
    ours = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)

    sg.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ours.safetensors")))
    with sg.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(sg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
        for p in theirs.parameters():
            p.mul_(0.5)
    safetensors_torch.save_file(theirs.state_dict(), str(tmp_path / "theirs.safetensors"))
    ours.load_state_dict(sg.load(tmp_path / "theirs.safetensors"))
    with sg.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(sg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
