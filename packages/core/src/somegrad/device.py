"""Devices: a type ("cpu", "cuda", or a plugin's own) and an optional index."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["Device", "device"]


class Device:
    """Where a tensor lives, like `torch.device`: `Device("cuda:1")`, `Device("cuda", 1)`."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, spec: str | Device, index: int | None = None):
        if isinstance(spec, Device):
            index = spec.index if index is None else index
            spec = spec.type
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, suffix = spec.partition(":")
        if suffix:
            if index is not None or not suffix.isdigit():
                raise ValueError(f"device: invalid device string {spec!r}")
            index = int(suffix)
        if not kind or not kind.replace("_", "").isalnum():
            raise ValueError(f"device: invalid device string {spec!r}")
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("Device is immutable")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


@lru_cache(maxsize=64)
def _parse(spec: str) -> Device:
    return Device(spec)


def device(spec: str | Device | None, index: int | None = None) -> Device:
    """Normalise a device argument: a `Device`, "cpu", "cuda:0"... (None means the default)."""
    if isinstance(spec, Device) and index is None:
        return spec
    if spec is None:
        from somegrad.backends import default_device

        return default_device()
    if isinstance(spec, str) and index is None:
        return _parse(spec)
    return Device(spec, index)
