"""Samples for the bitwise ops: and, or, xor and not over integer and bool tensors (logical for
bool, as PyTorch), with broadcasting and negative values (two's complement)."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import INTEGERS, ErrorSample, Input, Sample, register_samples, values

_BINARY = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor}


def _operands(dtype, key):
    if dtype is dtypes.bool_:
        return values((3, 4), 0, 1, integer=True, key=key).astype(bool), values(
            (4,), 0, 1, integer=True, key=key + "b"
        ).astype(bool)
    low = 0 if dtype is dtypes.uint8 else -100
    return values((3, 4), low, 100, integer=True, key=key), values((4,), low, 100, integer=True, key=key + "b")


def _binary_samples(name, reference):
    def samples():
        for dtype in (*INTEGERS, dtypes.bool_):
            a, b = _operands(dtype, name)
            yield Sample((Input(a), Input(b)), {}, reference, dtype, name="broadcast", grad=False)
            yield Sample(
                (Input(a.T, layout="transposed"), Input(a.T)), {}, reference, dtype, name="transposed", grad=False
            )
        yield Sample((Input(np.array(6)), Input(np.array([3, 5]))), {}, reference, dtypes.int64, name="0d", grad=False)
        yield ErrorSample(
            (Input(values((2,))), Input(values((2,)))),
            {},
            NotImplementedError,
            f"{name}: not implemented for float32",
            call=lambda a, b: getattr(__import__("somegrad"), name)(a, b),
        )

    return samples


for _name, _reference in _BINARY.items():
    register_samples(_name)(_binary_samples(_name, _reference))


@register_samples("bitwise_not")
def _bitwise_not_samples():
    for dtype in (*INTEGERS, dtypes.bool_):
        a, _ = _operands(dtype, "bitwise_not")
        yield Sample((Input(a),), {}, np.invert, dtype, grad=False)
    yield ErrorSample(
        (Input(values((2,))),),
        {},
        NotImplementedError,
        "bitwise_not: not implemented for float32",
        call=lambda x: ~x,
    )
