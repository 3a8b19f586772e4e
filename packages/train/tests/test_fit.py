"""somegrad.train loops: fit, train_one_epoch, evaluate, history files, progress bars, callbacks
and metrics."""

from __future__ import annotations

import csv
import io
import json
import logging

import numpy as np
import pytest

import somegrad as sg
from somegrad import optim
from somegrad.data import DataLoader, TensorDataset
from somegrad.train import (
    Callback,
    EarlyStopping,
    EpochLogger,
    History,
    ModelCheckpoint,
    accuracy,
    evaluate,
    fit,
    load_checkpoint,
    top_k_accuracy,
    train_one_epoch,
)
from somegrad.train.progress import ProgressBar


@pytest.fixture
def setup(tiny_classifier, make_blobs):
    def make(seed=0, n=60, batch_size=16, p=0.0, lr=0.1, momentum=0.9, maximize=False):
        sg.manual_seed(seed)
        model = tiny_classifier(p=p)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum, maximize=maximize)
        x, y = make_blobs(n, seed=seed)
        vx, vy = make_blobs(30, seed=seed + 100)
        train = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
        val = DataLoader(TensorDataset(vx, vy), batch_size=batch_size)
        return model, opt, train, val

    return make


def params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_fit_learns_and_records_history(setup, loss_fn):
    model, opt, train, val = setup()
    history = fit(model, train, loss_fn, opt, epochs=6, val_loader=val, metrics=["accuracy"], progress=False)
    assert isinstance(history, History) and len(history) == 6
    assert history.keys() == [
        "epoch",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "step",
        "time",
        "samples_per_second",
    ]
    assert history["epoch"] == [1, 2, 3, 4, 5, 6]
    assert history["step"] == [4, 8, 12, 16, 20, 24]
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_accuracy"][-1] > 0.9
    assert len(history.steps) == 6 * 4  # 60 samples in batches of 16
    assert [s["step"] for s in history.steps] == list(range(1, 25))
    assert history.steps[5] == {"step": 6, "epoch": 2, "loss": history.steps[5]["loss"], "lr": 0.1}
    with pytest.raises(KeyError, match="History has no 'val_top5'"):
        history["val_top5"]
    assert "6 epochs, 24 steps" in repr(history)


def test_evaluate_is_eval_mode_no_grad_and_weighted(tiny_classifier, make_blobs, loss_fn):
    model = tiny_classifier(p=0.5)
    x, y = make_blobs(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)  # batches of 4, 4, 2
    results = evaluate(model, loader, loss_fn, metrics=["accuracy"])
    assert model.calls == [(False, False)] * 3
    assert model.training  # the mode is restored
    with sg.no_grad():
        model.eval()
        logits = model(x)
        model.train()
    assert results["loss"] == pytest.approx(loss_fn(logits, y).item(), rel=1e-6)
    assert results["accuracy"] == pytest.approx(accuracy(logits, y))
    model.eval()
    evaluate(model, loader)
    assert not model.training


def test_gradient_accumulation_matches_a_manual_loop(tiny_classifier, make_blobs, loss_fn):
    x, y = make_blobs(32)
    loader = DataLoader(TensorDataset(x, y), batch_size=5)  # 7 batches: 3 pairs and a leftover

    sg.manual_seed(3)
    model = tiny_classifier(p=0.0)
    opt = optim.SGD(model.parameters(), lr=0.2)
    results = train_one_epoch(model, loader, loss_fn, opt, accumulate=2, progress=False)

    sg.manual_seed(3)
    manual = tiny_classifier(p=0.0)
    manual_opt = optim.SGD(manual.parameters(), lr=0.2)
    batches = list(loader)
    losses = []
    for start in range(0, len(batches), 2):
        manual_opt.zero_grad()
        for bx, by in batches[start : start + 2]:
            loss = loss_fn(manual(bx), by)
            (loss / 2).backward()
            losses.append((loss.item(), by.shape[0]))
        manual_opt.step()
    for a, b in zip(params(model), params(manual), strict=True):
        np.testing.assert_array_equal(a, b)
    expected = sum(value * n for value, n in losses) / 32
    assert results["loss"] == pytest.approx(expected, rel=1e-6)


def test_grad_clip_bounds_the_update(tiny_classifier, make_blobs, loss_fn):
    pytest.importorskip("somegrad.nn.utils")
    x, y = make_blobs(16)
    loader = DataLoader(TensorDataset(x * 100, y), batch_size=16)
    model = tiny_classifier(p=0.0)
    before = params(model)
    opt = optim.SGD(model.parameters(), lr=1.0)
    train_one_epoch(model, loader, loss_fn, opt, grad_clip=1e-3, progress=False)
    change = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(params(model), before, strict=True)))
    assert 0 < change <= 1e-3 * (1 + 1e-5)


def test_schedulers_per_epoch_per_step_and_on_plateau(setup, loss_fn):
    model, opt, train, _ = setup(lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, train, loss_fn, opt, epochs=3, scheduler=sched, progress=False)
    assert history["lr"] == [0.1, 0.05, 0.025]
    assert [s["lr"] for s in history.steps[:5]] == [0.1, 0.1, 0.1, 0.1, 0.05]

    model, opt, train, _ = setup()
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=8)
    reference = optim.lr_scheduler.OneCycleLR(optim.SGD([sg.zeros(1)], lr=0.1, momentum=0.9), max_lr=0.5, total_steps=8)
    expected = []
    for _ in range(8):
        expected.append(reference.get_last_lr()[0])
        reference.step()
    history = fit(
        model,
        train,
        loss_fn,
        opt,
        epochs=2,
        scheduler=sched,
        scheduler_interval="step",
        progress=False,
    )
    assert [s["lr"] for s in history.steps] == expected

    model, opt, train, val = setup(lr=0.0, momentum=0.0)  # nothing improves
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, eps=0.0)
    opt.param_groups[0]["lr"] = 1e-30  # a learning rate that cannot change the loss
    history = fit(model, train, loss_fn, opt, epochs=4, scheduler=sched, val_loader=val, progress=False)
    assert history["lr"] == [1e-30, 1e-30, 1e-30, 5e-31]


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_fit_start(self, state):
        self.events.append("fit_start")

    def on_epoch_start(self, state):
        self.events.append(f"epoch_start {state.epoch}")

    def on_step_end(self, state, logs):
        self.events.append(f"step {state.step}")

    def on_epoch_end(self, state, logs):
        self.events.append(f"epoch_end {state.epoch}")

    def on_fit_end(self, state):
        self.events.append("fit_end")


def test_callback_hooks_in_order(setup, loss_fn):
    model, opt, train, _ = setup(n=32, batch_size=16)
    recorder = Recorder()
    fit(model, train, loss_fn, opt, epochs=2, callbacks=[recorder], progress=False)
    assert recorder.events == [
        "fit_start",
        "epoch_start 0", "step 1", "step 2", "epoch_end 1",
        "epoch_start 1", "step 3", "step 4", "epoch_end 2",
        "fit_end",
    ]  # fmt: skip


def test_early_stopping_and_restoring_the_best_weights(setup, loss_fn):
    model, opt, train, val = setup(lr=0.05, momentum=0.0, maximize=True)  # gets worse each epoch
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, state, logs):
            snapshots[state.epoch] = params(state.model)

    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    history = fit(
        model,
        train,
        loss_fn,
        opt,
        epochs=20,
        val_loader=val,
        callbacks=[Snapshot(), stopper],
        progress=False,
    )
    assert len(history) == 3  # epoch 1 is best, then 2 epochs without improvement
    assert (stopper.monitor, stopper.best_epoch, stopper.stopped_epoch) == ("val_loss", 1, 3)
    assert stopper.best == history["val_loss"][0]
    for a, b in zip(params(model), snapshots[1], strict=True):
        np.testing.assert_array_equal(a, b)

    with pytest.raises(KeyError, match="monitored 'val_acc' is not among the epoch's results"):
        fit(
            model,
            train,
            loss_fn,
            opt,
            epochs=1,
            callbacks=[EarlyStopping("val_acc")],
            progress=False,
        )
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        EarlyStopping(mode="best")


def test_model_checkpoint_keeps_the_best(setup, loss_fn, tmp_path):
    model, opt, train, val = setup()
    best = ModelCheckpoint(tmp_path / "best-{epoch}.safetensors", monitor="val_accuracy", mode="max")
    every = ModelCheckpoint(tmp_path / "weights.safetensors", save_best_only=False, weights_only=True)
    history = fit(
        model,
        train,
        loss_fn,
        opt,
        epochs=4,
        val_loader=val,
        metrics=["accuracy"],
        callbacks=[best, every],
        progress=False,
    )
    best_epoch = int(np.argmax(history["val_accuracy"])) + 1
    assert best.best == max(history["val_accuracy"])
    assert best.best_path == str(tmp_path / f"best-{best_epoch}.safetensors")
    checkpoint = load_checkpoint(best.best_path, restore_rng=False)
    assert checkpoint["epoch"] == best_epoch
    assert checkpoint["metadata"]["monitor"] == "val_accuracy"
    weights = sg.load(tmp_path / "weights.safetensors")  # the last epoch's weights
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(weights[name].numpy(), value.numpy())


def test_epoch_logger(setup, loss_fn, caplog):
    model, opt, train, val = setup(n=32)
    lines = []
    fit(
        model,
        train,
        loss_fn,
        opt,
        epochs=2,
        val_loader=val,
        callbacks=[EpochLogger(lines.append, every_n_steps=1)],
        progress=False,
    )
    epoch_lines = [line for line in lines if line.startswith("epoch")]
    assert len(epoch_lines) == 2 and len(lines) == 2 + 2 * 2
    assert epoch_lines[1].startswith("epoch 2/2  loss ") and " val_loss " in epoch_lines[1]
    assert lines[0].startswith("step 1  loss ")
    with caplog.at_level(logging.INFO, logger="somegrad.train"):
        logger = logging.getLogger("somegrad.train")
        fit(model, train, loss_fn, opt, epochs=1, callbacks=[EpochLogger(logger.info)], progress=False)
    assert "epoch 1/1" in caplog.text


def test_fit_prints_epoch_summaries_by_default_and_is_quiet_on_request(setup, loss_fn, capsys):
    model, opt, train, val = setup(n=32)
    fit(model, train, loss_fn, opt, epochs=2, val_loader=val, progress=False)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert " val_loss " in lines[1] and " step " not in lines[1]
    fit(model, train, loss_fn, opt, epochs=1, progress=False, verbose=False)
    # an EpochLogger of one's own replaces the default one
    fit(model, train, loss_fn, opt, epochs=1, progress=False, callbacks=[EpochLogger(lambda line: None)])
    assert capsys.readouterr().out == ""


def test_history_files(setup, loss_fn, tmp_path, caplog):
    model, opt, train, val = setup(n=32)
    path = tmp_path / "history.csv"
    with caplog.at_level(logging.INFO, logger="somegrad.train"):
        history = fit(
            model,
            train,
            loss_fn,
            opt,
            epochs=2,
            val_loader=val,
            metrics=["accuracy"],
            progress=False,
            history_path=path,
        )
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["val_loss"]) == history["val_loss"][1]  # CSV keeps every digit
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not (tmp_path / "history.png").exists()
        assert "matplotlib is not installed" in caplog.text
    else:
        assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    history.save(tmp_path / "h.json")
    saved = json.loads((tmp_path / "h.json").read_text())
    assert saved["epochs"] == history.epochs and len(saved["steps"]) == 4
    with pytest.raises(ValueError, match="must end in .csv or .json"):
        fit(model, train, loss_fn, opt, epochs=1, history_path=tmp_path / "h.txt")
    with pytest.raises(ValueError, match="unknown suffix '.txt'"):
        history.save(tmp_path / "h.txt")


def test_plot_draws_a_png(setup, loss_fn, tmp_path):
    pytest.importorskip("matplotlib")
    model, opt, train, val = setup(n=32)
    history = fit(model, train, loss_fn, opt, epochs=2, val_loader=val, metrics=["accuracy"], progress=False)
    assert history.plot(tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 1000


def test_progress_bar_shows_loss_lr_and_throughput():
    stream = io.StringIO()
    bar = ProgressBar(range(3), total=3, desc="epoch 1/2", file=stream, force=True)
    for _ in bar:
        bar.update(0.1234567, 0.001, 2500.0)
    bar.close()
    text = stream.getvalue()
    assert "epoch 1/2" in text and "loss=0.1235" in text and "lr=0.001" in text
    assert "samples_s=2500" in text and "3/3" in text
    quiet = io.StringIO()
    assert list(ProgressBar(range(2), total=2, desc="x", file=quiet)) == [0, 1]  # not a TTY
    assert list(ProgressBar(range(2), total=2, desc="x", enabled=False, force=True)) == [0, 1]
    assert quiet.getvalue() == ""


def test_progress_under_a_pipe_is_plain_lines(setup, loss_fn, capsys):
    # capsys replaces stderr with something that is not a terminal, as a pipe or a log file is
    model, opt, train, _ = setup(n=64)
    fit(model, train, loss_fn, opt, epochs=2, progress=True, verbose=False)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "\r" not in "".join(err)  # one closing line per epoch, no bar redraws
    assert err[0].startswith("epoch 1/2  4/4 batches  loss ") and " samples/s  " in err[0]
    assert err[1].startswith("epoch 2/2  4/4 batches")
    fit(model, train, loss_fn, opt, epochs=1, progress=False, verbose=False)
    assert capsys.readouterr().err == ""


def test_plain_lines_come_every_interval():
    stream = io.StringIO()
    bar = ProgressBar(range(5), total=5, desc="epoch 1/1", file=stream, interval=0.0)
    for _ in bar:
        bar.update(0.5, 0.01, 100.0)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert [line.split("  ")[1] for line in lines] == [
        "1/5 batches",
        "2/5 batches",
        "3/5 batches",
        "4/5 batches",
        "5/5 batches",
        "5/5 batches",
    ]
    assert bar.kind is None  # closed
    unknown = io.StringIO()
    bar = ProgressBar(iter(range(3)), total=None, desc="eval", file=unknown, interval=3600.0)
    assert list(bar) == [0, 1, 2]
    bar.close()
    assert unknown.getvalue().startswith("eval  3 batches  ")


def test_progress_in_a_notebook_uses_tqdm_auto(setup, loss_fn, monkeypatch, capsys):
    """A Jupyter kernel (an IPython whose shell is a ZMQInteractiveShell) gets tqdm.auto's bar:
    the widget where ipywidgets is installed, else tqdm's text bar in the cell."""
    import sys
    import types

    class ZMQInteractiveShell:
        pass

    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: ZMQInteractiveShell()
    monkeypatch.setitem(sys.modules, "IPython", fake)
    from somegrad.train.progress import in_notebook

    assert in_notebook()
    seen = []
    import tqdm.auto

    original = tqdm.auto.tqdm

    def recording(*args, **kwargs):
        bar = original(*args, file=sys.stderr, **kwargs)
        seen.append(bar)
        return bar

    monkeypatch.setattr(tqdm.auto, "tqdm", recording)
    bar = ProgressBar(range(3), total=3, desc="epoch 1/1")
    assert bar.kind == "notebook" and list(bar) == [0, 1, 2]
    bar.close()
    model, opt, train, _ = setup(n=32)
    fit(model, train, loss_fn, opt, epochs=1, verbose=False)
    assert len(seen) == 2 and seen[1].n == 2  # the fit's bar went through both batches
    assert "epoch 1/1" in capsys.readouterr().err
    fake.get_ipython = lambda: None  # plain IPython in a terminal is no notebook
    assert not in_notebook()


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(accumulate=0), ValueError, "accumulate must be an integer >= 1, got 0"),
        (dict(scheduler_interval="batch"), ValueError, "scheduler_interval must be 'epoch' or"),
        (dict(start_epoch=5), ValueError, r"start_epoch must be an integer in \[0, epochs=2\]"),
        (dict(metrics=["f1"]), ValueError, "unknown metric 'f1'"),
        (dict(grad_clip=-1.0), ValueError, "grad_clip must be positive"),
    ],
)
def test_fit_bad_arguments(setup, loss_fn, kwargs, error, message):
    model, opt, train, _ = setup(n=16)
    with pytest.raises(error, match=message):
        fit(model, train, loss_fn, opt, epochs=2, progress=False, **kwargs)


def test_batches_must_be_pairs_and_exist(tiny_classifier, loss_fn):
    model = tiny_classifier()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="train_one_epoch: expected each batch to be an"):
        train_one_epoch(model, [sg.ones(2, 4)], loss_fn, opt, progress=False)
    with pytest.raises(ValueError, match="train_one_epoch: the loader yielded no batches"):
        fit(model, [], loss_fn, opt, epochs=1, progress=False)


def test_metrics():
    logits = sg.tensor([[0.1, 2.0, 0.3], [3.0, 0.0, 1.0], [0.0, 0.1, 0.2], [1.0, 0.9, 0.8]])
    target = sg.tensor([1, 0, 0, 1], dtype=sg.int64)
    assert accuracy(logits, target) == 0.5
    assert top_k_accuracy(2)(logits, target) == 0.75
    with pytest.raises(ValueError, match=r"accuracy: expected output \(N, C\) and target \(N,\)"):
        accuracy(logits, target.reshape(2, 2))
