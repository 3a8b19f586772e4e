"""How tensors print: `set_printoptions` (PyTorch's parameters) and `format_tensor`.

    sg.set_printoptions(precision=2)         # tensor([0.33, 0.67])
    sg.set_printoptions(sci_mode=False)      # never 1.0000e-05
    sg.set_printoptions(profile="full")      # every element, however many
    sg.set_printoptions(profile="default")   # back to the defaults

Elements are formatted as PyTorch does: floats as `1.` when all are integral, else with
`precision` decimals, in scientific notation when the magnitudes span more than 1000x or
leave [1e-4, 1e8] (unless `sci_mode` says otherwise); every element padded to one width.
Tensors with more than `threshold` elements print `edgeitems` at each end of each dimension.

Differs from PyTorch: rows wrap at NumPy's line width (75 characters by default, where
PyTorch's is 80), and a summarised row has "..." where PyTorch has " ...".
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, fields, replace

from somegrad import dtypes

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "format_tensor"]


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 75
    sci_mode: bool | None = None


_DEFAULTS = _PrintOptions()
# PyTorch's profiles; each also resets the line width (and leaves sci_mode alone, as PyTorch does)
_PROFILES: dict[str, dict[str, float]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2},
    "full": {"precision": 4, "threshold": float("inf"), "edgeitems": 3},
}
_options = _PrintOptions()


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print, as `torch.set_printoptions`; arguments left None keep their value.

    Args:
        precision: digits after the decimal point (default 4).
        threshold: more elements than this print summarised (default 1000).
        edgeitems: elements shown at each end of a summarised dimension (default 3).
        linewidth: characters per line before a row wraps (default 75).
        profile: "default", "short" or "full": sets the four above at once (first, so the
            other arguments refine it).
        sci_mode: True or False forces scientific notation on or off; None (the default)
            chooses per tensor.
    """
    global _options
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        chosen = _PROFILES[profile]
        _options = replace(
            _options,
            linewidth=_DEFAULTS.linewidth,
            precision=int(chosen["precision"]),
            threshold=chosen["threshold"],
            edgeitems=int(chosen["edgeitems"]),
        )
    for name, value in (("precision", precision), ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"set_printoptions: {name} must be a non-negative integer, got {value!r}")
            setattr(_options, name, value)
    if threshold is not None:
        _options.threshold = threshold
    # sci_mode=None means "automatic", the same as not giving it, as in PyTorch
    _options.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as a dict of `set_printoptions`'s arguments (without profile)."""
    return {f.name: getattr(_options, f.name) for f in fields(_options)}


@contextlib.contextmanager
def printoptions(**kwargs):
    """`with sg.printing.printoptions(precision=2): print(x)`: options for one block only."""
    global _options
    saved = replace(_options)
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        _options = saved


def format_tensor(tensor) -> str:
    """The repr of `tensor`: `tensor([1., 2.], dtype=..., grad_fn=...)` as PyTorch prints it."""
    import numpy as np

    values = tensor.detach().to(dtypes.float32) if tensor.dtype is dtypes.bfloat16 else tensor.detach()
    array = values.numpy()
    options = _options
    threshold = sys.maxsize if options.threshold == float("inf") else int(options.threshold)
    body = np.array2string(
        array,
        separator=", ",
        prefix="tensor(",
        threshold=threshold,
        edgeitems=options.edgeitems,
        max_line_width=options.linewidth,
        formatter=_element_formatter(array, options),
    )
    extras = []
    if tensor.device.type != "cpu":
        extras.append(f"device='{tensor.device}'")
    if tensor.numel() == 0 and tensor.ndim != 1:
        extras.append(f"size={tuple(tensor.shape)}")
    default_shown = (
        (dtypes.get_default_dtype(),)
        if tensor.numel() == 0
        else (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_)
    )
    if tensor.dtype not in default_shown:
        extras.append(f"dtype={tensor.dtype!r}")
    if tensor.grad_fn is not None:
        extras.append(f"grad_fn={tensor.grad_fn!r}")
    elif tensor.requires_grad:
        extras.append("requires_grad=True")
    suffix = "".join(", " + e for e in extras)
    return f"tensor({body}{suffix})"


def _element_formatter(array, options=None):
    """PyTorch's element format for `array` (a NumPy array) under `options`, as numpy's
    `array2string` formatter dict (None: numpy's own, for integers). Complex elements print as
    PyTorch's do, `1.5000+2.0000j`: the real and the imaginary parts each formatted as a real
    tensor of them would be."""

    options = options or _options
    if array.dtype.kind == "b":
        width = 5 if not array.all() else 4
        return {"bool": lambda v: str(bool(v)).rjust(width)}
    if array.dtype.kind == "c":
        real_text = _float_formatter(array.real, options)
        imag_text = _float_formatter(array.imag, options)

        def complex_text(v):
            imag = (imag_text(v.imag) + "j").lstrip()
            return real_text(v.real) + (imag if imag[0] in "+-" else "+" + imag)

        return {"complex_kind": complex_text}
    if array.dtype.kind != "f":
        return None
    return {"float_kind": _float_formatter(array, options)}


def _float_formatter(array, options):
    """A function formatting each element of the real `array` as PyTorch does, padded to one width."""
    import numpy as np

    finite = array[np.isfinite(array)].astype(np.float64)
    magnitudes = np.abs(finite[finite != 0])
    digits = options.precision
    if np.all(finite == np.ceil(finite)):
        automatic = magnitudes.size and (magnitudes.max() / magnitudes.min() > 1000 or magnitudes.max() > 1e8)
        scientific = automatic if options.sci_mode is None else options.sci_mode
        spec = f"{{:.{digits}e}}" if scientific else "{:.0f}."
    else:
        automatic = magnitudes.size and (
            magnitudes.max() / magnitudes.min() > 1000 or magnitudes.max() > 1e8 or magnitudes.min() < 1e-4
        )
        scientific = automatic if options.sci_mode is None else options.sci_mode
        spec = f"{{:.{digits}e}}" if scientific else f"{{:.{digits}f}}"

    def text(v):
        return spec.format(v) if np.isfinite(v) else str(float(v))

    width = max((len(text(v)) for v in finite), default=0)
    return lambda v: text(v).rjust(width)
