"""Samples for the recurrent composites (`lstm_cell` and its fused backward)."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, register_samples, values
from somegrad.testing.samples.nn import _grad_of, _numeric_vjp

F32, F64 = dtypes.float32, dtypes.float64


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _lstm_cell_reference(gates, c):
    i, f, g, o = np.split(gates, 4, axis=1)
    c_next = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return np.concatenate([_sigmoid(o) * np.tanh(c_next), c_next], axis=1)


@register_samples("lstm_cell")
def _lstm_cell_samples():
    for dtype in (F64, F32):
        yield Sample((Input(values((3, 8), key=1)), Input(values((3, 2), key=2))), {}, _lstm_cell_reference, dtype)
    yield Sample(
        (Input(values((2, 12), -4, 4, key=3)), Input(values((2, 3), key=4))), {}, _lstm_cell_reference, F64, name="wide"
    )
    yield Sample((Input(values((1, 4), key=5)), Input(values((1, 1), key=6))), {}, _lstm_cell_reference, F64, name="h1")
    yield ErrorSample((Input(values((3, 7))), Input(values((3, 2)))), {}, RuntimeError, "expected gates (N, 4H)")


@register_samples("lstm_cell_backward")
def _lstm_cell_backward_samples():
    from somegrad.ops.nn.recurrent import lstm_cell

    for wrt, name in enumerate(("gates", "c")):
        for dtype in (F32, F64):
            yield Sample(
                (Input(values((3, 8), -3, 3, key=1)), Input(values((3, 2), key=2)), Input(values((3, 4), key=3))),
                {},
                _numeric_vjp(_lstm_cell_reference, wrt=wrt),
                dtype,
                name=name,
                call=_grad_of(lstm_cell, wrt=wrt),
                grad=False,
                rtol=1e-5 if dtype is F32 else 1e-7,
                atol=1e-5 if dtype is F32 else 1e-8,
            )
