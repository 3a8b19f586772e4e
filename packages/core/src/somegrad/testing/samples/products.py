"""Samples for `somegrad.ops.products`: mm, bmm, mv, dot, vdot, inner, outer, addmm, addmv, addbmm,
baddbmm, each against NumPy, with the shape errors PyTorch raises."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import FLOATS, ErrorSample, Input, Sample, register_samples, values

F32, F64 = dtypes.float32, dtypes.float64
_INTS = (dtypes.int64, dtypes.int32)


def _inputs(shapes, dtype=None, layout="contiguous", key=""):
    """Inputs of `shapes`: floats, or small ints for an integer dtype."""
    integer = dtype is not None and not dtype.is_floating_point
    return tuple(
        Input(
            values(s, -3, 3, integer=True, key=(key, i)) if integer else values(s, key=(key, i)),
            layout=layout if len(s) >= 2 else "contiguous",
        )
        for i, s in enumerate(shapes)
    )


def _product_samples(op, reference, shapes, cases, errors, params=None):
    """`shapes`: the main case's input shapes; `cases`: (name, shapes, params) in float64;
    `errors`: (name, shapes, match), each a RuntimeError."""

    @register_samples(op)
    def samples():
        base = params or {}
        for dtype in FLOATS + _INTS:
            rtol = 1e-5 if dtype is F32 else None
            yield Sample(_inputs(shapes, dtype, key=op), base, reference, dtype, name="dtype", rtol=rtol)
        yield Sample(_inputs(shapes, layout="transposed", key=op), base, reference, F64, name="transposed")
        yield Sample(_inputs(shapes, layout="stepped", key=op), base, reference, F64, name="stepped")
        for name, case_shapes, case_params in cases:
            yield Sample(_inputs(case_shapes, key=(op, name)), {**base, **case_params}, reference, F64, name=name)
        for name, case_shapes, match in errors:
            yield ErrorSample(_inputs(case_shapes), base, RuntimeError, match, name=name)
        mixed = (Input(values(shapes[0])), *(Input(values(s), dtype=F32) for s in shapes[1:]))
        yield ErrorSample(mixed, base, RuntimeError, "of the same dtype", F64, name="dtypes")

    return samples


def _scaled(product):
    def reference(input, a, b, beta, alpha):
        return beta * input + alpha * product(a, b)

    return reference


_product_samples(
    "mm",
    np.matmul,
    [(3, 4), (4, 2)],
    [("size0-rows", [(0, 3), (3, 2)], {}), ("size0-inner", [(2, 0), (0, 3)], {})],
    [
        ("vector", [(3,), (3, 2)], "mat1 must be a 2-D tensor"),
        ("batched", [(2, 2, 3), (3, 2)], "mat1 must be a 2-D tensor"),
        ("inner", [(2, 3), (2, 3)], "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    ],
)
_product_samples(
    "bmm",
    np.matmul,
    [(2, 3, 4), (2, 4, 2)],
    [("size0-batch", [(0, 3, 4), (0, 4, 2)], {}), ("one", [(1, 1, 1), (1, 1, 3)], {})],
    [
        ("2d", [(2, 3), (3, 2)], "batch1 must be a 3-D tensor"),
        ("batch", [(2, 2, 3), (3, 3, 2)], "batch2 tensor to be: [2, 3] but got: [3, 3]"),
        ("inner", [(2, 2, 3), (2, 4, 2)], "batch2 tensor to be: [2, 3] but got: [2, 4]"),
    ],
)
_product_samples(
    "mv",
    np.matmul,
    [(3, 4), (4,)],
    [("size0", [(0, 4), (4,)], {}), ("inner0", [(3, 0), (0,)], {})],
    [
        ("matrix", [(2, 3), (3, 1)], "vector + matrix @ vector expected"),
        ("size", [(2, 3), (2,)], "size mismatch, got mat (2x3), vec (2)"),
    ],
)
for _op in ("dot", "vdot"):
    _product_samples(
        _op,
        np.dot,
        [(5,), (5,)],
        [("empty", [(0,), (0,)], {}), ("one", [(1,), (1,)], {})],
        [
            ("2d", [(2, 3), (2, 3)], "1D tensors expected, but got 2D and 2D tensors"),
            ("size", [(3,), (4,)], "inconsistent tensor size, expected tensor [3] and src [4]"),
        ],
    )
_product_samples(
    "inner",
    np.inner,
    [(2, 3, 4), (5, 4)],
    [("vectors", [(4,), (4,)], {}), ("scalar", [(), (2, 3)], {}), ("scalar-right", [(3,), ()], {})],
    [("last", [(2, 3), (2,)], "the last dimension must match on both input tensors")],
)
_product_samples(
    "outer",
    np.outer,
    [(3,), (4,)],
    [("empty", [(0,), (4,)], {})],
    [("2d", [(2, 3), (3,)], "outer: expected 1-D argument self, but got 2-D")],
)
_product_samples(
    "addmm",
    _scaled(np.matmul),
    [(3, 2), (3, 4), (4, 2)],
    [
        ("scaled", [(3, 2), (3, 4), (4, 2)], {"beta": 0.5, "alpha": -2.0}),
        ("broadcast", [(2,), (3, 4), (4, 2)], {"beta": 1, "alpha": 3}),
        ("beta0", [(1, 2), (3, 4), (4, 2)], {"beta": 0, "alpha": 1}),
    ],
    [
        ("input", [(3,), (2, 3), (3, 2)], "cannot be expanded to the shape (2, 2)"),
        ("inner", [(2, 2), (2, 3), (2, 3)], "mat1 and mat2 shapes cannot be multiplied"),
    ],
    params={"beta": 1, "alpha": 1},
)
_product_samples(
    "addmv",
    _scaled(np.matmul),
    [(3,), (3, 4), (4,)],
    [("scaled", [(3,), (3, 4), (4,)], {"beta": 0.25, "alpha": 2}), ("broadcast", [(), (3, 4), (4,)], {})],
    [
        ("input", [(3,), (2, 3), (3,)], "cannot be expanded to the shape (2,)"),
        ("size", [(2,), (2, 3), (2,)], "size mismatch, got input (2), mat (2x3), vec (2)"),
    ],
    params={"beta": 1, "alpha": 1},
)
_product_samples(
    "addbmm",
    _scaled(lambda a, b: np.matmul(a, b).sum(0)),
    [(3, 5), (4, 3, 2), (4, 2, 5)],
    [
        ("scaled", [(5,), (2, 3, 2), (2, 2, 5)], {"beta": -1, "alpha": 0.5}),
        ("size0-batch", [(3, 5), (0, 3, 2), (0, 2, 5)], {}),
    ],
    [("input", [(3, 3), (2, 2, 3), (2, 3, 2)], "cannot be expanded to the shape (2, 2)")],
    params={"beta": 1, "alpha": 1},
)
_product_samples(
    "baddbmm",
    _scaled(np.matmul),
    [(2, 3, 4), (2, 3, 5), (2, 5, 4)],
    [
        ("scaled", [(3, 4), (2, 3, 5), (2, 5, 4)], {"beta": 2, "alpha": 0.1}),
        ("one", [(1, 1, 4), (2, 3, 5), (2, 5, 4)], {}),
    ],
    [("input", [(3, 2, 2), (2, 2, 3), (2, 3, 2)], "cannot be expanded to the shape (2, 2, 2)")],
    params={"beta": 1, "alpha": 1},
)
_product_samples(
    "tensordot",
    lambda a, b, dims_a, dims_b: np.tensordot(a, b, axes=(dims_a, dims_b)),
    [(2, 3, 4), (3, 4, 5)],
    [
        ("one-pair", [(2, 3), (3, 4)], {"dims_a": (1,), "dims_b": (0,)}),
        ("crossed", [(3, 4, 2), (4, 3)], {"dims_a": (1, 0), "dims_b": (0, 1)}),
        ("outer", [(2, 3), (4,)], {"dims_a": (), "dims_b": ()}),
        ("all", [(2, 3), (2, 3)], {"dims_a": (0, 1), "dims_b": (0, 1)}),
    ],
    [("sizes", [(2, 3, 4), (4, 3, 5)], "contracted dimensions need to match, but first has size 3 in dim 1")],
    params={"dims_a": (1, 2), "dims_b": (0, 1)},
)
