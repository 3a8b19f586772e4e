"""The ``Optimizer`` base class: parameter groups, per-parameter state, and state dicts.

A subclass declares its defaults and implements ``_update_group(group)``, which updates the
parameters of one group in place; ``step()`` runs it for every group under ``no_grad``. State dicts
use PyTorch's layout::

    {"state": {0: {"step": 3, "exp_avg": Tensor, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

where the integers number the parameters in group order. Everything but the tensors is plain
Python, so a checkpoint can keep the tensors in safetensors and the rest in JSON.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import somegrad as sg
from somegrad.compile import capturing as _capturing
from somegrad.compile import refuse as _refuse
from somegrad.compile import replay_input as _replay_input

__all__ = ["Optimizer", "ParamState"]


class ParamState(MutableMapping):
    """``optimizer.state``: a mapping from a parameter to its state dict, by identity.

    Tensors compare elementwise, so they are keyed by ``id``; a parameter stays referenced here
    for as long as it has state.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Any, dict[str, Any]]] = {}

    def __getitem__(self, param: Any) -> dict[str, Any]:
        return self._entries[id(param)][1]

    def get(self, param: Any, default: Any = None) -> Any:
        # MutableMapping's get goes through __getitem__ and a KeyError: this is the step's hot path
        entry = self._entries.get(id(param))
        return default if entry is None else entry[1]

    def __setitem__(self, param: Any, state: dict[str, Any]) -> None:
        self._entries[id(param)] = (param, state)

    def __delitem__(self, param: Any) -> None:
        del self._entries[id(param)]

    def __contains__(self, param: object) -> bool:
        return id(param) in self._entries

    def __iter__(self) -> Iterator[Any]:
        return (param for param, _ in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"ParamState({len(self)} parameters)"


def _is_tensor(value: Any) -> bool:
    return isinstance(value, sg.Tensor)


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) each with a ``"params"``
            entry and any options that override ``defaults`` for that group.
        defaults: the options of a group that does not set them (``lr``, ...).

    Attributes:
        param_groups: list of dicts; ``group["params"]`` is a list of tensors.
        state: :class:`ParamState`, the per-parameter buffers (momentum, moments, step count).
        defaults: the default options.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state = ParamState()
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if _is_tensor(params):
            raise TypeError(
                f"{name}: params should be an iterable of tensors or dicts, got a single tensor; "
                "pass [tensor] or model.parameters()"
            )
        if isinstance(params, dict):
            raise TypeError(f"{name}: params should be an iterable of tensors or dicts, got a dict")
        if isinstance(params, set):
            raise TypeError(f"{name}: parameters must be an ordered collection, not a set")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the others come from ``defaults``).

        Example: ``opt.add_param_group({"params": head.parameters(), "lr": 1e-2})``.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' entry")
        if isinstance(params, set):
            raise TypeError(f"{name}: parameters must be an ordered collection, not a set")
        params = [params] if _is_tensor(params) else list(params)
        for i, param in enumerate(params):
            if not _is_tensor(param):
                raise TypeError(f"{name}: can only optimize tensors, but params[{i}] is a {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError(
                    f"{name}: can't optimize a non-leaf tensor (params[{i}] was computed from "
                    "other tensors); pass the leaf, or tensor.detach().requires_grad_()"
                )
        group["params"] = params
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        known = {id(p) for existing in self.param_groups for p in existing["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in known for p in params):
            raise ValueError(
                f"{name}.add_param_group: some parameters appear more than once (within the group or in another group)"
            )
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: to ``None`` (default), or to zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    with sg.no_grad():
                        param.grad = param.grad.detach()
                        param.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, once.

        Args:
            closure: optional function that clears the gradients, recomputes the loss, calls
                ``backward()`` and returns the loss; it runs with gradients enabled.
        Returns:
            The closure's loss, or ``None``.
        """
        loss = None
        if closure is not None:
            with sg.enable_grad():
                loss = closure()
        self._check_capture()
        with sg.no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    # Whether the update reads a Python step count (Adam's bias corrections, Adagrad's decay),
    # which a recorded step would replay stale unless the group is ``capturable``.
    _counts_steps = False

    def _check_capture(self) -> None:
        """Inside a step being recorded by ``somegrad.compile``: refuse an update that reads a
        Python step count, as PyTorch refuses to capture a non-capturable optimizer."""
        if not _capturing() or not self._counts_steps:
            return
        for i, group in enumerate(self.param_groups):
            if not group.get("capturable", False):
                _refuse(
                    f"{type(self).__name__}.step",
                    f"param_groups[{i}] is not capturable: its step count and bias corrections are Python "
                    f"numbers that change every step; construct it with capturable=True",
                )

    def _lr(self, group: dict[str, Any]) -> Any:
        """The group's learning rate as the update reads it: the Python number, or, while a step is
        being recorded by ``somegrad.compile``, a 0-d float64 tensor that each replay refills from
        ``group["lr"]`` before it runs (a replay-time input), so that a scheduler stepped between
        calls is heard. float64 holds the Python number exactly: the update is the same either way."""
        if not _capturing():
            return group["lr"]
        inputs = self.__dict__.setdefault("_lr_inputs", {})
        holder = inputs.get(id(group))
        if holder is None or holder.device != group["params"][0].device:
            param = group["params"][0]
            holder = sg.Tensor._make(_unrecorded_array(param.device, group["lr"]), sg.float64, param.device)
            inputs[id(group)] = holder
        holder._data[...] = float(group["lr"])  # this (eager) run's value; each replay refills it
        _replay_input(holder, lambda: float(group["lr"]))
        return holder

    def _params_with_grad(self, group: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
        """(parameter, gradient) pairs of the group, the gradient negated when maximizing."""
        maximize = group.get("maximize", False)
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            yield param, (-grad if maximize else grad)

    # --- state dicts ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout (see the module docstring).

        The tensors are the live state buffers, not copies: save or clone them before stepping
        again.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = []
            for param in group["params"]:
                index.setdefault(id(param), len(index))
                packed["params"].append(index[id(param)])
            groups.append(packed)
        state = {
            index[id(param)]: dict(param_state)
            for param, param_state in self.state._entries.values()
            if id(param) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()`` (ours, PyTorch's layout, or one read from JSON).

        The groups must hold the same number of parameters as when it was saved. Tensor state is
        copied onto each parameter's device, floating-point state cast to its dtype; ``"step"``
        counts become Python numbers.
        """
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state has {len(saved_groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Any] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(group['params'])} "
                    f"parameters, the saved group has {len(saved['params'])}"
                )
            for param, saved_index in zip(group["params"], saved["params"], strict=True):
                by_index[int(saved_index)] = param

        new_state = ParamState()
        for key, param_state in state_dict["state"].items():
            param = by_index.get(int(key))
            if param is None:
                continue
            new_state[param] = {name_: _restore_value(name_, value, param) for name_, value in param_state.items()}

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            restored = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for key, value in restored.items():
                # JSON turns tuples (betas) into lists.
                if isinstance(value, list) and isinstance(self.defaults.get(key), tuple):
                    restored[key] = tuple(value)
            for key, value in group.items():  # options the saved state predates
                restored.setdefault(key, value)
            restored["params"] = group["params"]
            new_groups.append(restored)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _unrecorded_array(device: Any, value: float) -> Any:
    # Made with the backend's own method, under any recording's watch of `from_numpy`: this
    # array persists between calls, a replay refills it rather than making it again.
    import numpy as np

    from somegrad.ops.dispatch import _backend

    backend = _backend(device)
    return type(backend).from_numpy(backend, np.asarray(value, dtype=np.float64), sg.float64, device)


def _restore_value(name: str, value: Any, param: Any) -> Any:
    if not _is_tensor(value):
        return copy.deepcopy(value)
    if name == "step":
        return value.item()
    value = value.detach().to(param.device)
    if value.dtype.is_floating_point and value.dtype != param.dtype:
        value = value.to(param.dtype)
    return value.clone()


def check_hyperparameters(name: str, **checks: tuple[float, float, float | None]) -> None:
    """Raise ``ValueError`` for a value outside ``[low, high)`` (``high`` may be ``None``)."""
    for key, (value, low, high) in checks.items():
        if value < low or (high is not None and value >= high):
            bound = f">= {low}" if high is None else f"in [{low}, {high})"
            raise ValueError(f"{name}: invalid {key} {value!r}, expected a value {bound}")
