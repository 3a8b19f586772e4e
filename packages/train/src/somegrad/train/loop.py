"""The training loops: ``train_one_epoch``, ``evaluate`` and ``fit``.

A batch is a ``(inputs, target)`` pair (or ``(*inputs, target)``): the loops call
``model(*inputs)`` and ``loss_fn(output, target)``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import somegrad as sg
from somegrad.data.collate import move_to_device
from somegrad.optim.lr_scheduler import ReduceLROnPlateau

from .callbacks import Callback, EpochLogger, TrainingState
from .history import HISTORY_SUFFIXES, History
from .metrics import resolve_metrics
from .progress import ProgressBar
from .ranks import is_main_process, mean_across_ranks

__all__ = ["train_one_epoch", "evaluate", "fit"]


def _split_batch(batch: Any, where: str) -> tuple[tuple[Any, ...], Any]:
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return tuple(batch[:-1]), batch[-1]
    length = f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""
    raise TypeError(f"{where}: expected each batch to be an (inputs, target) pair, got {type(batch).__name__}{length}")


def _batch_size(target: Any) -> int:
    shape = getattr(target, "shape", None)
    return int(shape[0]) if shape else 1


class _Averages:
    """Running means weighted by batch size."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.samples = 0

    def add(self, values: Mapping[str, float], n: int) -> None:
        for key, value in values.items():
            self.totals[key] = self.totals.get(key, 0.0) + value * n
        self.samples += n

    def means(self) -> dict[str, float]:
        """The means over every rank of a data-parallel run (this process's alone otherwise);
        `samples` becomes the total over the ranks."""
        means, self.samples = mean_across_ranks(self.totals, self.samples)
        return means


def _as_float(value: Any) -> float:
    return float(value.item() if hasattr(value, "item") else value)


def _lr(optimizer: Any) -> float:
    return float(optimizer.param_groups[0]["lr"])


def train_one_epoch(
    model: Any,
    loader: Iterable[Any],
    loss_fn: Callable[[Any, Any], Any],
    optimizer: Any,
    *,
    scheduler: Any = None,
    metrics: Any = None,
    grad_clip: float | None = None,
    accumulate: int = 1,
    device: Any = None,
    progress: bool = True,
    state: TrainingState | None = None,
    callbacks: Sequence[Callback] = (),
    desc: str = "train",
) -> dict[str, float]:
    """Train ``model`` for one pass over ``loader``; returns the epoch's mean loss and metrics.

    Args:
        scheduler: stepped after every optimizer step (per-batch schedules such as OneCycleLR);
            leave it out for per-epoch schedules and call ``scheduler.step()`` after the epoch.
        metrics: names (``"accuracy"``) or functions ``metric(output, target)``, averaged over
            the epoch weighted by batch size.
        grad_clip: clip the gradients' total 2-norm to this value before each optimizer step
            (``somegrad.nn.utils.clip_grad_norm_``).
        accumulate: step the optimizer every this many batches, with each batch's loss divided
            by ``accumulate`` (an epoch's leftover batches are stepped at its end).
        device: move each batch there first (``DataLoader(device=...)`` does the same).
        progress: show the loss, lr and samples/s as the epoch goes (see
            :class:`~somegrad.train.progress.ProgressBar`: a bar on a terminal or in a notebook,
            plain lines elsewhere; rank 0 only).

    Returns:
        ``{"loss": ..., <metric>: ..., "samples_per_second": ...}``, averaged over every rank of
        a data-parallel run (weighted by the ranks' sample counts); ``samples_per_second`` counts
        the samples of all ranks.
    """
    if not isinstance(accumulate, int) or accumulate < 1:
        raise ValueError(f"train_one_epoch: accumulate must be an integer >= 1, got {accumulate!r}")
    if grad_clip is not None and grad_clip <= 0:
        raise ValueError(f"train_one_epoch: grad_clip must be positive, got {grad_clip}")
    metric_fns = resolve_metrics(metrics)
    state = state if state is not None else TrainingState(model=model, optimizer=optimizer)
    clip: Callable | None = None
    if grad_clip is not None:
        from somegrad.nn.utils import clip_grad_norm_

        clip = clip_grad_norm_

    model.train()
    averages = _Averages()
    try:
        total = len(loader)  # type: ignore[arg-type]
    except TypeError:
        total = None
    bar = ProgressBar(loader, total=total, desc=desc, enabled=progress)
    started = time.perf_counter()
    optimizer.zero_grad()
    pending = 0  # batches whose gradients wait for an optimizer step
    try:
        for index, batch in enumerate(bar):
            if device is not None:
                batch = move_to_device(batch, device)
            inputs, target = _split_batch(batch, "train_one_epoch")
            output = model(*inputs)
            loss = loss_fn(output, target)
            (loss / accumulate if accumulate > 1 else loss).backward()
            pending += 1
            n = _batch_size(target)
            values = {"loss": _as_float(loss)}
            for name, fn in metric_fns.items():
                values[name] = _as_float(fn(output.detach(), target))
            averages.add(values, n)
            last = total is not None and index + 1 == total
            if pending == accumulate or last:
                _optimizer_step(state, optimizer, scheduler, model, clip, grad_clip, values, callbacks)
                pending = 0
            elapsed = time.perf_counter() - started
            bar.update(values["loss"], _lr(optimizer), averages.samples / max(elapsed, 1e-9))
        if pending:  # a loader without len(): step what is left
            _optimizer_step(state, optimizer, scheduler, model, clip, grad_clip, values, callbacks)
    finally:
        bar.close()
    if averages.samples == 0:
        raise ValueError(f"train_one_epoch: the loader yielded no batches ({loader!r})")
    results = averages.means()
    elapsed = time.perf_counter() - started
    results["samples_per_second"] = averages.samples / max(elapsed, 1e-9)
    return results


def _optimizer_step(state, optimizer, scheduler, model, clip, grad_clip, values, callbacks) -> None:
    if clip is not None:
        clip(model.parameters(), grad_clip)
    lr = _lr(optimizer)
    optimizer.step()
    optimizer.zero_grad()
    if scheduler is not None:
        scheduler.step()
    state.step += 1
    logs = {"step": state.step, "epoch": state.epoch + 1, "loss": values["loss"], "lr": lr}
    state.history.steps.append(logs)
    for callback in callbacks:
        callback.on_step_end(state, logs)


def evaluate(
    model: Any,
    loader: Iterable[Any],
    loss_fn: Callable[[Any, Any], Any] | None = None,
    *,
    metrics: Any = None,
    device: Any = None,
    progress: bool = False,
    desc: str = "eval",
) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``loader``, in eval mode and under ``no_grad``.

    The model's previous train/eval mode is restored afterwards. Returns ``{"loss": ...,
    <metric>: ...}`` (no ``"loss"`` without ``loss_fn``), averaged over every rank of a
    data-parallel run (each rank evaluating its shard of ``loader``).
    """
    metric_fns = resolve_metrics(metrics)
    was_training = getattr(model, "training", True)
    model.eval()
    averages = _Averages()
    try:
        total = len(loader)  # type: ignore[arg-type]
    except TypeError:
        total = None
    bar = ProgressBar(loader, total=total, desc=desc, enabled=progress)
    try:
        with sg.no_grad():
            for batch in bar:
                if device is not None:
                    batch = move_to_device(batch, device)
                inputs, target = _split_batch(batch, "evaluate")
                output = model(*inputs)
                values = {}
                if loss_fn is not None:
                    values["loss"] = _as_float(loss_fn(output, target))
                for name, fn in metric_fns.items():
                    values[name] = _as_float(fn(output, target))
                averages.add(values, _batch_size(target))
    finally:
        bar.close()
        model.train(was_training)
    return averages.means()


def fit(
    model: Any,
    loader: Iterable[Any],
    loss_fn: Callable[[Any, Any], Any],
    optimizer: Any,
    epochs: int,
    scheduler: Any = None,
    val_loader: Iterable[Any] | None = None,
    metrics: Any = None,
    callbacks: Sequence[Callback] = (),
    grad_clip: float | None = None,
    accumulate: int = 1,
    progress: bool = True,
    history_path: str | os.PathLike[str] | None = None,
    *,
    device: Any = None,
    scheduler_interval: str = "epoch",
    start_epoch: int = 0,
    start_step: int | None = None,
    verbose: bool = True,
) -> History:
    """Train for ``epochs`` epochs, validating after each; returns the :class:`History`.

    Args:
        model, loader, loss_fn, optimizer: as for :func:`train_one_epoch`.
        epochs: the epoch to stop after (with ``start_epoch=k``, trains ``epochs - k`` epochs,
            as Keras's ``initial_epoch``).
        scheduler: stepped once per epoch (``scheduler_interval="epoch"``, default) or after
            every optimizer step (``"step"``, for OneCycleLR or WarmupCosineLR). A
            ReduceLROnPlateau is stepped with ``val_loss`` (or ``loss`` without validation).
        val_loader: evaluated after each epoch; its results are recorded as ``val_<name>``.
        metrics: names (``"accuracy"``) or functions, recorded for training and validation.
        callbacks: :class:`Callback` objects (EarlyStopping, ModelCheckpoint, EpochLogger...).
        grad_clip, accumulate, device: as for :func:`train_one_epoch`.
        progress: show each epoch's progress (a bar on a terminal or in a notebook, plain lines
            in a pipe or log); ``False`` turns it off.
        history_path: after every epoch, write the history there as ``.csv`` (epochs) or
            ``.json`` (epochs and steps); at the end also a ``.png`` plot beside it when
            matplotlib is installed. When resuming (``start_epoch > 0``) an existing file's
            first ``start_epoch`` epochs (and their steps, from a ``.json``) are kept and the
            new epochs appended.
        start_epoch: the number of epochs already done (after ``load_checkpoint``).
        start_step: the number of optimizer steps already done (the checkpoint's ``step``);
            by default the resumed history's last step, else ``start_epoch`` times the
            steps of an epoch when the loader has a length.
        verbose: print one summary line per epoch (``epoch 2/10  loss 0.41  val_loss 0.45 ...``)
            unless an :class:`EpochLogger` is among the callbacks; ``False`` is quiet.

    Under several processes (``somegrad.distributed`` initialised, the model wrapped in
    ``DistributedDataParallel``, the loader sharded by ``DistributedSampler``), the results are
    averaged across ranks, so every rank makes the same decisions (early stopping, checkpoints,
    ReduceLROnPlateau); only rank 0 shows progress, prints and writes the history file, and
    ``ModelCheckpoint`` saves on rank 0 while the others wait. A sampler with ``set_epoch`` gets
    the epoch number before each epoch, so shuffling differs per epoch and resumes exactly.
    """
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if not isinstance(start_epoch, int) or not 0 <= start_epoch <= epochs:
        raise ValueError(f"fit: start_epoch must be an integer in [0, epochs={epochs}], got {start_epoch!r}")
    if start_step is not None and (not isinstance(start_step, int) or start_step < 0):
        raise ValueError(f"fit: start_step must be a non-negative integer or None, got {start_step!r}")
    if history_path is not None:
        history_path = os.fspath(history_path)
        suffix = os.path.splitext(history_path)[1].lower()
        if suffix not in HISTORY_SUFFIXES:
            raise ValueError(f"fit: history_path {history_path!r} must end in {' or '.join(HISTORY_SUFFIXES)}")
    metric_fns = resolve_metrics(metrics)
    plateau = isinstance(scheduler, ReduceLROnPlateau)
    step_scheduler = scheduler if scheduler_interval == "step" else None
    main = is_main_process()
    history = History()
    if start_epoch > 0 and history_path is not None and os.path.exists(history_path):
        history = History.load(history_path).truncate(start_epoch)
    state = TrainingState(
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        history=history,
        epoch=start_epoch,
        epochs=epochs,
        step=_resumed_step(start_step, start_epoch, history, loader, accumulate),
    )
    callbacks = list(callbacks)
    if verbose and main and not any(isinstance(c, EpochLogger) for c in callbacks):
        callbacks.append(EpochLogger(print))
    for callback in callbacks:
        callback.on_fit_start(state)
    sampler = getattr(loader, "sampler", None)
    for epoch in range(start_epoch, epochs):
        state.epoch = epoch
        set_epoch = getattr(sampler, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(epoch)
        for callback in callbacks:
            callback.on_epoch_start(state)
        lr = _lr(optimizer)
        started = time.perf_counter()
        train_results = train_one_epoch(
            model,
            loader,
            loss_fn,
            optimizer,
            scheduler=step_scheduler,
            metrics=metric_fns,
            grad_clip=grad_clip,
            accumulate=accumulate,
            device=device,
            progress=progress,
            state=state,
            callbacks=callbacks,
            desc=f"epoch {epoch + 1}/{epochs}",
        )
        logs: dict[str, Any] = {"epoch": epoch + 1, "loss": train_results["loss"]}
        logs.update({name: train_results[name] for name in metric_fns})
        if val_loader is not None:
            val_results = evaluate(model, val_loader, loss_fn, metrics=metric_fns, device=device)
            logs.update({f"val_{name}": value for name, value in val_results.items()})
        logs["lr"] = lr
        logs["step"] = state.step
        logs["time"] = time.perf_counter() - started
        logs["samples_per_second"] = train_results["samples_per_second"]
        state.epoch = epoch + 1
        if scheduler is not None and scheduler_interval == "epoch":
            if plateau:
                scheduler.step(logs.get("val_loss", logs["loss"]))
            else:
                scheduler.step()
        state.history.epochs.append(logs)
        if history_path is not None and main:
            state.history.save(history_path)
        for callback in callbacks:
            callback.on_epoch_end(state, logs)
        if state.stop_training:
            break
    for callback in callbacks:
        callback.on_fit_end(state)
    if history_path is not None and state.history.epochs and main:
        state.history.plot(os.path.splitext(history_path)[0] + ".png")
    return state.history


def _resumed_step(start_step, start_epoch, history, loader, accumulate) -> int:
    """The optimizer steps done before ``start_epoch``: given, else the resumed history's last
    step record, else the epochs' steps counted from the loader's length."""
    if start_step is not None:
        return start_step
    if start_epoch == 0:
        return 0
    if history.epochs and "step" in history.epochs[-1]:
        return int(history.epochs[-1]["step"])
    if history.steps:
        return int(history.steps[-1]["step"])
    try:
        batches = len(loader)
    except TypeError:
        return 0
    return start_epoch * -(-batches // accumulate)
