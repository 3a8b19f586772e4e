"""Samples for the movement ops: reshape, permute, expand, flip, pad, cat, copy, and matmul."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes, ops
from somegrad.testing.samples import (
    ALL,
    FLOATS,
    INTEGERS,
    ErrorSample,
    Input,
    Sample,
    register_samples,
    values,
)

F32, F64 = dtypes.float32, dtypes.float64


def _data(shape, dtype, key=None):
    """Values of `shape` suited to `dtype` (ints for integer dtypes, bools for bool)."""
    if dtype is dtypes.bool_:
        return values(shape, key=key) > 0
    if not dtype.is_floating_point:
        return values(shape, 0, 9, integer=True, key=key)
    return values(shape, key=key)


@register_samples("reshape")
def _reshape_samples():
    def ref(x, shape):
        return np.reshape(x, shape)

    for dtype in ALL:
        yield Sample((Input(_data((3, 4), dtype)),), {"shape": (2, 6)}, ref, dtype, name="3x4-2x6")
    yield Sample((Input(values((2, 3, 4))),), {"shape": (4, 6)}, ref, F64, name="3d-2d")
    yield Sample((Input(values(())),), {"shape": (1, 1)}, ref, F64, name="0d")
    yield Sample((Input(values((1,))),), {"shape": ()}, ref, F64, name="to-0d")
    yield Sample((Input(np.zeros((0, 3))),), {"shape": (3, 0)}, ref, F64, name="size0")
    yield Sample((Input(values((4, 3)), layout="transposed"),), {"shape": (12,)}, ref, F64, name="transposed")
    yield Sample((Input(values((2, 3)), layout="stepped"),), {"shape": (3, 2)}, ref, F64, name="stepped")
    yield Sample(
        (Input(values((3, 4))),),
        {},
        lambda x: np.reshape(x, (-1, 2)),
        F64,
        name="infer-size",
        call=lambda t: ops.reshape(t, -1, 2),
    )
    yield ErrorSample(
        (Input(values((3, 4))),),
        {"shape": (5, 2)},
        ValueError,
        "is invalid for input of shape",
        name="bad-size",
    )


@register_samples("permute")
def _permute_samples():
    def ref(x, dims):
        return np.transpose(x, dims)

    for dtype in ALL:
        yield Sample((Input(_data((2, 3, 4), dtype)),), {"dims": (2, 0, 1)}, ref, dtype, name="3d")
    yield Sample((Input(values((3, 4))),), {"dims": (1, 0)}, ref, F64, name="2d")
    yield Sample((Input(np.zeros((0, 3))),), {"dims": (1, 0)}, ref, F64, name="size0")
    yield Sample((Input(values((4, 3)), layout="transposed"),), {"dims": (1, 0)}, ref, F64, name="transposed")
    yield Sample(
        (Input(values((2, 3, 4))),),
        {},
        lambda x: np.transpose(x, (0, 2, 1)),
        F64,
        name="negdim",
        call=lambda t: ops.permute(t, 0, -1, -2),
    )
    yield ErrorSample(
        (Input(values((2, 3))),),
        {"dims": (0, 0)},
        ValueError,
        "is not a permutation",
        name="bad-dims",
    )


@register_samples("expand")
def _expand_samples():
    def ref(x, shape):
        return np.broadcast_to(x, shape)

    for dtype in ALL:
        yield Sample((Input(_data((3, 1), dtype)),), {"shape": (3, 4)}, ref, dtype, name="3x1")
    yield Sample((Input(values((4,))),), {"shape": (2, 3, 4)}, ref, F64, name="new-dims")
    yield Sample((Input(values(())),), {"shape": (2, 3)}, ref, F64, name="0d")
    yield Sample((Input(np.zeros((0, 1))),), {"shape": (0, 3)}, ref, F64, name="size0")
    yield Sample(
        (Input(values((1, 3)), layout="transposed"),),
        {"shape": (2, 1, 3)},
        ref,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(values((3, 1))),),
        {},
        lambda x: np.broadcast_to(x, (3, 4)),
        F64,
        name="minus-one",
        call=lambda t: ops.expand(t, -1, 4),
    )
    yield ErrorSample(
        (Input(values((3, 2))),),
        {"shape": (3, 4)},
        ValueError,
        "must match the target size",
        name="bad-size",
    )
    yield ErrorSample((Input(values((2, 3))),), {"shape": (3,)}, ValueError, "fewer dimensions", name="bad-rank")


@register_samples("flip")
def _flip_samples():
    def ref(x, dims):
        return np.flip(x, dims)

    for dtype in ALL:
        yield Sample((Input(_data((3, 4), dtype)),), {"dims": (1,)}, ref, dtype, name="dim1")
    yield Sample((Input(values((2, 3, 4))),), {"dims": (0, 2)}, ref, F64, name="dims02")
    yield Sample((Input(values(())),), {"dims": ()}, ref, F64, name="0d")
    yield Sample((Input(np.zeros((0, 3))),), {"dims": (0,)}, ref, F64, name="size0")
    yield Sample((Input(values((4, 3)), layout="transposed"),), {"dims": (0,)}, ref, F64, name="transposed")
    yield Sample((Input(values((2, 3)), layout="stepped"),), {"dims": (1,)}, ref, F64, name="stepped")
    yield Sample(
        (Input(values((3, 4))),),
        {},
        lambda x: np.flip(x, -1),
        F64,
        name="negdim",
        call=lambda t: ops.flip(t, (-1,)),
    )


@register_samples("pad")
def _pad_samples():
    def ref(x, pad, value):
        return np.pad(x, pad, constant_values=value)

    for dtype in ALL:
        value = True if dtype is dtypes.bool_ else 0
        yield Sample(
            (Input(_data((2, 3), dtype)),),
            {"pad": ((1, 0), (2, 1)), "value": value},
            ref,
            dtype,
            name="2d",
        )
    yield Sample((Input(values((2, 3))),), {"pad": ((0, 0), (1, 1)), "value": -1.5}, ref, F64, name="value")
    yield Sample(
        (Input(values((2, 3, 4))),),
        {"pad": ((0, 0), (0, 0), (2, 2)), "value": 0.0},
        ref,
        F64,
        name="3d",
    )
    yield Sample((Input(np.zeros((0, 2))),), {"pad": ((1, 1), (0, 0)), "value": 3.0}, ref, F64, name="size0")
    yield Sample(
        (Input(values((3, 2)), layout="transposed"),),
        {"pad": ((1, 1), (1, 1)), "value": 0.0},
        ref,
        F64,
        name="transposed",
    )
    yield ErrorSample(
        (Input(values((2, 3))),),
        {"pad": ((1, 1),), "value": 0.0},
        ValueError,
        "one (before, after) pair per dimension",
        name="bad-pad",
    )


@register_samples("cat")
def _cat_samples():
    def ref(*arrays, dim):
        return np.concatenate(arrays, axis=dim)

    for dtype in ALL:
        yield Sample(
            (Input(_data((2, 3), dtype, 0)), Input(_data((1, 3), dtype, 1))),
            {"dim": 0},
            ref,
            dtype,
            name="dim0",
        )
    yield Sample(
        (Input(values((2, 3))), Input(values((2, 1))), Input(values((2, 2)))),
        {"dim": 1},
        ref,
        F64,
        name="three",
    )
    yield Sample((Input(values((2, 3))),), {"dim": 1}, ref, F64, name="one")
    yield Sample((Input(np.zeros((0, 3))), Input(values((2, 3)))), {"dim": 0}, ref, F64, name="size0")
    yield Sample(
        (Input(values((2, 3)), layout="transposed"), Input(values((2, 3)), layout="stepped")),
        {"dim": 0},
        ref,
        F64,
        name="non-contiguous",
    )
    yield Sample(
        (Input(values((2, 3))), Input(values((2, 2)))),
        {},
        lambda a, b: np.concatenate([a, b], axis=-1),
        F64,
        name="negdim",
        call=lambda a, b: ops.cat([a, b], dim=-1),
    )
    yield ErrorSample(
        (Input(values((2, 3))), Input(values((2, 4)))),
        {"dim": 0},
        ValueError,
        "sizes of tensors must match except in dimension 0",
        name="bad-shapes",
    )


@register_samples("copy")
def _copy_samples():
    for dtype in ALL:
        yield Sample((Input(_data((3, 4), dtype)),), {}, np.copy, dtype)
    yield Sample((Input(values(())),), {}, np.copy, F64, name="0d")
    yield Sample((Input(np.zeros((0, 3))),), {}, np.copy, F64, name="size0")
    yield Sample((Input(values((4, 3)), layout="transposed"),), {}, np.copy, F64, name="transposed")
    yield Sample((Input(values((2, 3)), layout="stepped"),), {}, np.copy, F64, name="stepped")


@register_samples("matmul")
def _matmul_samples():
    pairs = (
        ("2d", (2, 3), (3, 4), "contiguous"),
        ("batched", (2, 2, 3), (2, 3, 4), "contiguous"),
        ("bcast-batch", (1, 2, 3), (3, 3, 2), "contiguous"),
        ("bcast-rank", (2, 2, 3), (3, 4), "contiguous"),
        ("size0-rows", (0, 3), (3, 2), "contiguous"),
        ("size0-inner", (2, 0), (0, 3), "contiguous"),
        ("transposed", (3, 4), (4, 2), "transposed"),
        ("stepped", (2, 3), (3, 3), "stepped"),
    )
    for name, shape_a, shape_b, layout in pairs:
        yield Sample(
            (
                Input(values(shape_a, key="a"), layout=layout),
                Input(values(shape_b, key="b"), layout=layout),
            ),
            {},
            np.matmul,
            F64,
            name=name,
        )
    for dtype in FLOATS:
        yield Sample(
            (Input(values((4, 8), key="a")), Input(values((8, 3), key="b"))),
            {},
            np.matmul,
            dtype,
            name="dtype",
            rtol=1e-5 if dtype is F32 else None,
        )
    for dtype in (dtypes.int64, dtypes.int32):
        yield Sample(
            (
                Input(values((2, 3), -3, 3, integer=True)),
                Input(values((3, 2), -3, 3, integer=True)),
            ),
            {},
            np.matmul,
            dtype,
            name="int",
        )
    yield Sample(
        (
            Input(np.array([[1e20, 1e20], [1.0, -1.0]])),
            Input(np.array([[1e20, 0.0], [-1e20, 1.0]])),
        ),
        {},
        np.matmul,
        F64,
        name="large",
        grad=False,
    )
    yield Sample(
        (Input(values((3,))), Input(values((3, 2)))),
        {},
        np.matmul,
        F64,
        name="vector",
        call=lambda a, b: ops.matmul(a, b),
    )
    yield Sample(
        (Input(values((3,))), Input(values((3,)))),
        {},
        np.matmul,
        F64,
        name="dot",
        call=lambda a, b: ops.matmul(a, b),
    )
    yield ErrorSample(
        (Input(values((2, 3))), Input(values((4, 2)))),
        {},
        ValueError,
        "cannot be multiplied",
        name="bad-inner",
    )
    yield ErrorSample(
        (Input(values((2, 2, 3))), Input(values((3, 3, 2)))),
        {},
        ValueError,
        "cannot be broadcast",
        name="bad-batch",
    )
    yield ErrorSample(
        (Input(values(())), Input(values((3,)))),
        {},
        ValueError,
        "at least 1 dimension",
        name="0d",
        call=lambda a, b: ops.matmul(a, b),
    )
    yield ErrorSample(
        (Input(np.ones((2, 2), bool)), Input(np.ones((2, 2), bool))),
        {},
        TypeError,
        "bool tensors are not supported",
        dtypes.bool_,
        name="bool",
        call=lambda a, b: ops.matmul(a, b),
    )


_ = INTEGERS


# --- the implicit composites built on reshape, permute, expand, getitem and where ----------------
def _one_input(op, cases, errors=()):
    """Register `cases`: (name, shape, params, reference, dtypes) for a one-input op, each also
    transposed when 2-d or more; `errors`: (name, shape, params, match) that raise RuntimeError."""

    @register_samples(op)
    def samples():
        for name, shape, params, reference, kinds in cases:
            for dtype in kinds:
                yield Sample((Input(_data(shape, dtype, key=op)),), params, reference, dtype, name=name)
            if len(shape) >= 2:
                transposed = Input(values(shape, key=op), layout="transposed")
                yield Sample((transposed,), params, reference, F64, name=f"{name}-transposed")
        for name, shape, params, match in errors:
            yield ErrorSample((Input(values(shape)),), params, RuntimeError, match, name=name)


_SOME = (F32, F64, dtypes.float16, dtypes.int64, dtypes.bool_)
_one_input(
    "transpose",
    [
        ("3d", (2, 3, 4), {"dim0": 0, "dim1": 2}, lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1), _SOME),
        ("same", (2, 3), {"dim0": 1, "dim1": 1}, lambda x, dim0, dim1: x, (F64,)),
        ("0d", (), {"dim0": 0, "dim1": 0}, lambda x, dim0, dim1: x, (F64,)),
    ],
)
_one_input(
    "broadcast_to",
    [
        ("lead", (3, 1), {"shape": (2, 3, 4)}, lambda x, shape: np.broadcast_to(x, shape), _SOME),
        ("0d", (), {"shape": (2, 2)}, lambda x, shape: np.broadcast_to(x, shape), (F64,)),
    ],
    errors=[("bad-size", (2, 3), {"shape": (4, 3)}, "must match")],
)
_one_input(
    "squeeze",
    [
        ("all", (1, 3, 1, 2), {"dim": (0, 1, 2, 3)}, lambda x, dim: np.squeeze(x), _SOME),
        ("some", (1, 3, 1), {"dim": (0,)}, lambda x, dim: np.squeeze(x, 0), (F64,)),
        ("not-1", (2, 3), {"dim": (0,)}, lambda x, dim: x, (F64,)),
    ],
)
_one_input(
    "unsqueeze",
    [
        ("middle", (2, 3), {"dim": 1}, lambda x, dim: np.expand_dims(x, dim), _SOME),
        ("end", (2, 3), {"dim": 2}, lambda x, dim: np.expand_dims(x, dim), (F64,)),
        ("0d", (), {"dim": 0}, lambda x, dim: np.expand_dims(x, dim), (F64,)),
    ],
)
_one_input(
    "flatten",
    [
        ("inner", (2, 3, 4), {"start_dim": 1, "end_dim": 2}, lambda x, start_dim, end_dim: x.reshape(2, 12), _SOME),
        ("all", (2, 3, 4), {"start_dim": 0, "end_dim": 2}, lambda x, start_dim, end_dim: x.reshape(-1), (F64,)),
        ("0d", (), {"start_dim": 0, "end_dim": 0}, lambda x, start_dim, end_dim: x.reshape(1), (F64,)),
    ],
)
_one_input(
    "unflatten",
    [("split", (2, 6), {"dim": 1, "sizes": (2, 3)}, lambda x, dim, sizes: x.reshape(2, 2, 3), _SOME)],
    errors=[("bad-sizes", (2, 6), {"dim": 1, "sizes": (4, 2)}, "unflatten: Provided sizes [4, 2] don't multiply up")],
)
_one_input(
    "narrow",
    [
        ("middle", (3, 5), {"dim": 1, "start": 1, "length": 3}, lambda x, dim, start, length: x[:, 1:4], _SOME),
        ("empty", (3, 5), {"dim": 0, "start": 2, "length": 0}, lambda x, dim, start, length: x[2:2], (F64,)),
    ],
)
_one_input(
    "contiguous",
    [("3x4", (3, 4), {}, lambda x: x, _SOME)],
)
_one_input(
    "repeat",
    [
        ("2d", (2, 3), {"sizes": (2, 1)}, lambda x, sizes: np.tile(x, sizes), _SOME),
        ("new-dims", (2,), {"sizes": (3, 2)}, lambda x, sizes: np.tile(x, sizes), (F64,)),
        ("zero", (2, 3), {"sizes": (0, 2)}, lambda x, sizes: np.tile(x, sizes), (F64,)),
    ],
)
for _op, _fn in (("tril", np.tril), ("triu", np.triu)):
    _one_input(
        _op,
        [
            ("diag0", (4, 5), {"diagonal": 0}, lambda x, diagonal, _fn=_fn: _fn(x, diagonal), _SOME),
            ("above", (3, 4), {"diagonal": 1}, lambda x, diagonal, _fn=_fn: _fn(x, diagonal), (F64,)),
            ("below", (2, 3, 3), {"diagonal": -1}, lambda x, diagonal, _fn=_fn: _fn(x, diagonal), (F64,)),
        ],
        errors=[("1d", (3,), {"diagonal": 0}, "at least 2 dimensions")],
    )


_one_input(
    "diff",
    [
        ("first", (3, 5), {"n": 1, "dim": 1}, lambda x, n, dim: np.diff(x, n=n, axis=dim), _SOME),
        ("second-dim0", (4, 3), {"n": 2, "dim": 0}, lambda x, n, dim: np.diff(x, n=n, axis=dim), (F64,)),
        ("past-the-size", (2, 3), {"n": 4, "dim": 1}, lambda x, n, dim: np.diff(x, n=n, axis=dim), (F64,)),
    ],
    errors=[("negative-order", (3,), {"n": -1, "dim": 0}, "diff: order must be non-negative")],
)


@register_samples("stack")
def _stack_samples():
    def ref(*tensors, dim):
        return np.stack(tensors, axis=dim)

    for dtype in _SOME:
        pieces = tuple(Input(_data((2, 3), dtype, key=("stack", i))) for i in range(3))
        yield Sample(pieces, {"dim": 1}, ref, dtype, name="three")
    yield Sample((Input(values(())), Input(values(()))), {"dim": 0}, ref, F64, name="0d")
    yield Sample((Input(values((2, 3)), layout="transposed"), Input(values((2, 3)))), {"dim": 2}, ref, F64, name="last")
    yield ErrorSample(
        (Input(values((2,))), Input(values((3,)))), {"dim": 0}, RuntimeError, "equal size", name="unequal"
    )
