"""PyTorch's layout and memory-format objects, which tensor factories take as keywords.

somegrad tensors are dense and strided, so `layout=somegrad.strided` (the default) is the only
layout; `memory_format` is accepted for the code that passes it and changes no value (a
`channels_last` request gives the default layout: the same values, in row-major order).
`pin_memory=True` is accepted too: host arrays are already where a copy reads them.

    x = sg.zeros(2, 3, layout=sg.strided, pin_memory=False)
"""

from __future__ import annotations

__all__ = [
    "Layout",
    "MemoryFormat",
    "strided",
    "contiguous_format",
    "preserve_format",
    "channels_last",
    "channels_last_3d",
    "check_factory_options",
]


class Layout:
    """A tensor layout; `somegrad.strided` is the only one."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"somegrad.{self.name}"


class MemoryFormat:
    """A memory format request (`contiguous_format`, `preserve_format`, `channels_last`, ...)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"somegrad.{self.name}"


strided = Layout("strided")
contiguous_format = MemoryFormat("contiguous_format")
preserve_format = MemoryFormat("preserve_format")
channels_last = MemoryFormat("channels_last")
channels_last_3d = MemoryFormat("channels_last_3d")


def check_factory_options(op: str, layout=None, pin_memory=False, memory_format=None) -> None:
    """Refuse what a factory cannot honour: a layout other than strided (TypeError for an object
    that is no layout, as PyTorch), a memory format that is no MemoryFormat."""
    if layout is not None and layout is not strided:
        if isinstance(layout, Layout):
            raise NotImplementedError(f"{op}: only the strided layout is supported, got {layout!r}")
        raise TypeError(f"{op}(): argument 'layout' must be somegrad.layout, not {type(layout).__name__}")
    if memory_format is not None and not isinstance(memory_format, MemoryFormat):
        raise TypeError(
            f"{op}(): argument 'memory_format' must be somegrad.memory_format, not {type(memory_format).__name__}"
        )
    if not isinstance(pin_memory, bool):
        raise TypeError(f"{op}(): argument 'pin_memory' must be bool, not {type(pin_memory).__name__}")
