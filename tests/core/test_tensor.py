"""The Tensor's attributes, conversions, casts and `.to()`, `__repr__`, and in-place ops."""

import numpy as np
import pytest

import somegrad as sg


def test_metadata_attributes():
    x = sg.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert x.dtype is sg.float32 and x.device == sg.device("cpu") and x.device == "cpu"
    assert x.element_size() == 4 and x.nbytes == 96 and x.is_floating_point()
    assert x.is_leaf and x.grad_fn is None and x.grad is None and not x.requires_grad
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(sg.tensor(1.0))


@pytest.mark.parametrize(
    "method, dtype",
    [
        ("float", sg.float32),
        ("double", sg.float64),
        ("half", sg.float16),
        ("bfloat16", sg.bfloat16),
        ("long", sg.int64),
        ("int", sg.int32),
        ("short", sg.int16),
        ("bool", sg.bool),
        ("byte", sg.uint8),
    ],
)
def test_cast_methods(method, dtype):
    x = sg.tensor([-1.7, 0.0, 2.5])
    out = getattr(x, method)()
    assert out.dtype is dtype
    np.testing.assert_array_equal(out.numpy(), x.numpy().astype(out.numpy().dtype))


def test_to_dtype_device_and_tensor():
    x = sg.tensor([1.5, 2.5])
    assert x.to(sg.float64).dtype is sg.float64
    assert x.to("cpu") is x and x.to(sg.float32) is x
    assert x.to(dtype=sg.int64).tolist() == [1, 2]
    assert x.to(sg.zeros(1, dtype=sg.float16)).dtype is sg.float16
    assert x.to(sg.float32, copy=True) is not x
    assert x.type(sg.float64).dtype is sg.float64 and x.type() is sg.float32
    assert x.type_as(sg.zeros(1, dtype=sg.int16)).dtype is sg.int16
    with pytest.raises(TypeError, match="to: expected a dtype, a device or a tensor"):
        x.to(3)


def test_float_casts_are_differentiable_and_int_casts_are_not():
    x = sg.tensor([1.5], requires_grad=True)
    assert x.double().requires_grad and not x.long().requires_grad


def test_python_conversions():
    assert sg.tensor([[2.5]]).item() == 2.5 and isinstance(sg.tensor(3).item(), int)
    assert isinstance(sg.tensor(True).item(), bool)
    assert sg.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]] and sg.tensor(1.5).tolist() == 1.5
    assert float(sg.tensor(2.5)) == 2.5 and int(sg.tensor(7)) == 7 and bool(sg.tensor([1]))
    assert [10, 20, 30][sg.tensor(1)] == 20
    with pytest.raises(RuntimeError, match="item: a Tensor with 2 elements cannot be converted"):
        sg.tensor([1, 2]).item()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with 2 elements is ambiguous"):
        bool(sg.tensor([1, 2]))
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][sg.tensor(1.0)]


def test_numpy_and_array_protocol():
    x = sg.tensor([[1.0, 2.0]])
    array = x.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    array[0, 0] = 9  # CPU tensors share memory with .numpy()
    assert x[0, 0].item() == 9
    assert np.asarray(x).shape == (1, 2) and np.array(x, dtype=np.float64).dtype == np.float64
    assert sg.tensor([1.0], dtype=sg.bfloat16).numpy().dtype.name == "bfloat16"
    with pytest.raises(RuntimeError, match="numpy: can't call numpy\\(\\) on a tensor that requires grad"):
        sg.tensor([1.0], requires_grad=True).numpy()
    assert (np.float64(2.0) * sg.tensor([1.0])).__class__ is sg.Tensor


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: sg.tensor([1.5, 2.0]), "tensor([1.5000, 2.0000])"),
        (lambda: sg.tensor([1.0, 2.0]), "tensor([1., 2.])"),
        (lambda: sg.tensor(3.25), "tensor(3.2500)"),
        (lambda: sg.tensor([1, 2]), "tensor([1, 2])"),
        (lambda: sg.tensor([1, 2], dtype=sg.int32), "tensor([1, 2], dtype=somegrad.int32)"),
        (lambda: sg.tensor([True, False]), "tensor([ True, False])"),
        (
            lambda: sg.tensor([[0.123456, 2.0], [3.0, 4.0]], dtype=sg.float64),
            "tensor([[0.1235, 2.0000],\n        [3.0000, 4.0000]], dtype=somegrad.float64)",
        ),
        (lambda: sg.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
        (lambda: sg.tensor([1.5, 100.0]), "tensor([  1.5000, 100.0000])"),
        (lambda: sg.tensor([1.5, float("nan")]), "tensor([1.5000,    nan])"),
        (lambda: sg.zeros(0), "tensor([])"),
        (lambda: sg.zeros(2, 0), "tensor([], size=(2, 0))"),
        (lambda: sg.zeros(0, dtype=sg.int64), "tensor([], dtype=somegrad.int64)"),
        (lambda: sg.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
        (lambda: sg.tensor([1.0], requires_grad=True) * 2, "tensor([2.], grad_fn=<MulBackward0>)"),
        (lambda: sg.tensor([1.5], dtype=sg.bfloat16), "tensor([1.5000], dtype=somegrad.bfloat16)"),
    ],
)
def test_repr_like_pytorch(make, expected):
    assert repr(make()) == expected


@pytest.mark.parity
def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda m: m.tensor([1.5, 2.0]),
        lambda m: m.tensor([[-1.0, 10.0], [3.0, 4.0]]),
        lambda m: m.tensor([1e10, 1.0]),
        lambda m: m.tensor([1.0, float("nan"), float("inf")]),
        lambda m: m.tensor([True]),
        lambda m: m.tensor([[1, 2], [3, 4]], dtype=m.int16),
        lambda m: m.tensor([0.25], dtype=m.float16),
        lambda m: m.zeros(3, 0, dtype=m.float64),
        lambda m: m.arange(12.0).reshape(3, 4) / 7,
        lambda m: m.tensor(-0.5),
    ]
    for case in cases:
        assert repr(case(sg)).replace("somegrad.", "torch.") == repr(case(torch))


def test_in_place_ops_write_memory_and_bump_version():
    x = sg.tensor([1.0, 2.0, 3.0])
    array = x.numpy()
    for op, expected in [
        (lambda t: t.add_(1), [2, 3, 4]),
        (lambda t: t.sub_(sg.tensor([1.0, 1.0, 1.0])), [1, 2, 3]),
        (lambda t: t.mul_(2), [2, 4, 6]),
        (lambda t: t.div_(2), [1, 2, 3]),
        (lambda t: t.pow_(2), [1, 4, 9]),
        (lambda t: t.sqrt_(), [1, 2, 3]),
        (lambda t: t.neg_(), [-1, -2, -3]),
        (lambda t: t.abs_(), [1, 2, 3]),
        (lambda t: t.clamp_(2, 2.5), [2, 2, 2.5]),
        (lambda t: t.fill_(7), [7, 7, 7]),
        (lambda t: t.copy_(sg.tensor([1, 2, 3])), [1, 2, 3]),
        (lambda t: t.copy_(sg.tensor(5.0)), [5, 5, 5]),
        (lambda t: t.masked_fill_(sg.tensor([True, False, False]), 0.0), [0, 5, 5]),
        (lambda t: t.addcmul_(sg.tensor([1.0, 2.0, 3.0]), sg.tensor([2.0, 2.0, 2.0]), value=0.5), [1, 7, 8]),
        (lambda t: t.zero_(), [0, 0, 0]),
    ]:
        version = x._version
        assert op(x) is x
        assert x.tolist() == expected and array.tolist() == expected
        assert x._version == version + 1


def test_augmented_assignment_is_in_place():
    x = sg.tensor([1.0, 2.0])
    alias = x
    x += 1
    x *= sg.tensor([2.0, 3.0])
    x -= 1
    x /= 2
    assert x is alias and x.tolist() == [1.5, 4.0]


def test_in_place_keeps_dtype_and_refuses_lossy_category_changes():
    x = sg.tensor([1, 2], dtype=sg.int32)
    x.add_(1)
    assert x.dtype is sg.int32 and x.tolist() == [2, 3]
    with pytest.raises(TypeError, match="add_: result type float32 can't be cast to the desired output type int32"):
        x.add_(1.5)
    with pytest.raises(
        RuntimeError, match=r"add_: output with shape \(2,\) doesn't match the broadcast shape \(3, 2\)"
    ):
        x.add_(sg.zeros(3, 2, dtype=sg.int32))


def test_normal_and_uniform_fill_in_place():
    sg.manual_seed(0)
    x = sg.zeros(1000)
    x.uniform_(2.0, 3.0)
    assert 2.0 <= x.min().item() and x.max().item() < 3.0
    x.normal_(5.0, 0.1)
    assert 4.9 < x.mean().item() < 5.1


def test_equal_and_comparisons_with_other_types():
    assert sg.equal(sg.tensor([1, 2]), sg.tensor([1, 2])) and not sg.equal(sg.tensor([1]), sg.tensor([1, 1]))
    assert (sg.tensor([1.0]) == "a") is False
    assert (sg.tensor([True]) & sg.tensor([False])).tolist() == [False]
    assert (sg.tensor([6]) & sg.tensor([3])).tolist() == [2]  # bitwise on integers, as in PyTorch
    with pytest.raises(TypeError, match="bitwise_and: not implemented for float32"):
        sg.tensor([1.0]) & sg.tensor([1.0])


def test_tensors_are_not_constructible_or_picklable_directly():
    import pickle

    with pytest.raises(TypeError, match="use somegrad.tensor"):
        sg.Tensor([1.0])
    with pytest.raises(TypeError, match="somegrad.save"):
        pickle.dumps(sg.tensor([1.0]))
