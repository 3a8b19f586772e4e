"""Training checkpoints: model, optimizer, scheduler, counters, random states and metadata in one
safetensors file (tensors) with JSON for everything else, written atomically."""

from __future__ import annotations

import os
from typing import Any

import somegrad as sg

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "check_model_state",
    "check_optimizer_state",
    "check_scheduler_state",
    "CHECKPOINT_FORMAT",
]

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

    All or nothing: the file's model, optimizer and scheduler states are checked against the
    given objects before any of them changes, so a mismatch leaves everything as it was.

    Raises:
        somegrad.serialization.SerializationError: the file is corrupt, truncated, hostile or
            not a somegrad checkpoint.
        KeyError: the file holds no state for one of the given objects.
        RuntimeError: the model's keys (with ``strict``) or shapes differ (as ``load_state_dict``).
        ValueError: the optimizer's groups differ in number or size, or a state tensor's shape
            differs from its parameter's (another model, or parameters in another order), or its
            state keys differ from the optimizer's own (another optimizer class); the message names
            the optimizer, the group, the parameter and the state key. Or the scheduler's state
            is another scheduler's.
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
    where = os.fspath(path)
    if model is not None:
        check_model_state(model, checkpoint["model"], strict, where)
    if optimizer is not None:
        check_optimizer_state(optimizer, checkpoint["optimizer"], where)
    if scheduler is not None:
        check_scheduler_state(scheduler, checkpoint["scheduler"], where)
    if model is not None:
        model.load_state_dict(checkpoint["model"], strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(checkpoint["scheduler"])
    if restore_rng:
        sg.set_rng_state(checkpoint["rng"])
    return checkpoint


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(shape)


def check_model_state(model: Any, state: dict[str, Any], strict: bool = True, where: str = "") -> None:
    """Raise what ``model.load_state_dict(state, strict)`` would raise, without loading."""
    current = model.state_dict()
    errors = []
    if strict:
        missing = [key for key in current if key not in state]
        unexpected = [key for key in state if key not in current]
        if missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
    for key, value in current.items():
        if key in state and _shape(state[key]) is not None and _shape(state[key]) != _shape(value):
            errors.append(
                f"size mismatch for {key}: copying a param with shape {_shape(state[key])} from checkpoint, "
                f"the shape in current model is {_shape(value)}."
            )
    if errors:
        source = f" from {where}" if where else ""
        raise RuntimeError(
            f"load_checkpoint: error(s) in loading state_dict for {type(model).__name__}{source}; nothing was "
            "loaded:\n\t" + "\n\t".join(errors)
        )


def check_optimizer_state(optimizer: Any, state: dict[str, Any], where: str = "") -> None:
    """Check a saved optimizer state against ``optimizer`` before loading it: the number of
    groups and of parameters per group, and for each parameter (in group order) the shape of
    every saved state tensor and, where the optimizer holds state already, the state's keys."""
    name = type(optimizer).__name__
    source = f" ({where})" if where else ""
    groups, saved_groups = optimizer.param_groups, state.get("param_groups", [])
    if len(groups) != len(saved_groups):
        raise ValueError(
            f"load_checkpoint: {name}: the checkpoint{source} has {len(saved_groups)} parameter groups, the "
            f"optimizer has {len(groups)}; nothing was loaded"
        )
    saved_state = {int(key): value for key, value in state.get("state", {}).items()}
    for g, (group, saved) in enumerate(zip(groups, saved_groups)):
        if len(group["params"]) != len(saved["params"]):
            raise ValueError(
                f"load_checkpoint: {name}: parameter group {g} has {len(group['params'])} parameters, the "
                f"checkpoint's{source} has {len(saved['params'])}; nothing was loaded"
            )
        for position, (param, index) in enumerate(zip(group["params"], saved["params"])):
            entries = saved_state.get(int(index))
            if entries is None:
                continue
            own = optimizer.state.get(param) if hasattr(optimizer.state, "get") else None
            if own and set(own) != set(entries):
                raise ValueError(
                    f"load_checkpoint: {name}: parameter group {g}, parameter {position}: the checkpoint{source} "
                    f"holds state {sorted(entries)}, the optimizer {sorted(own)} (another optimizer class?); "
                    "nothing was loaded"
                )
            for key, value in entries.items():
                shape = _shape(value)
                # per-parameter buffers (exp_avg, momentum_buffer) have the parameter's shape;
                # scalar tensors (a step count) have no shape to compare
                if shape is None or shape == () or key == "step":
                    continue
                if shape != tuple(param.shape):
                    raise ValueError(
                        f"load_checkpoint: {name}: parameter group {g}, parameter {position}: state {key!r} has "
                        f"shape {shape} in the checkpoint{source}, but the parameter has shape "
                        f"{tuple(param.shape)} (another model, or the parameters in another order); "
                        "nothing was loaded"
                    )


def check_scheduler_state(scheduler: Any, state: dict[str, Any], where: str = "") -> None:
    """Check that a saved scheduler state is one of ``scheduler``'s kind: the same keys."""
    own = set(scheduler.state_dict())
    saved = set(state)
    if own != saved:
        source = f" ({where})" if where else ""
        raise ValueError(
            f"load_checkpoint: {type(scheduler).__name__}: the checkpoint's{source} scheduler state has keys "
            f"{sorted(saved - own)} the scheduler lacks and lacks {sorted(own - saved)} (another scheduler class?); "
            "nothing was loaded"
        )
