"""`GradScaler`: dynamic loss scaling for float16 gradients, as `torch.amp.GradScaler`.

    scaler = GradScaler("cuda")
    for x, y in loader:
        optimizer.zero_grad()
        with sg.autocast("cuda"):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()   # gradients of loss * scale: small ones survive float16
        scaler.unscale_(optimizer)      # optional, before clipping: the gradients / scale
        scaler.step(optimizer)          # skipped when a gradient holds inf or NaN
        scaler.update()                 # halve the scale after an overflow, double it after
                                        # growth_interval steps without one

The scale and the growth counter are tensors on the scaled outputs' device, updated with tensor
ops; the one value read back to the host is whether any gradient overflowed (to decide whether
to step), as in PyTorch. bfloat16 has float32's range and needs no scaler.
"""

from __future__ import annotations

import warnings
from typing import Any

import somegrad as sg

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Scale a loss before `backward`, unscale the gradients before the optimizer step.

    Args (PyTorch's defaults):
        device: where the scale lives, "cuda" (default) or "cpu". A "cuda" scaler without a
            usable GPU warns and is disabled, as in PyTorch.
        init_scale: the first scale (2**16).
        growth_factor: the scale is multiplied by this after `growth_interval` steps in a row
            without inf or NaN gradients (2.0).
        backoff_factor: ... and by this after a step whose gradients overflowed (0.5).
        growth_interval: 2000.
        enabled: False makes every method a pass-through (`scale` returns its input, `step`
            steps).
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = bool(enabled)
        if self._enabled and device == "cuda":
            from somegrad import cuda

            if not cuda.is_available():
                warnings.warn(
                    "GradScaler is enabled, but CUDA is not available. Disabling.",
                    stacklevel=2,
                )
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError(f"GradScaler: the growth factor must be > 1.0, got {growth_factor}")
            if not 0.0 < backoff_factor < 1.0:
                raise ValueError(f"GradScaler: the backoff factor must be < 1.0, got {backoff_factor}")
            if not isinstance(growth_interval, int) or growth_interval <= 0:
                raise ValueError(f"GradScaler: growth_interval must be a positive integer, got {growth_interval!r}")
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._scale: Any = None  # a float32 tensor of shape (), made at the first scale()
        self._growth_tracker: Any = None  # an int32 tensor of shape ()
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def _lazy_init(self, device) -> None:
        self._scale = sg.full((), self._init_scale, dtype=sg.float32, device=device)
        self._growth_tracker = sg.full((), self._init_growth_tracker, dtype=sg.int32, device=device)

    def _state(self, optimizer) -> dict[str, Any]:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def scale(self, outputs):
        """`outputs` (a tensor, or an iterable of them) multiplied by the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, sg.Tensor):
            if self._scale is None:
                self._lazy_init(outputs.device)
            return outputs * self._scale.to(outputs.device)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if hasattr(outputs, "__iter__"):
            return map(self.scale, outputs)
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of Tensors, got {type(outputs)}")

    def _check_scale_initialised(self, caller: str) -> None:
        if self._scale is None:
            raise RuntimeError(
                f"GradScaler.{caller}: attempted {caller} but the scale is not initialised; call scale() first"
            )

    def unscale_(self, optimizer) -> None:
        """Divide `optimizer`'s gradients by the scale in place (once per step, before clipping)
        and note whether any holds inf or NaN."""
        if not self._enabled:
            return
        self._check_scale_initialised("unscale_")
        state = self._state(optimizer)
        if state["stage"] is _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = (1.0 / self._scale.double()).float()
        found = sg.zeros((), dtype=sg.float32, device=self._scale.device)
        with sg.no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if grad.dtype is sg.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    found = found + grad.isfinite().all().logical_not().float()
                    grad.mul_(inv_scale.to(grad.dtype))
        state["found_inf"] = found
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale the gradients (unless `unscale_` did), then `optimizer.step(*args, **kwargs)`
        unless a gradient holds inf or NaN. Returns what the step returned, or None."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_initialised("step")
        state = self._state(optimizer)
        if state["stage"] is _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None
        if not state["found_inf"].item():
            result = optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None) -> None:
        """Set the scale for the next step: `new_scale` if given, else back off after an
        overflow in any optimizer stepped since the last update, or grow after
        `growth_interval` clean steps in a row."""
        if not self._enabled:
            return
        self._check_scale_initialised("update")
        if new_scale is not None:
            value = new_scale if isinstance(new_scale, sg.Tensor) else sg.tensor(float(new_scale))
            self._scale = value.detach().to(self._scale.device).float().reshape(())
        else:
            found = [s["found_inf"] for s in self._per_optimizer.values() if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            total = found[0]
            for f in found[1:]:
                total = total + f
            overflow = total > 0
            successful = self._growth_tracker + 1
            grow = successful >= self._growth_interval
            grown = self._scale * self._growth_factor
            # a grown scale that overflows float32 is not taken
            grown = sg.where(grown.isfinite(), grown, self._scale)
            self._scale = sg.where(overflow, self._scale * self._backoff_factor, sg.where(grow, grown, self._scale))
            zero = sg.zeros_like(self._growth_tracker)
            self._growth_tracker = sg.where(overflow | grow, zero, successful.to(sg.int32))
        self._per_optimizer = {}

    def get_scale(self) -> float:
        """The scale as a Python float (the initial scale before the first `scale()`; 1.0 when
        disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale.item())

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        if self._growth_tracker is None:
            return self._init_growth_tracker
        return int(self._growth_tracker.item())

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's keys: scale, growth_factor, backoff_factor, growth_interval and
        _growth_tracker, as plain numbers (empty when disabled)."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler."
            )
        self._init_scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._scale is not None:
            self._scale = sg.full((), self._init_scale, dtype=sg.float32, device=self._scale.device)
            self._growth_tracker = sg.full((), self._init_growth_tracker, dtype=sg.int32, device=self._scale.device)

    def __repr__(self) -> str:
        return f"GradScaler(device={self._device!r}, scale={self.get_scale()}, enabled={self._enabled})"
