"""`autocast`: a region where chosen ops run in a lower precision, as `torch.autocast`.

    with sg.autocast(device_type="cpu", dtype=sg.bfloat16):
        y = model(x)                  # linear, matmul, conv2d, attention in bfloat16
        loss = F.cross_entropy(y, t)  # float32 (see `somegrad.amp.policy` for the lists)
    loss.backward()                   # the gradients reach the parameters in their own dtype

    @sg.autocast("cpu")               # as a decorator
    def forward(x): ...

It is a dispatch mode (`somegrad.ops.dispatch.DispatchMode`): while a region is active in any
thread, every op call passes through `apply` below, which looks the op up in the policy of the
device its inputs are on and casts the floating inputs before the op runs. The casts are
ordinary `cast` ops, so autograd records them and each gradient is cast back to its input's
dtype on the way down. The state (which device types are on, in which dtype) is per thread;
nested regions and `enabled=False` regions restore what was there when they exit. As in
PyTorch: float64 inputs are never cast to the lower dtype; the ops inside an op that autocast
handled (a composite's decomposition) are not cast again; the backward is never autocast;
the casts of float32 leaves that require grad (parameters) to the low dtype are cached until
the outermost region exits, so a weight used by several ops or forwards is cast once.

When no region is active the mode is not installed, and ops pay nothing for autocast.
"""

from __future__ import annotations

import functools
import threading
import warnings

from somegrad import dtypes
from somegrad.amp import policy
from somegrad.autograd.engine import current_node
from somegrad.ops.dispatch import DispatchMode

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype"]

_DEFAULT_DTYPES = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}
_SUPPORTED = {"cpu": (dtypes.bfloat16, dtypes.float16), "cuda": (dtypes.float16, dtypes.bfloat16)}


class _ThreadState(threading.local):
    def __init__(self):
        self.settings: dict[str, tuple[bool, object, bool]] = {}  # device type -> (enabled, dtype, cache)
        self.depth = 0  # autocast regions entered in this thread
        self.inside = 0  # > 0 while an op autocast cast for runs: its inner ops are left alone
        self.cache: dict = {}


_state = _ThreadState()
_lock = threading.Lock()
_regions = 0  # regions entered over all threads; the mode is installed while > 0


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for `device_type` in this thread."""
    return _state.settings.get(device_type, (False, None, True))[0]


def get_autocast_dtype(device_type: str):
    """The dtype autocast uses on `device_type` in this thread (its default outside a region:
    bfloat16 on CPU, float16 on CUDA)."""
    _check_device_type(device_type)
    setting = _state.settings.get(device_type)
    return setting[1] if setting is not None else _DEFAULT_DTYPES[device_type]


def _check_device_type(device_type):
    if device_type not in policy.POLICIES:
        raise RuntimeError(
            f"autocast: unsupported device_type {device_type!r}; expected one of {', '.join(policy.POLICIES)}"
        )


class _AutocastMode(DispatchMode):
    """The one dispatch mode all autocast regions share; it reads the calling thread's state."""

    def apply(self, spec, inputs, params, proceed):
        state = _state
        if not state.settings or state.inside or not inputs:
            return proceed(spec, inputs, params)
        setting = state.settings.get(inputs[0].device.type)
        if setting is None or not setting[0]:
            return proceed(spec, inputs, params)
        rule = policy.POLICIES[inputs[0].device.type].get(spec.name)
        if rule is None or current_node() is not None:
            return proceed(spec, inputs, params)
        if rule == policy.LOWER:
            target = setting[1]
        elif rule == policy.FLOAT32:
            target = dtypes.float32
        else:
            target = None
            for t in inputs:
                if t.dtype.kind == "float":  # never complex, as in PyTorch
                    target = t.dtype if target is None else dtypes.promote_types(target, t.dtype)
        cast = _cast_eligible if rule != policy.PROMOTE else _cast_floating
        if target is not None:
            inputs = tuple(cast(t, target, setting[2] and rule == policy.LOWER) for t in inputs)
        state.inside += 1
        try:
            return proceed(spec, inputs, params)
        finally:
            state.inside -= 1


def _cast_eligible(t, dtype, cache_enabled):
    # float64 is never lowered, as in PyTorch (`is_eligible`)
    if t.dtype is dtype or t.dtype.kind != "float" or t.dtype is dtypes.float64:
        return t
    return _cast(t, dtype, cache_enabled)


def _cast_floating(t, dtype, cache_enabled):
    if t.dtype is dtype or t.dtype.kind != "float":
        return t
    return _cast(t, dtype, cache_enabled)


def _cast(t, dtype, cache_enabled):
    from somegrad.ops.elementwise import cast

    # PyTorch's rule: a float32 leaf that requires grad (a parameter), not a view, cast to the low
    # dtype, is cast once per region (its cast node saves nothing, so it can serve many backwards)
    cacheable = (
        cache_enabled and t.requires_grad and t.grad_fn is None and t._base is None and t.dtype is dtypes.float32
    )
    if not cacheable:
        return cast(t, dtype)
    key = (id(t), dtype)
    hit = _state.cache.get(key)
    if hit is not None and hit[0] is t and hit[1] == t._version_counter[0]:
        return hit[2]
    out = cast(t, dtype)
    _state.cache[key] = (t, t._version_counter[0], out)
    return out


_mode = _AutocastMode()


def snapshot() -> dict:
    """This thread's autocast settings, for `restored` (activation checkpointing saves them
    with the forward and recomputes under them, as PyTorch's does)."""
    return dict(_state.settings)


class restored:
    """Run a region under the autocast settings `snapshot()` returned."""

    def __init__(self, settings: dict):
        self.regions = [autocast(device, dtype, enabled, cache) for device, (enabled, dtype, cache) in settings.items()]

    def __enter__(self):
        for region in self.regions:
            region.__enter__()
        return self

    def __exit__(self, *exc):
        for region in reversed(self.regions):
            region.__exit__(*exc)
        return False


class autocast:
    """Run the ops of a region in a lower precision where PyTorch does (`torch.autocast`).

    Args:
        device_type: "cpu" or "cuda": the tensors it applies to.
        dtype: the lower dtype, bfloat16 or float16 (default: bfloat16 on CPU, float16 on CUDA;
            on CPU NumPy has no bfloat16 arithmetic of its own, so bfloat16 arrays are ml_dtypes').
        enabled: False makes a region where autocast is off for `device_type` (inside an outer one).
        cache_enabled: reuse the casts of parameters (float32 leaves that require grad) within the region.

    A dtype the device does not support gives a warning and an off region, as in PyTorch.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: expected device_type to be a str, got {type(device_type).__name__}")
        _check_device_type(device_type)
        self.device = device_type
        self.fast_dtype = _DEFAULT_DTYPES[device_type] if dtype is None else dtype
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        if self._enabled and self.fast_dtype not in _SUPPORTED[device_type]:
            supported = " and ".join(d.name for d in _SUPPORTED[device_type])
            warnings.warn(
                f"In {device_type} autocast, but the target dtype {getattr(self.fast_dtype, 'name', self.fast_dtype)} "
                f"is not supported ({device_type} autocast supports {supported}). Disabling autocast.",
                stacklevel=2,
            )
            self._enabled = False

    def __enter__(self):
        global _regions
        state = _state
        self._previous = state.settings.get(self.device)
        state.settings[self.device] = (self._enabled, self.fast_dtype, self._cache_enabled)
        state.depth += 1
        with _lock:
            _regions += 1
            if _regions == 1:
                _mode.__enter__()
        return self

    def __exit__(self, *exc):
        global _regions
        state = _state
        if self._previous is None:
            del state.settings[self.device]
        else:
            state.settings[self.device] = self._previous
        state.depth -= 1
        if state.depth == 0:
            state.cache.clear()
        with _lock:
            _regions -= 1
            if _regions == 0:
                _mode.__exit__()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return fn(*args, **kwargs)

        return wrapper

    def __repr__(self) -> str:
        return f"autocast(device_type={self.device!r}, dtype={self.fast_dtype.name}, enabled={self._enabled})"
