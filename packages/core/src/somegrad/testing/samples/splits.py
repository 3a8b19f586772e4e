"""Samples for `somegrad.ops.splits`: unbind, tensor_split, hsplit, vsplit, dsplit, meshgrid, the
atleast_nd views and the stacks (hstack, vstack, dstack, column_stack).

The ops with several outputs are checked one output at a time: each sample's call picks one
piece of the public function's result."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, register_samples, values
from somegrad.testing.samples.layout import SOME, data

F32, F64 = dtypes.float32, dtypes.float64


def _sg():
    import somegrad

    return somegrad


def _pieces(op, cases, errors=()):
    """Register `cases`: (name, shape, call, reference, pieces) where `call(sg, t)` and
    `reference(x)` return the pieces; one sample per piece, the first case in every dtype;
    `errors`: (name, shapes, call, error, match)."""

    @register_samples(op)
    def samples():
        for i, (name, shape, call, reference, count) in enumerate(cases):
            for dtype in SOME if i == 0 else (F64,):
                for piece in range(count):
                    yield Sample(
                        (Input(data(shape, dtype, key=(op, name))),),
                        {},
                        lambda x, reference=reference, piece=piece: reference(x)[piece],
                        dtype,
                        name=f"{name}-{piece}",
                        call=lambda t, call=call, piece=piece: call(_sg(), t)[piece],
                    )
            if len(shape) >= 2:
                yield Sample(
                    (Input(values(shape, key=(op, name)), layout="transposed"),),
                    {},
                    lambda x, reference=reference: reference(x)[-1],
                    F64,
                    name=f"{name}-transposed",
                    call=lambda t, call=call: call(_sg(), t)[-1],
                )
        for name, shapes, call, error, match in errors:
            inputs = tuple(Input(values(s)) for s in shapes)
            yield ErrorSample(inputs, {}, error, match, name=name, call=lambda *t, call=call: call(_sg(), *t))

    return samples


_pieces(
    "unbind",
    [
        ("dim0", (3, 4), lambda sg, t: sg.unbind(t), lambda x: list(x), 3),
        ("dim1", (2, 3, 4), lambda sg, t: t.unbind(1), lambda x: [x[:, i] for i in range(3)], 3),
        ("negative", (2, 3), lambda sg, t: sg.unbind(t, -1), lambda x: [x[:, i] for i in range(3)], 3),
    ],
    [("0d", [()], lambda sg, t: sg.unbind(t), IndexError, "tensor has no dimensions")],
)
_pieces(
    "tensor_split",
    [
        ("sections", (7, 2), lambda sg, t: sg.tensor_split(t, 3), lambda x: np.array_split(x, 3), 3),
        ("more-sections", (2, 3), lambda sg, t: t.tensor_split(5, 1), lambda x: np.array_split(x, 5, axis=1), 5),
        ("indices", (2, 6), lambda sg, t: sg.tensor_split(t, [1, 4], dim=-1), lambda x: np.split(x, [1, 4], axis=1), 3),
        ("wrapping", (6,), lambda sg, t: sg.tensor_split(t, [4, -5, 9]), lambda x: [x[:4], x[4:-5], x[-5:9], x[9:]], 4),
    ],
    [
        ("0d", [()], lambda sg, t: sg.tensor_split(t, 2), RuntimeError, "at least a 1-dimensional tensor"),
        ("zero", [(4,)], lambda sg, t: sg.tensor_split(t, 0), RuntimeError, "number of sections must be larger than 0"),
    ],
)
_pieces(
    "hsplit",
    [
        ("sections", (3, 4), lambda sg, t: sg.hsplit(t, 2), lambda x: np.hsplit(x, 2), 2),
        ("1d", (6,), lambda sg, t: t.hsplit([1, 5]), lambda x: np.hsplit(x, [1, 5]), 3),
    ],
    [
        ("indivisible", [(2, 3)], lambda sg, t: sg.hsplit(t, 2), RuntimeError, "is not divisible by the split_size 2"),
        ("0d", [()], lambda sg, t: sg.hsplit(t, 1), RuntimeError, "requires a tensor with at least 1 dimension"),
    ],
)
_pieces(
    "vsplit",
    [("sections", (4, 3), lambda sg, t: sg.vsplit(t, 2), lambda x: np.vsplit(x, 2), 2)],
    [("1d", [(4,)], lambda sg, t: sg.vsplit(t, 1), RuntimeError, "requires a tensor with at least 2 dimension")],
)
_pieces(
    "dsplit",
    [("indices", (2, 2, 6), lambda sg, t: t.dsplit([2, 3]), lambda x: np.dsplit(x, [2, 3]), 3)],
    [("2d", [(2, 3)], lambda sg, t: sg.dsplit(t, 1), RuntimeError, "requires a tensor with at least 3 dimension")],
)


@register_samples("meshgrid")
def _meshgrid_samples():
    def pick(indexing, k):
        return lambda *arrays: np.meshgrid(*arrays, indexing=indexing)[k]

    for indexing in ("ij", "xy"):
        for dtype in SOME if indexing == "ij" else (F64,):
            pieces = (Input(data((3,), dtype, key="a")), Input(data((4,), dtype, key="b")))
            for k in range(2):
                yield Sample(
                    pieces,
                    {},
                    pick(indexing, k),
                    dtype,
                    name=f"{indexing}-{k}",
                    call=lambda *t, indexing=indexing, k=k: _sg().meshgrid(*t, indexing=indexing)[k],
                )
        three = tuple(Input(values((n,), key=("three", n))) for n in (2, 3, 4))
        yield Sample(
            three,
            {},
            pick(indexing, 2),
            F64,
            name=f"three-{indexing}",
            call=lambda *t, indexing=indexing: _sg().meshgrid(list(t), indexing=indexing)[2],
        )
    yield Sample(
        (Input(values(())), Input(values((3,)))),
        {"indexing": "xy"},
        lambda a, b, indexing: np.meshgrid(a, b, indexing=indexing)[0],
        F64,
        name="0d",
        call=lambda a, b: _sg().meshgrid(a, b, indexing="xy")[0],
    )
    yield ErrorSample(
        (Input(values((2, 3))), Input(values((3,)))),
        {"indexing": "ij"},
        RuntimeError,
        "expected 0D or 1D tensor",
        name="2d",
        call=lambda a, b: _sg().meshgrid(a, b, indexing="ij"),
    )
    yield ErrorSample(
        (Input(values((3,))),),
        {"indexing": "yx"},
        RuntimeError,
        'indexing must be one of "xy" or "ij"',
        name="indexing",
        call=lambda a: _sg().meshgrid(a, indexing="yx"),
    )


def _views(op, reference):
    @register_samples(op)
    def samples():
        for dtype in SOME:
            yield Sample((Input(data((3,), dtype, key=op)),), {}, reference, dtype, name="1d")
        for shape in ((), (2, 3), (2, 3, 4), (1, 2, 3, 4)):
            yield Sample((Input(values(shape, key=op)),), {}, reference, F64, name=f"{len(shape)}d")
        yield Sample((Input(values((3, 2)), layout="transposed"),), {}, reference, F64, name="transposed")

    return samples


_views("atleast_1d", np.atleast_1d)
_views("atleast_2d", np.atleast_2d)
_views("atleast_3d", np.atleast_3d)


def _joins(op, reference, cases, errors):
    """`cases`: (name, shapes); the first in every dtype; `errors`: (name, shapes, match)."""

    @register_samples(op)
    def samples():
        def ref(*arrays):
            return reference(arrays)

        for i, (name, shapes) in enumerate(cases):
            for dtype in SOME if i == 0 else (F64,):
                inputs = tuple(Input(data(s, dtype, key=(op, name, k))) for k, s in enumerate(shapes))
                yield Sample(inputs, {}, ref, dtype, name=name)
        yield Sample(
            tuple(Input(values(s, key=(op, k)), layout="transposed") for k, s in enumerate(cases[0][1])),
            {},
            ref,
            F64,
            name="transposed",
        )
        yield Sample(
            (Input(values(cases[0][1][0])), Input(values(cases[0][1][1], -3, 3, integer=True), dtype=dtypes.int64)),
            {},
            ref,
            F64,
            name="promotes",
        )
        for name, shapes, match in errors:
            yield ErrorSample(tuple(Input(values(s)) for s in shapes), {}, RuntimeError, match, name=name)

    return samples


_joins(
    "hstack",
    np.hstack,
    [("2d", [(2, 3), (2, 1)]), ("1d", [(2,), (3,)]), ("0d", [(), ()]), ("one", [(2, 3)])],
    [("rows", [(2, 3), (3, 3)], "sizes of tensors must match except in dimension 1")],
)
_joins(
    "vstack",
    np.vstack,
    [("2d", [(2, 3), (1, 3)]), ("1d", [(3,), (3,)]), ("mixed", [(3,), (2, 3)])],
    [("columns", [(2, 3), (2, 4)], "sizes of tensors must match except in dimension 0")],
)
_joins(
    "dstack",
    np.dstack,
    [("2d", [(2, 3), (2, 3)]), ("1d", [(3,), (3,)]), ("3d", [(2, 2, 1), (2, 2, 3)])],
    [("rows", [(2, 3), (3, 3)], "sizes of tensors must match except in dimension 2")],
)
_joins(
    "column_stack",
    np.column_stack,
    [("mixed", [(4,), (4, 2)]), ("0d", [(), ()]), ("three", [(3,), (3, 2), (3,)])],
    [("rows", [(3,), (4,)], "sizes of tensors must match except in dimension 1")],
)
