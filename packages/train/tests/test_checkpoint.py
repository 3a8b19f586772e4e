"""Training checkpoints: exact resumes (2N steps == N + resume + N, bit for bit on CPU), refusal of
bad files before anything is loaded, and a writer killed with SIGKILL mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import somegrad as sg
from somegrad import optim
from somegrad.data import DataLoader, TensorDataset
from somegrad.serialization import SerializationError
from somegrad.train import fit, load_checkpoint, save_checkpoint


def parameters_of(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def build(tiny_classifier, make_blobs, seed):
    """A model, AdamW, a per-step warmup-cosine schedule and a shuffled loader."""
    sg.manual_seed(seed)
    model = tiny_classifier()
    opt = optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.01)
    sched = optim.lr_scheduler.WarmupCosineLR(opt, warmup_steps=3, total_steps=40)
    x, y = make_blobs(48)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)  # global generator
    return model, opt, sched, loader


def train_steps(model, opt, sched, loader, loss_fn, epochs):
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
    return losses


def test_resume_is_bit_identical(tmp_path, tiny_classifier, make_blobs, loss_fn):
    model, opt, sched, loader = build(tiny_classifier, make_blobs, seed=0)
    straight = train_steps(model, opt, sched, loader, loss_fn, epochs=4)
    expected = parameters_of(model)

    model, opt, sched, loader = build(tiny_classifier, make_blobs, seed=0)
    first = train_steps(model, opt, sched, loader, loss_fn, epochs=2)
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, epoch=2, step=12, metadata={"run": "a"})
    sg.manual_seed(123)  # disturb everything the checkpoint must restore
    sg.randn(100)

    # A fresh process would build everything anew, with other initial weights.
    model, opt, sched, loader = build(tiny_classifier, make_blobs, seed=99)
    info = load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    assert (info["epoch"], info["step"], info["metadata"]) == (2, 12, {"run": "a"})
    second = train_steps(model, opt, sched, loader, loss_fn, epochs=2)

    assert first + second == straight
    for resumed, uninterrupted in zip(parameters_of(model), expected, strict=True):
        assert resumed.tobytes() == uninterrupted.tobytes()


def test_fit_resume_with_start_epoch_is_bit_identical(tmp_path, tiny_classifier, make_blobs, loss_fn):
    model, opt, sched, loader = build(tiny_classifier, make_blobs, seed=1)
    straight = fit(
        model,
        loader,
        loss_fn,
        opt,
        epochs=4,
        scheduler=sched,
        scheduler_interval="step",
        progress=False,
    )
    expected = parameters_of(model)

    model, opt, sched, loader = build(tiny_classifier, make_blobs, seed=1)
    fit(
        model,
        loader,
        loss_fn,
        opt,
        epochs=2,
        scheduler=sched,
        scheduler_interval="step",
        progress=False,
    )
    save_checkpoint(tmp_path / "c.safetensors", model=model, optimizer=opt, scheduler=sched, epoch=2)
    model, opt, sched, loader = build(tiny_classifier, make_blobs, seed=7)
    epoch = load_checkpoint(tmp_path / "c.safetensors", model=model, optimizer=opt, scheduler=sched)["epoch"]
    resumed = fit(
        model,
        loader,
        loss_fn,
        opt,
        epochs=4,
        scheduler=sched,
        scheduler_interval="step",
        progress=False,
        start_epoch=epoch,
    )
    assert resumed["epoch"] == [3, 4]
    assert resumed["loss"] == straight["loss"][2:]
    for a, b in zip(parameters_of(model), expected, strict=True):
        assert a.tobytes() == b.tobytes()


def test_checkpoint_holds_plain_json_and_tensors(tmp_path, tiny_classifier):
    model = tiny_classifier()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    for p in model.parameters():
        p.grad = sg.ones(*p.shape)
    opt.step()
    sched.step(1.0)
    save_checkpoint(tmp_path / "c.safetensors", model=model, optimizer=opt, scheduler=sched, epoch=1, step=1)
    raw = sg.load(tmp_path / "c.safetensors")
    assert set(raw["model"]) == {"w1", "b1", "w2", "b2"}
    assert raw["optimizer"]["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert isinstance(raw["optimizer"]["state"][0]["momentum_buffer"], sg.Tensor)
    assert raw["scheduler"]["best"] == 1.0 and raw["scheduler"]["mode_worse"] == float("inf")
    assert raw["rng"] == sg.get_rng_state()


def test_bad_checkpoints_load_nothing(tmp_path, tiny_classifier):
    model = tiny_classifier()
    before = parameters_of(model)
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model=tiny_classifier(), epoch=1)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) - 3])
    with pytest.raises(SerializationError, match="c.safetensors"):
        load_checkpoint(path, model=model)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(parameters_of(model), before, strict=True))

    sg.save({"w1": sg.ones(1)}, tmp_path / "weights.safetensors")
    with pytest.raises(SerializationError, match="not a somegrad checkpoint"):
        load_checkpoint(tmp_path / "weights.safetensors", model=model)
    save_checkpoint(path, model=tiny_classifier())
    with pytest.raises(KeyError, match="holds no optimizer state"):
        load_checkpoint(path, optimizer=optim.SGD(model.parameters()))


WRITER = """
import sys
import somegrad as sg
from somegrad.train import save_checkpoint


class Model:
    weights = {"w": sg.zeros(3_000_000)}

    def state_dict(self):
        return self.weights


model = Model()
for version in range(1, 10_000):
    model.weights["w"].fill_(float(version))
    print("writing", version, flush=True)
    save_checkpoint(sys.argv[1], model=model, epoch=version)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_sigkill_mid_write_leaves_the_previous_checkpoint(tmp_path, subprocess_env):
    """Kill a process that keeps rewriting a 12 MB checkpoint the moment its temporary file
    appears: the checkpoint that is there loads, whole, and holds one complete version."""
    path = tmp_path / "ckpt.safetensors"
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            env=subprocess_env,
            text=True,
        )
        try:
            for _ in range(2):  # "writing 2" means version 1 is complete
                line = child.stdout.readline()
                assert line.startswith("writing"), line
            deadline = time.monotonic() + 20
            while not any(name.endswith(".tmp") for name in os.listdir(tmp_path)):
                assert time.monotonic() < deadline, "the writer never started a write"
                time.sleep(0.0005)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
            child.stdout.close()
        leftovers = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
        assert leftovers, "the kill did not land during a write"
        checkpoint = load_checkpoint(path, restore_rng=False)
        values = np.unique(checkpoint["model"]["w"].numpy())
        assert values.tolist() == [checkpoint["epoch"]]  # one complete version, not a mix
        for name in leftovers:
            os.unlink(tmp_path / name)
