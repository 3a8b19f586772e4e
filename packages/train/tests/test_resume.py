"""Resuming ``fit`` keeps the bookkeeping (history appended, steps counted on), ``load_checkpoint``
loads all or nothing, and the rank helper answers for one process."""

from __future__ import annotations

import csv
import json
import sys
import types

import numpy as np
import pytest

import somegrad as sg
from somegrad import optim
from somegrad.data import DataLoader, TensorDataset
from somegrad.train import ModelCheckpoint, fit, load_checkpoint, ranks, save_checkpoint


def build(tiny_classifier, make_blobs, seed=0, d_hidden=8):
    sg.manual_seed(seed)
    model = tiny_classifier(d_hidden=d_hidden, p=0.0)
    opt = optim.AdamW(model.parameters(), lr=0.05)
    sched = optim.lr_scheduler.WarmupCosineLR(opt, warmup_steps=2, total_steps=30)
    x, y = make_blobs(40)
    return model, opt, sched, DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)


def snapshot(*objects):
    """Every tensor and plain value the objects' state dicts hold, copied."""
    out = []
    for obj in objects:
        state = obj.state_dict()
        if "state" in state:  # an optimizer
            out.append(json.dumps(state["param_groups"], default=str))
            for entry in state["state"].values():
                out += [v.numpy().copy() if isinstance(v, sg.Tensor) else v for v in entry.values()]
        else:
            out += [v.numpy().copy() if isinstance(v, sg.Tensor) else json.dumps(v) for v in state.values()]
    return out


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(a, b))


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_resumed_fit_appends_history_and_counts_steps_on(tmp_path, tiny_classifier, make_blobs, loss_fn, suffix):
    model, opt, sched, loader = build(tiny_classifier, make_blobs)
    history_path = tmp_path / f"history{suffix}"
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch}.safetensors", save_best_only=False)
    kwargs = dict(scheduler_interval="step", progress=False, verbose=False, history_path=history_path)
    straight = fit(model, loader, loss_fn, opt, epochs=4, scheduler=sched, callbacks=[checkpoint], **kwargs)
    assert straight["step"] == [5, 10, 15, 20]

    # a run interrupted after epoch 3 (its history file went on to epoch 4), resumed from epoch 2
    model, opt, sched, loader = build(tiny_classifier, make_blobs, seed=5)
    saved = load_checkpoint(tmp_path / "ckpt-2.safetensors", model=model, optimizer=opt, scheduler=sched)
    assert (saved["epoch"], saved["step"]) == (2, 10)
    checkpoint = ModelCheckpoint(tmp_path / "again-{epoch}.safetensors", save_best_only=False)
    resumed = fit(
        model,
        loader,
        loss_fn,
        opt,
        epochs=4,
        scheduler=sched,
        start_epoch=saved["epoch"],
        callbacks=[checkpoint],
        **kwargs,
    )
    assert resumed["epoch"] == [1, 2, 3, 4] and resumed["step"] == [5, 10, 15, 20]
    assert resumed["loss"] == straight["loss"]
    if suffix == ".json":
        assert [s["step"] for s in resumed.steps] == list(range(1, 21))
        written = json.loads(history_path.read_text())["epochs"]
    else:
        written = list(csv.DictReader(history_path.open()))
    assert [int(record["epoch"]) for record in written] == [1, 2, 3, 4]
    assert float(written[0]["loss"]) == straight["loss"][0]  # the first run's epochs, kept
    # the next checkpoint records the steps of the whole run, not of the resumed part
    assert load_checkpoint(tmp_path / "again-4.safetensors", restore_rng=False)["step"] == 20


def test_start_step_without_a_history(tiny_classifier, make_blobs, loss_fn):
    model, opt, sched, loader = build(tiny_classifier, make_blobs)
    history = fit(model, loader, loss_fn, opt, epochs=3, start_epoch=2, progress=False, verbose=False)
    assert history["step"] == [15]  # 2 epochs of 5 batches counted from the loader's length
    history = fit(model, loader, loss_fn, opt, epochs=3, start_epoch=2, start_step=7, progress=False, verbose=False)
    assert history.steps[0]["step"] == 8 and history["step"] == [12]
    with pytest.raises(ValueError, match="start_step must be a non-negative integer"):
        fit(model, loader, loss_fn, opt, epochs=3, start_step=-1)


def test_load_checkpoint_is_all_or_nothing(tmp_path, tiny_classifier, make_blobs, loss_fn):
    model, opt, sched, loader = build(tiny_classifier, make_blobs)
    fit(model, loader, loss_fn, opt, epochs=1, scheduler=sched, progress=False, verbose=False)
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, epoch=1, step=5)

    def fresh(**changes):
        model, opt, sched, loader = build(tiny_classifier, make_blobs, seed=3, **changes)
        fit(model, loader, loss_fn, opt, epochs=1, scheduler=sched, progress=False, verbose=False)
        return model, opt, sched

    # another model: the model check fails before anything, the optimizer included, changes
    model, opt, sched = fresh(d_hidden=6)
    before = snapshot(model, opt, sched)
    with pytest.raises(RuntimeError, match=r"size mismatch for w1: copying a param with shape \(4, 8\)"):
        load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    assert same(snapshot(model, opt, sched), before)

    # the right model with the wrong optimizer: neither model nor optimizer changes
    model, opt, sched = fresh()
    other = optim.AdamW(list(model.parameters())[::-1], lr=0.05)  # the parameters in another order
    for p in model.parameters():
        p.grad = sg.ones(*p.shape)
    other.step()
    before = snapshot(model, other)
    with pytest.raises(ValueError, match=r"AdamW: parameter group 0, parameter 0: state 'exp_avg' has shape \(4, 8\)"):
        load_checkpoint(path, model=model, optimizer=other)
    assert same(snapshot(model, other), before)

    sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sgd.step()
    with pytest.raises(ValueError, match=r"SGD: parameter group 0, parameter 0: .*'exp_avg'.*'momentum_buffer'"):
        load_checkpoint(path, optimizer=sgd)
    two_groups = optim.AdamW([{"params": [model.w1, model.b1]}, {"params": [model.w2, model.b2]}])
    with pytest.raises(ValueError, match="AdamW: the checkpoint .* has 1 parameter groups, the optimizer has 2"):
        load_checkpoint(path, optimizer=two_groups)
    fewer = optim.AdamW([model.w1, model.b1, model.w2])
    with pytest.raises(ValueError, match="AdamW: parameter group 0 has 3 parameters, the checkpoint's .* has 4"):
        load_checkpoint(path, optimizer=fewer)

    # the wrong scheduler: nothing loaded
    model, opt, sched = fresh()
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt)
    before = snapshot(model, opt)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: the checkpoint.s .*another scheduler class"):
        load_checkpoint(path, model=model, optimizer=opt, scheduler=plateau)
    assert same(snapshot(model, opt), before)

    # all three right: everything is loaded
    info = load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    assert info["step"] == 5 and sched.last_epoch == info["scheduler"]["last_epoch"]


def test_rank_helper_in_one_process(monkeypatch):
    monkeypatch.delitem(sys.modules, "somegrad.distributed", raising=False)
    assert (ranks.get_rank(), ranks.get_world_size(), ranks.is_main_process()) == (0, 1, True)
    assert ranks.distributed() is None
    ranks.barrier()  # nothing to wait for
    means, samples = ranks.mean_across_ranks({"loss": 6.0, "accuracy": 3.0}, 4)
    assert means == {"loss": 1.5, "accuracy": 0.75} and samples == 4

    import somegrad.distributed as dist

    assert not dist.is_initialized() and ranks.distributed() is None  # imported, not initialised


def test_rank_helper_under_an_initialised_group(monkeypatch, tiny_classifier, make_blobs, loss_fn, tmp_path, capsys):
    """A stand-in for somegrad.distributed as rank 1 of 2, whose all_reduce adds what rank 0
    would send: the helper averages over both ranks, and fit on a rank other than 0 prints,
    writes and saves nothing."""
    calls = []

    class ReduceOp:
        SUM = "sum"

    def all_reduce(tensor, op):
        calls.append(("all_reduce", op))
        tensor.mul_(2)  # rank 0 holds the same sums

    fake = types.SimpleNamespace(
        is_initialized=lambda: True,
        get_rank=lambda: 1,
        get_world_size=lambda: 2,
        barrier=lambda: calls.append(("barrier",)),
        all_reduce=all_reduce,
        ReduceOp=ReduceOp,
    )
    monkeypatch.setitem(sys.modules, "somegrad.distributed", fake)
    assert (ranks.get_rank(), ranks.get_world_size(), ranks.is_main_process()) == (1, 2, False)
    means, samples = ranks.mean_across_ranks({"loss": 6.0}, 4)
    assert means == {"loss": 1.5} and samples == 8

    model, opt, sched, loader = build(tiny_classifier, make_blobs)
    calls.clear()
    history = fit(
        model,
        loader,
        loss_fn,
        opt,
        epochs=2,
        history_path=tmp_path / "h.json",
        callbacks=[ModelCheckpoint(tmp_path / "c.safetensors", save_best_only=False)],
    )
    assert list(tmp_path.iterdir()) == []
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert calls == [("all_reduce", "sum"), ("barrier",)] * 2  # the epoch's means, the checkpoint's wait
    assert len(history) == 2 and history.epochs[0]["samples_per_second"] > 0


def test_plot_has_one_x_axis_stable_colours_and_no_flat_lr_panel(tiny_classifier, make_blobs, loss_fn):
    pytest.importorskip("matplotlib")
    model, opt, sched, loader = build(tiny_classifier, make_blobs)
    constant = fit(model, loader, loss_fn, opt, epochs=2, val_loader=loader, progress=False, verbose=False)
    axes = constant.figure().axes
    assert [a.get_title() for a in axes] == ["loss"]  # a learning rate that never moved: no panel
    assert axes[0].get_xlabel() == "step"
    lines = {line.get_label(): line for line in axes[0].get_lines()}
    assert list(lines["loss (steps)"].get_xdata()) == list(range(1, 11))
    assert list(lines["val_loss"].get_xdata()) == [5, 10]  # epochs drawn at the step they ended on
    assert lines["loss"].get_color() == lines["loss (steps)"].get_color() != lines["val_loss"].get_color()

    model, opt, sched, loader = build(tiny_classifier, make_blobs)
    scheduled = fit(
        model,
        loader,
        loss_fn,
        opt,
        epochs=2,
        scheduler=sched,
        scheduler_interval="step",
        metrics=["accuracy"],
        val_loader=loader,
        progress=False,
        verbose=False,
    )
    axes = scheduled.figure().axes
    assert [a.get_title() for a in axes] == ["loss", "learning rate", "metrics"]
    assert {a.get_xlabel() for a in axes} == {"step"}
    again = {line.get_label(): line.get_color() for line in scheduled.figure().axes[0].get_lines()}
    assert again == {label: line.get_color() for label, line in lines.items()}  # the same colours every time


def test_fit_gives_a_samplers_set_epoch_each_epoch(tiny_classifier, make_blobs, loss_fn):
    from somegrad.data import DistributedSampler

    model, opt, sched, _ = build(tiny_classifier, make_blobs)
    x, y = make_blobs(40)
    data = TensorDataset(x, y)
    sampler = DistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=3)
    seen = []
    original = sampler.set_epoch
    sampler.set_epoch = lambda epoch: (seen.append(epoch), original(epoch))
    loader = DataLoader(data, batch_size=8, sampler=sampler)
    fit(model, loader, loss_fn, opt, epochs=4, start_epoch=1, progress=False, verbose=False)
    assert seen == [1, 2, 3]
