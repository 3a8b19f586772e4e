"""Module hooks, as in PyTorch: forward and forward-pre hooks (with kwargs, prepended, always
called), full backward and backward-pre hooks, the global `register_module_*` hooks, and the
removable handles they return. `Module` takes its hook methods from `ModuleHooks`."""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable

from somegrad.tensor import Tensor

__all__ = [
    "ModuleHooks",
    "RemovableHandle",
    "register_module_forward_pre_hook",
    "register_module_forward_hook",
    "register_module_full_backward_pre_hook",
    "register_module_full_backward_hook",
]


class RemovableHandle:
    """Returned by the hook registration methods; `.remove()` unregisters the hook (also from
    the `extra` dicts or sets that hold flags about it, such as `with_kwargs`)."""

    _ids = itertools.count()

    def __init__(self, hooks: dict, *, extra=(), owner=None):
        self.hooks = hooks
        self.extra = tuple(extra)
        self.id = next(self._ids)
        # the module whose "has hooks" flag must be recomputed on removal (weakly held)
        self.owner = None if owner is None else weakref.ref(owner)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)
        for store in self.extra:
            if isinstance(store, dict):
                store.pop(self.id, None)
            else:
                store.discard(self.id)
        owner = None if self.owner is None else self.owner()
        if owner is not None:
            owner._refresh_hook_flag()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# Hooks that every module runs (`register_module_forward_hook` and friends), as in PyTorch.
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: set = set()
_global_forward_hooks_always_called: set = set()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()


# True while any global hook is registered: with the module's own `_has_hooks`, all that
# Module.__call__ checks before calling forward
class _GlobalHooks:
    any = False


GLOBAL_HOOKS = _GlobalHooks()


def _update_global_flag():
    GLOBAL_HOOKS.any = bool(
        _global_forward_pre_hooks or _global_forward_hooks or _global_backward_pre_hooks or _global_backward_hooks
    )


class _GlobalHandle(RemovableHandle):
    def remove(self) -> None:
        super().remove()
        _update_global_flag()


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """Call `hook(module, args)` before the forward of every module (before its own pre-hooks)."""
    handle = _GlobalHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    _update_global_flag()
    return handle


def register_module_forward_hook(hook: Callable, *, with_kwargs: bool = False, always_call: bool = False):
    """Call `hook(module, args, output)` after the forward of every module (before its own hooks)."""
    handle = _GlobalHandle(
        _global_forward_hooks, extra=(_global_forward_hooks_with_kwargs, _global_forward_hooks_always_called)
    )
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs.add(handle.id)
    if always_call:
        _global_forward_hooks_always_called.add(handle.id)
    _update_global_flag()
    return handle


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """Call `hook(module, grad_output)` in the backward of every module (before its own)."""
    handle = _GlobalHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    _update_global_flag()
    return handle


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """Call `hook(module, grad_input, grad_output)` in the backward of every module (before its own)."""
    handle = _GlobalHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    _update_global_flag()
    return handle


class ModuleHooks:
    """The hook methods of `Module` (its `__init__` makes the hook dicts)."""

    _forward_pre_hooks: OrderedDict
    _forward_pre_hooks_with_kwargs: set
    _forward_hooks: OrderedDict
    _forward_hooks_with_kwargs: set
    _forward_hooks_always_called: set
    _backward_hooks: OrderedDict
    _backward_pre_hooks: OrderedDict

    def _refresh_hook_flag(self) -> None:
        has = bool(self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks)
        object.__setattr__(self, "_has_hooks", has)

    def _hook_handle(self, hooks: OrderedDict, hook: Callable, prepend: bool, extra=()) -> RemovableHandle:
        handle = RemovableHandle(hooks, extra=extra, owner=self)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        object.__setattr__(self, "_has_hooks", True)
        return handle

    def _call_with_hooks(self, args, kwargs):
        """`__call__` when hooks are registered, in PyTorch's order: global then own forward
        pre-hooks, the backward hooks' input side, forward, global then own forward hooks,
        the backward hooks' output side; `always_call` hooks run even when forward raised."""
        called = set()
        result = None
        original_args, original_kwargs = args, kwargs
        try:
            for hook_id, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    replaced = hook(self, args, kwargs)
                    if replaced is not None:
                        if not (isinstance(replaced, tuple) and len(replaced) == 2):
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                f"but got {replaced}."
                            )
                        args, kwargs = replaced
                else:
                    replaced = hook(self, args)
                    if replaced is not None:
                        args = replaced if isinstance(replaced, tuple) else (replaced,)
            backward_hook = None
            backward_hooks = [*_global_backward_hooks.values(), *self._backward_hooks.values()]
            backward_pre_hooks = [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]
            if backward_hooks or backward_pre_hooks:
                from somegrad.autograd.backward_hook import BackwardHook

                backward_hook = BackwardHook(self, backward_hooks, backward_pre_hooks)
                args = backward_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called or hook_id in _global_forward_hooks_always_called:
                    called.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                    replaced = hook(self, args, kwargs, result)
                else:
                    replaced = hook(self, args, result)
                if replaced is not None:
                    result = replaced
            if backward_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn(
                        "For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                        f"but received {type(result)}",
                        stacklevel=2,
                    )
                else:
                    result = backward_hook.setup_output_hook(result)
            return result
        except Exception:
            self._run_always_called_hooks(called, original_args, original_kwargs, result)
            raise

    def _run_always_called_hooks(self, called, args, kwargs, result):
        for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
            always = hook_id in self._forward_hooks_always_called or hook_id in _global_forward_hooks_always_called
            if not always or hook_id in called:
                continue
            try:
                if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                    replaced = hook(self, args, kwargs, result)
                else:
                    replaced = hook(self, args, result)
                if replaced is not None:
                    result = replaced
            except Exception as exc:
                warnings.warn(
                    "module forward hook with ``always_call=True`` raised an exception that was silenced as "
                    f"another error was raised in forward: {exc}",
                    stacklevel=3,
                )

    # --- hooks --------------------------------------------------------------------------
    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, args, output)` after each forward (`hook(module, args, kwargs, output)`
        with `with_kwargs`); a returned value replaces the output. `prepend` runs it before the
        hooks already registered; `always_call` runs it even when forward raised. Returns a
        handle whose `.remove()` unregisters it."""
        extra = (self._forward_hooks_with_kwargs, self._forward_hooks_always_called)
        handle = self._hook_handle(self._forward_hooks, hook, prepend, extra)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, args)` before each forward; a returned value (a tuple, or one value
        that becomes a 1-tuple) replaces the args. With `with_kwargs`, `hook(module, args, kwargs)`
        returns None or a new `(args, kwargs)`."""
        handle = self._hook_handle(self._forward_pre_hooks, hook, prepend, (self._forward_pre_hooks_with_kwargs,))
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_input, grad_output)` once the gradients with respect to the
        module's inputs are computed; a returned tuple replaces `grad_input`. Both are tuples with
        one entry per positional argument (per output): None for non-tensors and tensors that
        need no gradient. Keyword arguments get no gradient here, as in PyTorch."""
        return self._hook_handle(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_output)` when the gradients with respect to the module's
        outputs are computed, before those of its inputs; a returned tuple replaces `grad_output`."""
        return self._hook_handle(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        raise RuntimeError(
            "register_backward_hook: the non-full module backward hook (deprecated in PyTorch, and wrong for "
            "modules of several ops) is not supported; use register_full_backward_hook"
        )
