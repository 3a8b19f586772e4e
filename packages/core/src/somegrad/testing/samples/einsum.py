"""Samples for `somegrad.ops.einsum`, against NumPy's einsum: contractions, diagonals, sums,
ellipses, implicit outputs, broadcasting, several operands, and PyTorch's errors."""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import FLOATS, ErrorSample, Input, Sample, register_samples, values

F32, F64 = dtypes.float32, dtypes.float64


def _reference(*arrays, equation):
    if equation == "...i->i":  # NumPy's einsum refuses to sum an ellipsis away; PyTorch's does
        return arrays[0].reshape(-1, arrays[0].shape[-1]).sum(0)
    return np.einsum(equation, *arrays)


# (name, equation, shapes)
_CASES = [
    ("matmul", "ij,jk->ik", [(3, 4), (4, 2)]),
    ("batched", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("implicit", "ba,cb", [(2, 3), (4, 2)]),
    ("trace", "ii", [(4, 4)]),
    ("diagonal", "ii->i", [(3, 3)]),
    ("batch-diagonal", "bii->bi", [(2, 3, 3)]),
    ("triple", "iii->i", [(3, 3, 3)]),
    ("sum", "ij->", [(3, 4)]),
    ("sum-rows", "ij->j", [(3, 4)]),
    ("transpose", "ij->ji", [(3, 4)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("dot", "i,i->", [(5,), (5,)]),
    ("hadamard", "ij,ij->ij", [(3, 4), (3, 4)]),
    ("broadcast-size1", "ij,ij->ij", [(1, 4), (3, 4)]),
    ("contract-size1", "ij,jk->ik", [(3, 1), (4, 2)]),
    ("ellipsis", "...ij->...ji", [(2, 3, 4, 5)]),
    ("ellipsis-matmul", "...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("ellipsis-broadcast", "...j,...j->...", [(4, 1, 3), (2, 3)]),
    ("ellipsis-middle", "i...j->j...i", [(2, 3, 4, 5)]),
    ("ellipsis-summed", "...i->i", [(2, 3, 4)]),
    ("attention", "bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bilinear", "bi,oij,bj->bo", [(3, 4), (2, 4, 5), (3, 5)]),
    ("chain", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("four", "ab,bc,cd,da->", [(2, 3), (3, 4), (4, 2), (2, 2)]),
    ("uppercase", "iJ,Jk->ik", [(2, 3), (3, 4)]),
    ("scalar", "i,->i", [(4,), ()]),
    ("diagonal-and-contract", "iij,jk->ik", [(3, 3, 4), (4, 2)]),
    ("size0", "ij,jk->ik", [(2, 0), (0, 3)]),
    ("size0-kept", "ij,jk->ijk", [(0, 2), (2, 3)]),
]


@register_samples("einsum")
def _einsum_samples():
    for name, equation, shapes in _CASES:
        inputs = tuple(Input(values(s, key=(name, i))) for i, s in enumerate(shapes))
        yield Sample(inputs, {"equation": equation}, _reference, F64, name=name)
    for dtype in FLOATS + (dtypes.int64, dtypes.int32):
        integer = not dtype.is_floating_point
        inputs = tuple(
            Input(values(s, -3, 3, integer=integer, key=("dtype", i))) for i, s in enumerate([(2, 3, 4), (2, 4, 5)])
        )
        yield Sample(
            inputs, {"equation": "bij,bjk->bik"}, _reference, dtype, name="dtype", rtol=1e-5 if dtype is F32 else None
        )
    yield Sample(
        (Input(values((4, 3)), layout="transposed"), Input(values((4, 2)), layout="stepped")),
        {"equation": "ji,jk->ik"},
        _reference,
        F64,
        name="non-contiguous",
    )
    yield Sample(
        (Input(values((2, 3), key="s0")), Input(values((3, 4), key="s1"))),
        {},
        lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        F64,
        name="sublist",
        call=lambda a, b: _sg().einsum(a, [0, 1], b, [1, 2], [0, 2]),
    )
    yield Sample(
        (Input(values((2, 3), key="l0")), Input(values((3, 4), key="l1"))),
        {},
        lambda a, b: np.einsum("ij,jk", a, b),
        F64,
        name="list",
        call=lambda a, b: _sg().einsum(" i j , j k ", [a, b]),
    )
    for name, equation, shapes, match in _ERRORS:
        inputs = tuple(Input(values(s)) for s in shapes)
        yield ErrorSample(inputs, {"equation": equation}, RuntimeError, match, name=name)
    yield ErrorSample(
        (Input(values((2, 3))), Input(values((3, 2)), dtype=F32)),
        {"equation": "ij,jk"},
        RuntimeError,
        "expected operands of one dtype",
        F64,
        name="dtypes",
    )


def _sg():
    import somegrad

    return somegrad


_ERRORS = [
    ("fewer", "ij,jk", [(2, 3)], "fewer operands were provided than specified in the equation"),
    ("more", "ij", [(2, 3), (2, 3)], "more operands were provided than specified in the equation"),
    ("subscripts", "ijk", [(2, 3)], "the number of subscripts in the equation (3) does not match"),
    ("subscripts-ellipsis", "ijk...", [(2, 3)], "is more than the number of dimensions (2) for operand 0"),
    ("sizes", "ij,ij->", [(2, 3), (3, 3)], "subscript i has size 3 for operand 1 which does not broadcast"),
    ("output-repeated", "ij->ii", [(2, 3)], "output subscript i appears more than once in the output"),
    ("output-unknown", "ij->k", [(2, 3)], "output subscript k does not appear in the equation"),
    ("bad-subscript", "i1->", [(2, 3)], "invalid subscript given at index 1 in the equation string"),
    ("two-arrows", "i->i->i", [(3,)], "invalid subscript given at index 4"),
    ("two-ellipses", "......i->i", [(3,)], "for which an ellipsis was already found"),
    ("diagonal-sizes", "ii->i", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match, 2 != 3"),
]
