"""Callbacks: hooks into ``fit`` for early stopping, checkpointing the best model and logging.

A callback overrides any of the hooks below; each receives the :class:`TrainingState` (model,
optimizer, scheduler, history, epoch, step) and may set ``state.stop_training = True``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .history import History
from .ranks import barrier, is_main_process

__all__ = [
    "TrainingState",
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "EpochLogger",
]


@dataclass
class TrainingState:
    """What ``fit`` passes to callbacks. ``epoch`` counts completed epochs once an epoch ends
    (1 after the first); ``step`` counts optimizer steps."""

    model: Any
    optimizer: Any
    scheduler: Any = None
    history: History = field(default_factory=History)
    epoch: int = 0
    step: int = 0
    epochs: int = 0
    stop_training: bool = False


class Callback:
    """Base class; every hook does nothing by default."""

    def on_fit_start(self, state: TrainingState) -> None: ...

    def on_epoch_start(self, state: TrainingState) -> None: ...

    def on_step_end(self, state: TrainingState, logs: dict[str, Any]) -> None: ...

    def on_epoch_end(self, state: TrainingState, logs: dict[str, Any]) -> None: ...

    def on_fit_end(self, state: TrainingState) -> None: ...


def _default_monitor(logs: dict[str, Any]) -> str:
    return "val_loss" if "val_loss" in logs else "loss"


class _Monitor:
    """Tracks the best value of one logged quantity."""

    def __init__(self, owner: str, monitor: str | None, mode: str, min_delta: float) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'min' or 'max', got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"{owner}: min_delta must be >= 0, got {min_delta}")
        self.owner = owner
        self.monitor = monitor
        self.mode = mode
        self.min_delta = min_delta
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs: dict[str, Any]) -> float:
        if self.monitor is None:
            self.monitor = _default_monitor(logs)
        if self.monitor not in logs:
            raise KeyError(
                f"{self.owner}: monitored {self.monitor!r} is not among the epoch's results "
                f"({', '.join(logs)}); pass val_loader to fit or choose another monitor"
            )
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when the monitored value has not improved for ``patience`` epochs.

    Args:
        monitor: a key of the epoch results (default ``"val_loss"`` when there is a validation
            loader, else ``"loss"``).
        mode: ``"min"`` (default) or ``"max"``.
        patience: stop after this many epochs in a row without improvement (default 5, as
            Keras; 0 stops at the first epoch that does not improve).
        min_delta: smallest change that counts as an improvement (default 0).
        restore_best_weights: at the end of ``fit``, load the weights of the best epoch.
        verbose: print a line saying when and why training stopped (rank 0 only).
        print_fn: where that line goes (default ``print``).

    Attributes: ``best``, ``best_epoch``, ``stopped_epoch`` (0 if it never stopped) and
    ``reason`` (the line, or None).
    """

    def __init__(
        self,
        monitor: str | None = None,
        mode: str = "min",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        verbose: bool = True,
        print_fn: Callable[[str], Any] | None = None,
    ) -> None:
        self._monitor = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.verbose = verbose
        self.print_fn = print_fn or print
        self.reason: str | None = None
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.wait = 0
        self.best_epoch = 0
        self.stopped_epoch = 0
        self._best_weights: dict[str, Any] | None = None

    @property
    def best(self) -> float:
        return self._monitor.best

    @property
    def monitor(self) -> str | None:
        return self._monitor.monitor

    def on_fit_start(self, state: TrainingState) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.reason = None

    def on_epoch_end(self, state: TrainingState, logs: dict[str, Any]) -> None:
        value = self._monitor.value(logs)
        if self._monitor.improved(value):
            self._monitor.best = value
            self.best_epoch = state.epoch
            self.wait = 0
            if self.restore_best_weights:
                self._best_weights = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            state.stop_training = True
            self.stopped_epoch = state.epoch
            better = "below" if self._monitor.mode == "min" else "above"
            since = f"since epoch {self.best_epoch}" if self.best_epoch else "since the start"
            self.reason = (
                f"EarlyStopping: stopped after epoch {state.epoch}/{state.epochs}: {self._monitor.monitor} "
                f"{value:.6g} has not gone {better} the best {self.best:.6g} by more than {self._monitor.min_delta:g} "
                f"{since} ({self.wait} epoch{'s' if self.wait != 1 else ''}, patience {self.patience})"
            )
            if self.verbose and is_main_process():
                self.print_fn(self.reason)

    def on_fit_end(self, state: TrainingState) -> None:
        if self.restore_best_weights and self._best_weights is not None:
            state.model.load_state_dict(self._best_weights)
            if self.verbose and is_main_process():
                self.print_fn(
                    f"EarlyStopping: restored the weights of epoch {self.best_epoch} "
                    f"({self._monitor.monitor} {self.best:.6g})"
                )


class ModelCheckpoint(Callback):
    """Save a checkpoint (model, optimizer, scheduler, epoch, step, random states) after epochs.

    Args:
        path: the file; may contain ``{epoch}`` and any result name, as in
            ``"ckpt-{epoch:03d}.safetensors"``.
        monitor: the value that decides "best" (default ``"val_loss"`` when there is a
            validation loader, else ``"loss"``).
        mode: ``"min"`` (default) or ``"max"``.
        save_best_only: save only when the monitored value improves (default ``True``);
            otherwise after every epoch.
        weights_only: save ``model.state_dict()`` alone (``sg.save``), not a full checkpoint.

    Attributes: ``best``, ``best_path`` (the last file written for the best value).
    Resume with :func:`somegrad.train.load_checkpoint` and ``fit(..., start_epoch=epoch,
    start_step=step)``. Under several processes rank 0 writes the file and every rank waits
    for it (so that any rank may read it at once); the decision to save is the same on every
    rank, since ``fit`` averages the results across ranks.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        monitor: str | None = None,
        mode: str = "min",
        save_best_only: bool = True,
        weights_only: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self._monitor = _Monitor("ModelCheckpoint", monitor, mode, 0.0)
        self.save_best_only = save_best_only
        self.weights_only = weights_only
        self.best_path: str | None = None

    @property
    def best(self) -> float:
        return self._monitor.best

    def on_epoch_end(self, state: TrainingState, logs: dict[str, Any]) -> None:
        value = self._monitor.value(logs)
        improved = self._monitor.improved(value)
        if self.save_best_only and not improved:
            return
        path = self.path.format(**logs)
        if is_main_process():
            self._save(state, path, value, logs)
        barrier()
        if improved:
            self._monitor.best = value
            self.best_path = path

    def _save(self, state: TrainingState, path: str, value: float, logs: dict[str, Any]) -> None:
        if self.weights_only:
            import somegrad as sg

            sg.save(state.model.state_dict(), path)
            return
        from .checkpoint import save_checkpoint

        save_checkpoint(
            path,
            model=state.model,
            optimizer=state.optimizer,
            scheduler=state.scheduler,
            epoch=state.epoch,
            step=state.step,
            metadata={"monitor": self._monitor.monitor, "value": value, "logs": logs},
        )


class EpochLogger(Callback):
    """Write one line per epoch: ``epoch 3/10  loss 0.4210  val_loss 0.4533  lr 0.001  2.1s``.

    ``fit`` adds one printing to stdout unless ``verbose=False`` or one is among its callbacks.

    Args:
        print_fn: where lines go (default ``print``, flushed; pass
            ``logging.getLogger("somegrad.train").info`` to send them to a logger).
        every_n_steps: also write the running loss every that many optimizer steps.

    Only rank 0 of a data-parallel run writes.
    """

    def __init__(self, print_fn: Callable[[str], Any] | None = None, every_n_steps: int | None = None) -> None:
        self.print_fn = print_fn or _print_flushed
        self.every_n_steps = every_n_steps

    def on_step_end(self, state: TrainingState, logs: dict[str, Any]) -> None:
        if not is_main_process():
            return
        if self.every_n_steps and state.step % self.every_n_steps == 0:
            self.print_fn(f"step {state.step}  loss {logs['loss']:.4f}  lr {logs['lr']:.3g}")

    def on_epoch_end(self, state: TrainingState, logs: dict[str, Any]) -> None:
        if not is_main_process():
            return
        parts = [f"epoch {state.epoch}/{state.epochs}"]
        for key, value in logs.items():
            if key in ("epoch", "step", "time", "samples_per_second"):
                continue
            parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
        parts.append(f"{logs.get('time', 0.0):.1f}s")
        self.print_fn("  ".join(parts))


def _print_flushed(line: str) -> None:
    print(line, flush=True)
