"""Training checkpoints: model, optimizer, scheduler, counters, random states and metadata in one
safetensors file (tensors) with JSON for everything else, written atomically."""

from __future__ import annotations

import os
from typing import Any

import somegrad as sg

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "somegrad.checkpoint/1"


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    epoch: int | None = None,
    step: int | None = None,
    metadata: Any = None,
) -> None:
    """Save everything needed to resume training exactly, atomically (see ``somegrad.save``).

    Stores ``model.state_dict()``, ``optimizer.state_dict()``, ``scheduler.state_dict()``,
    ``epoch``, ``step``, the random generators' states (``sg.get_rng_state()``) and ``metadata``
    (any JSON-serialisable value). A ``DataLoader`` shuffled by its own ``generator=`` is not
    covered: keep ``generator.get_state()`` in ``metadata`` and restore it yourself.

    Example::

        save_checkpoint("run/last.safetensors", model=model, optimizer=opt, scheduler=sched,
                        epoch=epoch, step=step, metadata={"config": config})
    """
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict() if model is not None else None,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": epoch,
        "step": step,
        "rng": sg.get_rng_state(),
        "metadata": metadata,
    }
    sg.save(checkpoint, path, metadata={"format": CHECKPOINT_FORMAT, "epoch": epoch, "step": step})


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    restore_rng: bool = True,
    strict: bool = True,
    device: Any = None,
) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` stored into the given objects.

    Args:
        model, optimizer, scheduler: objects to load into (each optional; build them as for
            the saved run first).
        restore_rng: also restore the random generators (default), so that shuffling, dropout
            and initialisation continue as in the uninterrupted run.
        strict: passed to ``model.load_state_dict``.
        device: where the tensors are loaded before being copied in (default: CPU).

    Returns:
        The checkpoint as a dict: ``epoch``, ``step``, ``metadata``, and the raw ``model``,
        ``optimizer``, ``scheduler`` and ``rng`` states.

    Raises:
        somegrad.serialization.SerializationError: the file is corrupt, truncated, hostile or
            not a somegrad checkpoint (nothing is loaded into the objects then).
    """
    from somegrad.serialization import SerializationError

    checkpoint = sg.load(path, device=device)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise SerializationError(
            f"load_checkpoint: {os.fspath(path)}: not a somegrad checkpoint (expected format "
            f"{CHECKPOINT_FORMAT!r}); for a plain state dict use sg.load"
        )
    for name, target in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if target is not None and checkpoint.get(name) is None:
            raise KeyError(f"load_checkpoint: {os.fspath(path)} holds no {name} state")
    if model is not None:
        model.load_state_dict(checkpoint["model"], strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(checkpoint["scheduler"])
    if restore_rng:
        sg.set_rng_state(checkpoint["rng"])
    return checkpoint
