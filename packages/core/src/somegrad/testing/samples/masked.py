"""Samples for `somegrad.ops.masked`: masked_select, masked_scatter, take_along_dim."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ALL, ErrorSample, Input, Sample, register_samples, values

F32, F64, I64, BOOL = dtypes.float32, dtypes.float64, dtypes.int64, dtypes.bool_


def _sg():
    import somegrad

    return somegrad


def _data(shape, dtype, key=None):
    if dtype is BOOL:
        return values(shape, key=key) > 0
    if not dtype.is_floating_point:
        return values(shape, 1, 5, integer=True, key=key)
    return values(shape, key=key)


@register_samples("masked_select")
def _masked_select_samples():
    def ref(x, mask):
        shape = np.broadcast_shapes(x.shape, mask.shape)
        return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]

    x = values((3, 4), key="masked_select")
    mask = values((3, 4), key="masked_select-mask") > 0
    for dtype in ALL:
        yield Sample((Input(_data((3, 4), dtype)), Input(mask, BOOL)), {}, ref, dtype, name="dtype")
    yield Sample((Input(x), Input(mask[0], BOOL)), {}, ref, F64, name="bcast-mask")
    yield Sample((Input(x[:, :1]), Input(mask, BOOL)), {}, ref, F64, name="bcast-input")
    yield Sample((Input(x), Input(np.zeros((3, 4), bool), BOOL)), {}, ref, F64, name="none")
    yield Sample((Input(np.array(1.5)), Input(np.array(True), BOOL)), {}, lambda x, m: x.reshape(1), F64, name="0d")
    yield Sample((Input(values((3, 4)), layout="transposed"), Input(mask, BOOL)), {}, ref, F64, name="transposed")
    yield ErrorSample(
        (Input(x), Input(mask.astype(np.int64), I64)),
        {},
        RuntimeError,
        "expected a bool tensor",
        name="int-mask",
        call=lambda t, m: t.masked_select(m),
    )
    yield ErrorSample(
        (Input(x), Input(mask[:, :3], BOOL)),
        {},
        RuntimeError,
        "broadcast",
        name="bad-mask",
        call=lambda t, m: t.masked_select(m),
    )


@register_samples("masked_scatter")
def _masked_scatter_samples():
    def ref(x, mask, source):
        shape = np.broadcast_shapes(x.shape, mask.shape)
        out = np.array(np.broadcast_to(x, shape))
        full = np.broadcast_to(mask, shape)
        out[full] = source.reshape(-1)[: int(full.sum())]
        return out

    x = values((3, 4), key="masked_scatter")
    mask = values((3, 4), key="masked_scatter-mask") > 0
    source = values((4, 4), key="masked_scatter-source")
    for dtype in ALL:
        yield Sample(
            (Input(_data((3, 4), dtype)), Input(mask, BOOL), Input(_data((3, 4), dtype, key="src"))),
            {},
            ref,
            dtype,
            name="dtype",
        )
    yield Sample((Input(x), Input(mask, BOOL), Input(source)), {}, ref, F64, name="larger-source")
    yield Sample((Input(x), Input(mask[1], BOOL), Input(source)), {}, ref, F64, name="bcast-mask")
    yield Sample((Input(x[0]), Input(mask, BOOL), Input(source)), {}, ref, F64, name="bcast-input")
    yield Sample((Input(x), Input(np.zeros((3, 4), bool), BOOL), Input(np.zeros(0))), {}, ref, F64, name="none")
    yield Sample(
        (Input(values((3, 4)), layout="transposed"), Input(mask, BOOL), Input(source, layout="stepped")),
        {},
        ref,
        F64,
        name="non-contiguous",
    )
    yield Sample(
        (Input(np.array(1.0)), Input(np.array(True), BOOL), Input(np.array([2.5]))),
        {},
        lambda x, m, s: s.reshape(()),
        F64,
        name="0d",
    )
    yield ErrorSample(
        (Input(x), Input(mask, BOOL), Input(np.zeros(2))),
        {},
        RuntimeError,
        "less than the number of true elements",
        name="short-source",
        call=lambda t, m, s: t.masked_scatter(m, s),
    )
    yield ErrorSample(
        (Input(x), Input(mask.astype(np.int64), I64), Input(source)),
        {},
        RuntimeError,
        "only supports boolean masks",
        name="int-mask",
        call=lambda t, m, s: t.masked_scatter(m, s),
    )
    yield ErrorSample(
        (Input(x), Input(mask, BOOL), Input(source, F32)),
        {},
        RuntimeError,
        "the same dtype",
        dtype=F64,
        name="dtype-mismatch",
        call=lambda t, m, s: t.masked_scatter(m, s),
    )


@register_samples("take_along_dim")
def _take_along_dim_samples():
    def ref(x, indices, dim):
        if dim is None:
            return x.reshape(-1)[indices.reshape(-1)]
        return np.take_along_axis(x, indices, axis=dim)

    x = values((3, 4), key="take_along_dim")
    indices = np.array([[0, 3], [1, 1], [3, 0]])
    for dtype in ALL:
        yield Sample((Input(_data((3, 4), dtype)), Input(indices, I64)), {"dim": 1}, ref, dtype, name="dtype")
    yield Sample((Input(x), Input(np.array([[2, 0, 1, 1]]), I64)), {"dim": 0}, ref, F64, name="dim0")
    yield Sample((Input(x), Input(np.array([[0, 3]]), I64)), {"dim": 1}, ref, F64, name="bcast-indices")
    yield Sample((Input(x[:1]), Input(indices, I64)), {"dim": 1}, ref, F64, name="bcast-input")
    yield Sample((Input(x), Input(np.array([[0, 11], [5, 5]]), I64)), {"dim": None}, ref, F64, name="flat")
    yield Sample((Input(x), Input(np.zeros((3, 0)), I64)), {"dim": 1}, ref, F64, name="size0")
    yield Sample(
        (Input(values((3, 4)), layout="transposed"), Input(indices, I64)), {"dim": 1}, ref, F64, name="transposed"
    )
    yield Sample(
        (Input(x), Input(indices, I64)),
        {},
        lambda x, i: np.take_along_axis(x, i, axis=1),
        F64,
        name="negative-dim",
        call=lambda t, i: t.take_along_dim(i, dim=-1),
    )
    yield ErrorSample(
        (Input(x), Input(indices, dtypes.int32)),
        {},
        RuntimeError,
        "dtype of indices should be int64",
        name="int32",
        call=lambda t, i: _sg().take_along_dim(t, i, 1),
    )
    yield ErrorSample(
        (Input(x), Input(np.array([0, 1]), I64)),
        {},
        RuntimeError,
        "same number of dimensions",
        name="bad-rank",
        call=lambda t, i: _sg().take_along_dim(t, i, 1),
    )
