"""The scheduler base class and the helpers every scheduler uses."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


def _check_optimizer(name: str, optimizer: Any) -> None:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list):
        raise TypeError(f"{name}: expected an optimizer with a `param_groups` list, got {type(optimizer).__name__}")


def _current_lrs(optimizer: Any) -> list[float]:
    return [group["lr"] for group in optimizer.param_groups]


def _per_group(name: str, optimizer: Any, value: Any) -> list[Any]:
    """Broadcast a scalar option to one value per param group, or check a list's length."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} has {len(value)} values, expected one per param group ({len(optimizer.param_groups)})"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class: keeps ``last_epoch`` and ``base_lrs`` and writes ``get_lr()`` into the groups.

    Args:
        optimizer: an optimizer (anything with ``param_groups``).
        last_epoch: index of the last step taken; ``-1`` (default) starts a new schedule and records
            each group's ``lr`` as ``initial_lr``. Resuming with ``last_epoch >= 0`` requires
            ``initial_lr`` in every group (a loaded optimizer state has it).

    Subclasses implement ``get_lr()`` (the chainable rule, reading ``self.last_epoch`` after it was
    advanced) and may implement ``_get_closed_form_lr()`` (used by ``step(epoch)``).
    """

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', needed "
                        f"to resume with last_epoch={last_epoch}; load the optimizer's "
                        "state_dict first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Take step 0: sets the learning rates for the first epoch."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for ``self.last_epoch``, one per group (called by ``step``)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates that the last ``step()`` set, one per param group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one step (or jump to ``epoch`` with the closed form, deprecated in PyTorch)."""
        from somegrad.compile import capturing, refuse

        if capturing():
            # The new rate is computed in Python: a replay would not compute it again.
            refuse(
                f"{type(self).__name__}.step",
                "the learning rate is computed in Python at each call; step the scheduler outside the "
                "compiled function (the optimizer reads group['lr'] again at every replay)",
            )
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = _current_lrs(self.optimizer)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as plain Python values (JSON-serialisable)."""
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by ``state_dict()``."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def __repr__(self) -> str:
        epoch = getattr(self, "last_epoch", None)
        return f"{type(self).__name__}(last_epoch={epoch}, last_lr={self.get_last_lr()})"


class _LambdaStateMixin:
    """State dicts for schedulers holding user functions: plain functions are not saved; a callable
    object's ``__dict__`` is (as PyTorch does)."""

    lr_lambdas: list[Callable[[int], float]]

    def state_dict(self) -> dict[str, Any]:
        state = {
            key: copy.deepcopy(value) for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")
        }
        state["lr_lambdas"] = [None if _is_plain_function(fn) else copy.deepcopy(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = copy.deepcopy(state_dict)
        saved_lambdas = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, saved_lambdas, strict=True):
            if saved is not None:
                fn.__dict__.update(saved)


def _is_plain_function(fn: Any) -> bool:
    return type(fn).__name__ in ("function", "builtin_function_or_method") or not hasattr(fn, "__dict__")


def _lambdas(name: str, optimizer: Any, lr_lambda: Any) -> list[Callable[[int], float]]:
    _check_optimizer(name, optimizer)
    lambdas = _per_group("lr_lambda", optimizer, lr_lambda)
    for fn in lambdas:
        if not callable(fn):
            raise TypeError(f"{name}: lr_lambda should be callable, got {type(fn).__name__}")
    return lambdas
