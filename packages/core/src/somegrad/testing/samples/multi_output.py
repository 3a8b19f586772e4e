"""Samples for the ops with several outputs: `sort`, `topk`, `max` and `min` along a dim
(values and indices), `split` and `chunk` (one tensor per piece).

The suite checks one tensor at a time, so each sample's call picks one output of the public
function: the values (whose gradient reaches the selected positions) or the indices, or one
piece. Values are distinct where gradients are checked, so that no tie makes the selection
ambiguous; ties get their own samples for the indices (the first occurrence, as PyTorch)."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    FLOATS,
    INTEGERS,
    ErrorSample,
    Input,
    Sample,
    distinct,
    register_samples,
    values,
)

F32, F64, I64 = dtypes.float32, dtypes.float64, dtypes.int64
_TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, -1.0, 2.0, 2.0], [-5.0, -5.0, -5.0, -5.0]])


def _sg():
    import somegrad

    return somegrad


def _pick(call, output):
    def picked(*tensors):
        return call(*tensors)[output]

    return picked


def _sorted_reference(x, dim, descending, output):
    data = -x.astype(np.float64) if descending else x
    order = np.argsort(data, axis=dim, kind="stable")
    return order if output == 1 else np.take_along_axis(x, order, axis=dim)


@register_samples("sort")
def _sort_samples():
    x = distinct((3, 4), key="sort")
    for dtype in (F32, F64, *FLOATS[2:], *INTEGERS):
        data = x if dtype.is_floating_point else values((3, 4), 0, 9, integer=True, key="sort")
        for descending in (False, True):
            for output, out_dtype in ((0, dtype), (1, I64)):
                yield Sample(
                    (Input(data),),
                    {},
                    lambda x, d=descending, o=output: _sorted_reference(x, 1, d, o),
                    dtype,
                    out_dtype,
                    name=f"desc{descending}-{'values' if output == 0 else 'indices'}",
                    call=_pick(lambda t, d=descending: _sg().sort(t, 1, descending=d), output),
                    grad=output == 0 and dtype.is_floating_point,
                )
    yield Sample(
        (Input(_TIES),),
        {},
        lambda x: _sorted_reference(x, -1, False, 1),
        F64,
        I64,
        name="ties-indices",
        call=_pick(lambda t: _sg().sort(t), 1),
    )
    yield Sample(
        (Input(distinct((4, 3), key="sort-t"), layout="transposed"),),
        {},
        lambda x: _sorted_reference(x, 0, False, 0),
        F64,
        name="dim0-transposed",
        call=_pick(lambda t: _sg().sort(t, 0), 0),
    )
    yield Sample((Input(np.array(2.5)),), {}, lambda x: x, F64, name="0d", call=_pick(lambda t: _sg().sort(t), 0))


def _topk_reference(x, k, dim, largest, output):
    order = np.argsort(-x.astype(np.float64) if largest else x, axis=dim, kind="stable")
    order = np.take(order, np.arange(k), axis=dim)
    return order if output == 1 else np.take_along_axis(x, order, axis=dim)


@register_samples("topk")
def _topk_samples():
    x = distinct((3, 5), key="topk")
    for dtype in (F32, F64, dtypes.int32):
        data = x if dtype.is_floating_point else values((3, 5), -9, 9, integer=True, key="topk")
        for largest in (True, False):
            for output, out_dtype in ((0, dtype), (1, I64)):
                yield Sample(
                    (Input(data),),
                    {},
                    lambda x, lg=largest, o=output: _topk_reference(x, 2, 1, lg, o),
                    dtype,
                    out_dtype,
                    name=f"k2-largest{largest}-{'values' if output == 0 else 'indices'}",
                    call=_pick(lambda t, lg=largest: _sg().topk(t, 2, largest=lg), output),
                    grad=output == 0 and dtype.is_floating_point,
                )
    yield Sample(
        (Input(distinct((4, 3), key="topk0")),),
        {},
        lambda x: _topk_reference(x, 3, 0, True, 0),
        F64,
        name="dim0-k3",
        call=_pick(lambda t: _sg().topk(t, 3, dim=0), 0),
    )
    yield Sample(
        (Input(distinct((2, 3), key="topk-k0")),),
        {},
        lambda x: np.zeros((2, 0)),
        F64,
        name="k0",
        call=_pick(lambda t: _sg().topk(t, 0), 0),
        grad=False,
    )
    yield ErrorSample(
        (Input(values((2, 3))),), {}, RuntimeError, "topk: k (4) is out of range", call=lambda t: _sg().topk(t, 4)
    )
    yield ErrorSample(
        (Input(np.array([True, False])),),
        {},
        NotImplementedError,
        "topk: not implemented for bool",
        dtype=dtypes.bool_,
        call=lambda t: _sg().topk(t, 1),
        name="bool",
    )


def _extremum_reference(np_arg, dim, keepdim, output):
    def reference(x):
        index = np.expand_dims(np_arg(x, axis=dim), dim)
        out = index if output == 1 else np.take_along_axis(x, index, axis=dim)
        return out if keepdim else np.squeeze(out, dim)

    return reference


def _extremum_samples(name, np_arg):
    x = distinct((3, 4), key=name)
    for dtype in (F32, F64, *FLOATS[2:], dtypes.int64, dtypes.uint8):
        data = x if dtype.is_floating_point else values((3, 4), 0, 9, integer=True, key=name)
        for dim in (1, -2):
            for keepdim in (False, True):
                for output, out_dtype in ((0, dtype), (1, I64)):
                    yield Sample(
                        (Input(data),),
                        {},
                        _extremum_reference(np_arg, dim, keepdim, output),
                        dtype,
                        out_dtype,
                        name=f"dim{dim}-keep{keepdim}-{'values' if output == 0 else 'indices'}",
                        call=_pick(lambda t, d=dim, k=keepdim: getattr(_sg(), name)(t, d, keepdim=k), output),
                        grad=output == 0 and dtype.is_floating_point,
                    )
    # Ties: the first occurrence's index, as PyTorch on the CPU.
    yield Sample(
        (Input(_TIES),),
        {},
        _extremum_reference(np_arg, 1, False, 1),
        F64,
        I64,
        name="ties-indices",
        call=_pick(lambda t: getattr(_sg(), name)(t, 1), 1),
    )
    yield Sample(
        (Input(np.zeros((0, 3))),),
        {},
        lambda x: np.zeros((0,)),
        F64,
        name="empty-rows",
        call=_pick(lambda t: getattr(_sg(), name)(t, 1), 0),
        grad=False,
    )
    yield ErrorSample(
        (Input(np.zeros((2, 0))),),
        {},
        IndexError,
        f"{name}: expected reduction dim 1 to have non-zero size",
        call=lambda t: getattr(_sg(), name)(t, 1),
        name="empty-dim",
    )


register_samples("max")(lambda: _extremum_samples("max", np.argmax))
register_samples("min")(lambda: _extremum_samples("min", np.argmin))


def _piece_reference(sizes, dim, piece):
    def reference(x):
        bounds = np.cumsum([0, *sizes])
        return np.take(x, np.arange(bounds[piece], bounds[piece + 1]), axis=dim)

    return reference


@register_samples("split")
def _split_samples():
    x = values((5, 4), key="split")
    for dtype in (F32, F64, dtypes.int64, dtypes.bool_):
        data = x if dtype.is_floating_point else values((5, 4), 0, 1, integer=True, key="split")
        for piece in range(3):
            yield Sample(
                (Input(data),),
                {},
                _piece_reference((2, 2, 1), 0, piece),
                dtype,
                name=f"size2-piece{piece}",
                call=_pick(lambda t: _sg().split(t, 2), piece),
                grad=dtype.is_floating_point,
            )
    for piece in range(2):
        yield Sample(
            (Input(x, layout="transposed"),),
            {},
            _piece_reference((1, 3), 1, piece),
            F64,
            name=f"sections-dim1-piece{piece}",
            call=_pick(lambda t: _sg().split(t, [1, 3], dim=1), piece),
        )
    yield ErrorSample(
        (Input(x),), {}, RuntimeError, "split: sizes [2, 2] do not add up to 5", call=lambda t: _sg().split(t, [2, 2])
    )
    yield ErrorSample(
        (Input(x),),
        {},
        RuntimeError,
        "split: split_size must be positive, got 0",
        call=lambda t: _sg().split(t, 0),
        name="zero-size",
    )


@register_samples("chunk")
def _chunk_samples():
    x = values((3, 7), key="chunk")
    for dtype in (F32, F64, dtypes.int32):
        data = x if dtype.is_floating_point else values((3, 7), -5, 5, integer=True, key="chunk")
        for piece in range(3):
            yield Sample(
                (Input(data),),
                {},
                _piece_reference((3, 3, 1), 1, piece),
                dtype,
                name=f"chunks3-piece{piece}",
                call=_pick(lambda t: _sg().chunk(t, 3, dim=-1), piece),
                grad=dtype.is_floating_point,
            )
    yield ErrorSample(
        (Input(x),),
        {},
        RuntimeError,
        "chunk: chunks must be a positive int, got 0",
        call=lambda t: _sg().chunk(t, 0),
    )
