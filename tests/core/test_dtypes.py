"""Type promotion (tensor/tensor, 0-d tensors, Python scalars) and the default dtype."""

import numpy as np
import pytest

import somegrad as sg
from somegrad import dtypes

ORDER = [sg.bool, sg.uint8, sg.int8, sg.int16, sg.int32, sg.int64, sg.float16, sg.bfloat16, sg.float32, sg.float64]
SHORT = {
    "b": sg.bool,
    "u1": sg.uint8,
    "i1": sg.int8,
    "i2": sg.int16,
    "i4": sg.int32,
    "i8": sg.int64,
    "f2": sg.float16,
    "bf": sg.bfloat16,
    "f4": sg.float32,
    "f8": sg.float64,
}

# PyTorch's promotion table (torch.promote_types), written out by hand; rows and columns in ORDER.
PROMOTION_TABLE = """
b  u1 i1 i2 i4 i8 f2 bf f4 f8
u1 u1 i2 i2 i4 i8 f2 bf f4 f8
i1 i2 i1 i2 i4 i8 f2 bf f4 f8
i2 i2 i2 i2 i4 i8 f2 bf f4 f8
i4 i4 i4 i4 i4 i8 f2 bf f4 f8
i8 i8 i8 i8 i8 i8 f2 bf f4 f8
f2 f2 f2 f2 f2 f2 f2 f4 f4 f8
bf bf bf bf bf bf f4 bf f4 f8
f4 f4 f4 f4 f4 f4 f4 f4 f4 f8
f8 f8 f8 f8 f8 f8 f8 f8 f8 f8
"""
EXPECTED = {
    (a, b): SHORT[cell]
    for a, row in zip(ORDER, PROMOTION_TABLE.split("\n")[1:-1])
    for b, cell in zip(ORDER, row.split())
}


@pytest.mark.parametrize("a", ORDER, ids=lambda d: d.name)
@pytest.mark.parametrize("b", ORDER, ids=lambda d: d.name)
def test_promote_types_matches_pytorch_table(a, b):
    assert sg.promote_types(a, b) is EXPECTED[(a, b)]


def _t(dtype, ndim=1):
    return sg.zeros(*([2] * ndim), dtype=dtype)


@pytest.mark.parametrize(
    "operands, expected",
    [
        # dimensioned tensors outrank 0-d tensors of the same category
        ((_t(sg.int8), _t(sg.int64, 0)), sg.int8),
        ((_t(sg.float16), _t(sg.float64, 0)), sg.float16),
        ((_t(sg.uint8), _t(sg.int8, 0)), sg.uint8),
        # ...unless the 0-d tensor brings a higher category
        ((_t(sg.int8), _t(sg.float64, 0)), sg.float64),
        ((_t(sg.int32), _t(sg.float16, 0)), sg.float16),
        ((_t(sg.bool), _t(sg.int8, 0)), sg.int8),
        # two 0-d tensors promote normally
        ((_t(sg.int8, 0), _t(sg.int64, 0)), sg.int64),
        # Python scalars
        ((_t(sg.int32), 2.5), sg.float32),
        ((_t(sg.float16), 2.5), sg.float16),
        ((_t(sg.int8), 1000), sg.int8),
        ((_t(sg.uint8), True), sg.uint8),
        ((_t(sg.bool), 1), sg.int64),
        ((_t(sg.bool), 1.5), sg.float32),
        ((_t(sg.bool), False), sg.bool),
        ((_t(sg.int64, 0), 2.5), sg.float32),
        ((_t(sg.float64, 0), 2), sg.float64),
        ((_t(sg.int16, 0), 2), sg.int16),
        ((_t(sg.bfloat16), 1e10), sg.bfloat16),
        # a 0-d tensor outranks a scalar, both below a dimensioned tensor
        ((_t(sg.int8), _t(sg.int32, 0), 2.5), sg.float32),
        ((_t(sg.int8), _t(sg.float16, 0), 2.5), sg.float16),
        ((2, 3.0), sg.float32),
        ((True, 2), sg.int64),
    ],
)
def test_result_type_with_zero_dim_tensors_and_scalars(operands, expected):
    assert sg.result_type(*operands) is expected


def test_result_type_of_float_scalar_follows_default_dtype():
    sg.set_default_dtype(sg.float64)
    assert sg.result_type(_t(sg.int32), 2.5) is sg.float64
    assert sg.result_type(_t(sg.float16), 2.5) is sg.float16


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: sg.tensor([1, 2], dtype=sg.int32) + 2.5, sg.float32),
        (lambda: sg.tensor([1, 2], dtype=sg.int8) + 1000, sg.int8),
        (lambda: sg.tensor([1, 2], dtype=sg.uint8) + sg.tensor([1, 2], dtype=sg.int8), sg.int16),
        (lambda: sg.tensor([1.0], dtype=sg.float16) + sg.tensor([1.0], dtype=sg.bfloat16), sg.float32),
        (lambda: sg.tensor([1.0], dtype=sg.float16) * sg.tensor(3.0, dtype=sg.float64), sg.float16),
        (lambda: sg.tensor([True, False]) + sg.tensor([True, True]), sg.bool),
        (lambda: sg.tensor([1, 2]) / 2, sg.float32),
        (lambda: sg.tensor([1, 2], dtype=sg.int32) / sg.tensor([2], dtype=sg.int32), sg.float32),
        (lambda: 2.5 * sg.tensor([1, 2]), sg.float32),
        (lambda: sg.tensor([1, 2]) ** 2, sg.int64),
        (lambda: sg.tensor([1, 2], dtype=sg.int32).exp(), sg.float32),
        (lambda: sg.tensor([1, 2]).sum(), sg.int64),
        (lambda: sg.tensor([True, True]).sum(), sg.int64),
        (lambda: sg.tensor([1, 2], dtype=sg.int16) == 1.5, sg.bool),
        (lambda: sg.where(sg.tensor([True]), sg.tensor([1], dtype=sg.int32), 2.5), sg.float32),
        (lambda: sg.cat([sg.tensor([1], dtype=sg.int32), sg.tensor([1.0], dtype=sg.float64)]), sg.float64),
    ],
)
def test_ops_apply_promotion(make, expected):
    assert make().dtype is expected


def test_mixed_dtype_values_are_computed_in_the_promoted_dtype():
    out = sg.tensor([200], dtype=sg.uint8) + sg.tensor([100], dtype=sg.int8)
    assert out.dtype is sg.int16 and out.tolist() == [300]
    assert (sg.tensor([3], dtype=sg.int32) + 0.5).tolist() == [3.5]


def test_default_dtype_is_float32_and_can_be_changed():
    assert sg.get_default_dtype() is sg.float32
    assert sg.tensor([1.0]).dtype is sg.float32
    sg.set_default_dtype(sg.float64)
    assert sg.get_default_dtype() is sg.float64
    assert sg.tensor([1.0]).dtype is sg.float64
    assert sg.zeros(2).dtype is sg.float64
    assert sg.arange(0.0, 1.0, 0.5).dtype is sg.float64
    assert sg.rand(2).dtype is sg.float64
    assert sg.tensor([1]).dtype is sg.int64  # ints are unaffected
    assert (sg.tensor([1]) / 2).dtype is sg.float64


@pytest.mark.parametrize("bad", [sg.int64, sg.bool, "float64", np.float64])
def test_set_default_dtype_rejects_non_float_dtypes(bad):
    with pytest.raises(TypeError, match="floating point"):
        sg.set_default_dtype(bad)
    assert sg.get_default_dtype() is sg.float32


def test_dtype_attributes_and_aliases():
    assert sg.float is sg.float32 and sg.double is sg.float64 and sg.half is sg.float16
    assert sg.long is sg.int64 and sg.int is sg.int32 and sg.short is sg.int16
    assert [d.itemsize for d in ORDER] == [1, 1, 1, 2, 4, 8, 2, 2, 4, 8]
    assert [d.is_floating_point for d in ORDER] == [False] * 6 + [True] * 4
    assert not sg.uint8.is_signed and sg.int8.is_signed
    assert repr(sg.float32) == "somegrad.float32"
    assert dtypes.from_name("long") is sg.int64
    with pytest.raises(TypeError, match="unknown dtype 'float8'"):
        dtypes.from_name("float8")


def test_dtypes_pickle_to_the_same_object():
    import pickle

    for d in ORDER:
        assert pickle.loads(pickle.dumps(d)) is d


@pytest.mark.parity
def test_result_type_matches_torch_for_all_pairs_and_scalars():
    torch = pytest.importorskip("torch")
    to_torch = {d: getattr(torch, d.name) for d in ORDER}
    mismatches = []
    for a in ORDER:
        for scalar in (True, 3, -2, 2.5):
            got = sg.result_type(_t(a), scalar)
            want = torch.result_type(torch.zeros(2, dtype=to_torch[a]), scalar)
            if to_torch[got] != want:
                mismatches.append((a.name, scalar, got.name, str(want)))
        for b in ORDER:
            for nd_a, nd_b in ((1, 1), (1, 0), (0, 1), (0, 0)):
                got = sg.result_type(_t(a, nd_a), _t(b, nd_b))
                want = torch.result_type(
                    torch.zeros([2] * nd_a, dtype=to_torch[a]), torch.zeros([2] * nd_b, dtype=to_torch[b])
                )
                if to_torch[got] != want:
                    mismatches.append((a.name, nd_a, b.name, nd_b, got.name, str(want)))
    assert not mismatches


@pytest.mark.parity
def test_ops_dtype_matches_torch_for_mixed_operands():
    torch = pytest.importorskip("torch")
    for a in ORDER:
        for b in ORDER:
            if a is sg.bool and b is sg.bool:
                continue
            x = sg.ones(2, dtype=a) + sg.ones(2, dtype=b)
            y = torch.ones(2, dtype=getattr(torch, a.name)) + torch.ones(2, dtype=getattr(torch, b.name))
            assert getattr(torch, x.dtype.name) == y.dtype, (a, b)


def test_default_dtype_is_process_wide_like_pytorch():
    import threading

    sg.set_default_dtype(sg.float64)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(sg.zeros(1).dtype))
    thread.start()
    thread.join()
    assert seen == [sg.float64]
