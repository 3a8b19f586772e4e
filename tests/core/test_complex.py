"""Complex tensors, Tensor.view(dtype) and somegrad.fft on the NumPy backend: dtypes and
promotion, creation, views, gradients (against finite differences of real losses), printing,
refusals. PyTorch itself is compared in tests/parity/test_complex.py and test_fft.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gradient_checks import check_gradients

import somegrad as sg
from somegrad import dtypes
from somegrad.errors import UnsupportedDTypeError

C64, C128 = dtypes.complex64, dtypes.complex128


# --- dtypes ------------------------------------------------------------------------------------
def test_complex_dtypes_and_their_parts():
    assert (C64.itemsize, C128.itemsize) == (8, 16)
    assert C64.is_complex and not sg.float32.is_complex
    assert dtypes.to_real(C64) is sg.float32 and dtypes.to_real(C128) is sg.float64
    assert dtypes.to_complex(sg.float64) is C128 and dtypes.to_complex(sg.float16) is C64
    assert dtypes.from_name("cfloat") is C64 and dtypes.from_name("cdouble") is C128
    assert C64.category > sg.float64.category
    with pytest.raises(TypeError):
        dtypes.to_complex(sg.int64)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (sg.float32, C64, C64),
        (sg.float64, C64, C128),
        (sg.float32, C128, C128),
        (sg.float16, C64, C64),
        (sg.int64, C64, C64),
        (sg.bool, C128, C128),
        (C64, C128, C128),
    ],
)
def test_promotion_table(a, b, expected):
    assert dtypes.promote_types(a, b) is expected
    assert dtypes.promote_types(b, a) is expected


def test_python_complex_scalars_promote_as_pytorch():
    assert (sg.ones(2) * 1j).dtype is C64
    assert (sg.ones(2, dtype=sg.float64) + 1j).dtype is C128
    assert (sg.arange(3) * 2j).dtype is C64  # the default complex dtype
    # a floating tensor keeps its precision when a 0-d complex128 lifts it
    assert (sg.ones(2) + sg.tensor(1j, dtype=C128)).dtype is C64
    assert (sg.arange(2) + sg.tensor(1j, dtype=C128)).dtype is C128
    sg.set_default_dtype(sg.float64)
    assert dtypes.get_default_complex_dtype() is C128
    assert sg.tensor([1j]).dtype is C128
    with pytest.raises(TypeError):
        sg.set_default_dtype(C64)


def test_value_fits_and_python_numbers():
    assert dtypes.python_number(np.complex64(1j)) == 1j
    assert dtypes.value_fits(1 + 0j, sg.float32) and not dtypes.value_fits(1 + 1j, sg.float32)
    assert dtypes.value_fits(1e30 + 1j, C64) and not dtypes.value_fits(1e40 + 1j, C64)


# --- creation and conversion ------------------------------------------------------------------------
def test_creation_from_python_and_numpy():
    z = sg.tensor([[1 + 2j, 3], [0, -1j]])
    assert z.dtype is C64 and z.shape == (2, 2)
    np.testing.assert_array_equal(z.numpy(), np.array([[1 + 2j, 3], [0, -1j]], dtype=np.complex64))
    assert sg.tensor(np.array([1j], dtype=np.complex128)).dtype is C128
    assert sg.from_numpy(np.array([1j], dtype=np.complex64)).dtype is C64
    assert sg.tensor(np.complex64(2 - 1j)).item() == 2 - 1j
    assert sg.tensor(1 + 2j).item() == 1 + 2j and isinstance(sg.tensor(1j).item(), complex)
    assert sg.tensor([1j, 2]).tolist() == [1j, 2 + 0j]
    assert complex(sg.tensor(3j)) == 3j
    assert sg.full((2,), 1 - 1j).dtype is C64
    assert sg.zeros(2, dtype=C128).numpy().dtype == np.complex128
    assert sg.tensor([1 + 0j], dtype=sg.float32).tolist() == [1.0]


def test_complex_numbers_with_an_imaginary_part_fit_no_real_dtype():
    with pytest.raises(RuntimeError, match="without overflow"):
        sg.tensor([1 + 1j], dtype=sg.float32)
    with pytest.raises(RuntimeError, match="without overflow"):
        sg.full((2,), 1j, dtype=sg.float64)


def test_to_real_takes_the_real_part_with_pytorchs_warning():
    z = sg.tensor([1 + 2j, -3 + 0.5j])
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        assert z.to(sg.float32).tolist() == [1.0, -3.0]
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        assert z.to(sg.float64).dtype is sg.float64
    assert sg.tensor([1.0, 2.0]).to(C128).tolist() == [1 + 0j, 2 + 0j]


def test_is_complex_and_is_floating_point():
    z = sg.tensor([1j])
    assert z.is_complex() and not z.is_floating_point()
    assert sg.ones(1).is_floating_point() and not sg.ones(1).is_complex()
    assert not z.is_conj() and z.resolve_conj() is z


def test_a_backend_without_complex_gives_a_clear_error(monkeypatch):
    backend = sg.get_backend("numpy")
    monkeypatch.setattr(backend, "dtypes", tuple(d for d in backend.dtypes if not d.is_complex))
    with pytest.raises(UnsupportedDTypeError, match="does not support dtype complex64"):
        sg.tensor([1j])
    with pytest.raises(UnsupportedDTypeError, match="complex128"):
        sg.zeros(2, dtype=C128)


def test_printing():
    assert repr(sg.tensor([1 + 2j, 3j])) == "tensor([1.+2.j, 0.+3.j], dtype=somegrad.complex64)"
    assert repr(sg.tensor([1.5 - 0.25j], dtype=C128)) == "tensor([1.5000-0.2500j], dtype=somegrad.complex128)"
    assert "grad_fn" in repr(sg.complex(sg.ones(2, requires_grad=True), sg.zeros(2)))


# --- views ----------------------------------------------------------------------------------------
def test_real_imag_and_view_as_real_share_memory():
    z = sg.tensor([1 + 2j, 3 - 4j])
    assert z.real.tolist() == [1.0, 3.0] and z.imag.tolist() == [2.0, -4.0]
    pairs = sg.view_as_real(z)
    assert pairs.shape == (2, 2) and pairs.dtype is sg.float32
    assert np.shares_memory(pairs.numpy(), z.numpy()) and np.shares_memory(z.real.numpy(), z.numpy())
    assert pairs._version_counter is z._version_counter
    back = sg.view_as_complex(pairs)
    assert np.shares_memory(back.numpy(), z.numpy()) and back.tolist() == z.tolist()
    assert sg.ones(3).real.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="non-complex"):
        sg.ones(3).imag
    with pytest.raises(RuntimeError, match="accepts only complex64, complex128"):
        sg.view_as_real(sg.ones(3))


def test_view_as_complex_layout_errors():
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        sg.view_as_complex(sg.ones(3, 3))
    with pytest.raises(RuntimeError, match="stride 1"):
        sg.view_as_complex(sg.ones(2, 2).mT)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        sg.view_as_complex(sg.ones(3, 5)[:, :2])


def test_view_dtype_shapes_and_memory():
    x = sg.arange(12.0).reshape(3, 4)
    bits = x.view(sg.int32)
    assert bits.shape == (3, 4) and bits.dtype is sg.int32
    np.testing.assert_array_equal(bits.numpy(), x.numpy().view(np.int32))
    assert x.view(sg.int16).shape == (3, 8) and x.view(sg.float64).shape == (3, 2) and x.view(C64).shape == (3, 2)
    assert np.shares_memory(bits.numpy(), x.numpy()) and bits._version_counter is x._version_counter
    bits[0, 0] = 1065353216  # the bits of 1.0
    assert x[0, 0].item() == 1.0
    assert x[:, ::2].view(sg.int32).shape == (3, 2)  # equal sizes: any layout
    assert sg.tensor(1.0).view(sg.int32).item() == 1065353216
    assert sg.zeros(0, 4).view(sg.float64).shape == (0, 2)


def test_view_dtype_needs_no_grad_and_errors_as_pytorch():
    x = sg.ones(2, 4, requires_grad=True)
    assert not x.view(sg.int32).requires_grad and not x.view(sg.float32).requires_grad
    with pytest.raises(RuntimeError, match=r"self.size\(-1\) must be divisible by 2"):
        sg.ones(3, 3).view(sg.float64)
    with pytest.raises(RuntimeError, match=r"self.stride\(-1\) must be 1"):
        sg.ones(4, 4).mT.view(sg.float64)
    with pytest.raises(RuntimeError, match="cannot be 0"):
        sg.tensor(1.0).view(sg.float64)
    with pytest.raises(RuntimeError, match=r"self.stride\(0\) must be divisible by 2"):
        sg.ones(4, 5)[:, :4].view(sg.float64)


# --- gradients: dL/dx + i dL/dy for a real loss L of z = x + iy ----------------------------------
def _z(a, b):
    return sg.complex(a, b)


@pytest.mark.parametrize(
    "name, fn",
    [
        ("mul", lambda a, b, c, d: sg.view_as_real(_z(a, b) * _z(c, d))),
        ("div", lambda a, b, c, d: sg.view_as_real(_z(a, b) / _z(c + 3, d))),
        ("exp-sub", lambda a, b, c, d: sg.view_as_real((_z(a, b) - _z(c, d)).exp())),
        ("log-sqrt", lambda a, b, c, d: sg.view_as_real(_z(a + 3, b).log() + _z(c + 3, d).sqrt())),
        ("sin-cos-tanh", lambda a, b, c, d: sg.view_as_real(_z(a, b).sin() * _z(c, d).cos() + _z(a, d).tanh())),
        ("pow", lambda a, b, c, d: sg.view_as_real(_z(a + 3, b) ** 2 + _z(c + 3, d) ** _z(a, b))),
        ("abs-angle", lambda a, b, c, d: _z(a, b).abs() * _z(c, d).angle()),
        ("conj-sgn", lambda a, b, c, d: sg.view_as_real(_z(a, b).conj() * _z(c, d).sgn())),
        ("polar", lambda a, b, c, d: sg.view_as_real(sg.polar(a + 3, b) * c)),
        ("sum-index", lambda a, b, c, d: sg.view_as_real(_z(a, b)[1:].sum(0) * _z(c, d)[0])),
        ("real-times-complex", lambda a, b, c, d: sg.view_as_real(a * _z(c, d) + 2j * b)),
        ("view-as-complex", lambda a, b, c, d: sg.view_as_complex(sg.stack([a, b], dim=-1)).abs() * c),
    ],
)
def test_gradients_of_real_losses_match_finite_differences(name, fn):
    rng = np.random.default_rng(len(name))
    arrays = [rng.uniform(-1, 1, (3, 4)) for _ in range(4)]
    check_gradients(fn, *arrays)


def test_mul_backward_is_grad_times_conj():
    z = sg.tensor([1 + 2j, -0.5 + 1j], requires_grad=True)
    w = sg.tensor([3 - 1j, 2 + 2j])
    (z * w).abs().sum().backward()
    product = z.detach().numpy() * w.numpy()
    np.testing.assert_allclose(z.grad.numpy(), product / np.abs(product) * np.conj(w.numpy()), rtol=1e-6)
    assert z.grad.dtype is C64


def test_abs_and_angle_gradients_are_zero_at_zero():
    z = sg.tensor([0j, 1 + 1j], requires_grad=True)
    (z.abs() + z.angle()).sum().backward()
    assert z.grad.tolist()[0] == 0j and np.isfinite(z.grad.numpy()).all()


def test_a_real_input_gets_a_real_gradient_without_a_warning():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * (1 + 2j)).abs().sum().backward()
    assert x.grad.dtype is sg.float32
    np.testing.assert_allclose(x.grad.numpy(), [np.sqrt(5)] * 2, rtol=1e-6)


def test_complex_leaves_and_parameters():
    z = sg.tensor([1j]).requires_grad_()
    (z * z).real.sum().backward()
    assert z.grad.tolist() == [-2j]  # d(x^2 - y^2): 2x - 2iy at 0 + 1i


def test_ops_refuse_complex_where_their_declaration_does():
    z = sg.tensor([1 + 1j])
    for call in (
        lambda: z.sign(),
        lambda: z.floor(),
        lambda: sg.maximum(z, z),
        lambda: z.clamp(0, 1),
        lambda: z.erf(),
        lambda: sg.atan2(z, z),
    ):
        with pytest.raises(RuntimeError, match="complex64"):
            call()
    with pytest.raises(RuntimeError, match="accepts only float32, float64"):
        sg.complex(sg.ones(2, dtype=sg.float16), sg.ones(2, dtype=sg.float16))
    with pytest.raises(RuntimeError, match="the same dtype"):
        sg.complex(sg.ones(2), sg.ones(2, dtype=sg.float64))


# --- somegrad.fft ----------------------------------------------------------------------------------
def test_fft_values_against_numpy():
    x = np.random.default_rng(0).uniform(-1, 1, (3, 8))
    t = sg.tensor(x, dtype=sg.float64)
    np.testing.assert_allclose(sg.fft.rfft(t).numpy(), np.fft.rfft(x), atol=1e-12)
    np.testing.assert_allclose(sg.fft.fft(t, n=5, dim=0).numpy(), np.fft.fft(x, n=5, axis=0), atol=1e-12)
    np.testing.assert_allclose(sg.fft.irfft(sg.fft.rfft(t), n=8).numpy(), x, atol=1e-12)
    np.testing.assert_allclose(sg.fft.fft2(t).numpy(), np.fft.fft2(x), atol=1e-12)
    np.testing.assert_allclose(sg.fft.ifftn(t, norm="ortho").numpy(), np.fft.ifftn(x, norm="ortho"), atol=1e-12)
    np.testing.assert_allclose(sg.fft.hfft(sg.fft.ihfft(t), n=8).numpy(), x, atol=1e-12)
    np.testing.assert_allclose(sg.fft.fftshift(t).numpy(), np.fft.fftshift(x))
    np.testing.assert_allclose(sg.fft.ifftshift(t, dim=1).numpy(), np.fft.ifftshift(x, axes=1))
    np.testing.assert_allclose(sg.fft.fftfreq(7, 0.5).numpy(), np.fft.fftfreq(7, 0.5), rtol=1e-6)
    np.testing.assert_allclose(sg.fft.rfftfreq(8).numpy(), np.fft.rfftfreq(8), rtol=1e-6)


def test_fft_dtypes():
    assert sg.fft.rfft(sg.ones(4)).dtype is C64
    assert sg.fft.fft(sg.arange(4)).dtype is C64  # integers become the default float first
    assert sg.fft.irfft(sg.fft.rfft(sg.ones(4, dtype=sg.float64))).dtype is sg.float64
    assert sg.fft.fftfreq(4).dtype is sg.float32 and sg.fft.fftfreq(4, dtype=sg.float64).dtype is sg.float64


@pytest.mark.parametrize(
    "name, fn",
    [
        ("rfft-abs", lambda x: sg.fft.rfft(x).abs()),
        ("rfft-n", lambda x: sg.view_as_real(sg.fft.rfft(x, n=7, norm="ortho"))),
        ("irfft-rfft", lambda x: sg.fft.irfft(sg.fft.rfft(x) * sg.fft.rfft(x), n=8)),
        ("irfft-odd", lambda x: sg.fft.irfft(sg.fft.fft(x)[:, :4], n=7, norm="forward")),
        ("fft-ifft", lambda x: sg.view_as_real(sg.fft.ifft(sg.fft.fft(x, dim=0) * 1j, n=5))),
        ("rfftn-irfftn", lambda x: sg.fft.irfftn(sg.fft.rfftn(x) ** 2, s=(3, 8))),
        ("hfft", lambda x: sg.fft.hfft(sg.fft.fft(x), n=6)),
        ("shift", lambda x: sg.fft.fftshift(x, dim=(0, 1)) * x),
    ],
)
def test_fft_gradients_match_finite_differences(name, fn):
    check_gradients(fn, np.random.default_rng(1).uniform(-1, 1, (3, 8)))


def test_fft_errors():
    with pytest.raises(RuntimeError, match="expects a real input"):
        sg.fft.rfft(sg.tensor([1j, 2]))
    with pytest.raises(RuntimeError, match=r"invalid number of data points \(0\)"):
        sg.fft.fft(sg.ones(4), n=0)
    with pytest.raises(RuntimeError, match="invalid number of data points"):
        sg.fft.irfft(sg.tensor([1j]))
    with pytest.raises(RuntimeError, match="must be unique"):
        sg.fft.fftn(sg.ones(2, 2), dim=(1, 1))
    with pytest.raises(RuntimeError, match="same length"):
        sg.fft.fftn(sg.ones(2, 2), s=(2,), dim=(0, 1))
    with pytest.raises(ValueError, match="invalid normalization"):
        sg.fft.fft(sg.ones(2), norm="sideways")
    with pytest.raises(RuntimeError, match="float16"):
        sg.fft.fft(sg.ones(2, dtype=sg.float16))
    with pytest.raises(IndexError):
        sg.fft.fft(sg.ones(2), dim=1)


def test_fft_namespace():
    assert sg.fft.__name__ == "somegrad.fft"
    assert not hasattr(sg, "rfft") and not hasattr(sg, "fftfreq")  # torch.fft's, not torch's
    for name in sg.fft.__all__:
        assert callable(getattr(sg.fft, name))


def test_complex_on_a_backend_without_it_is_refused_clearly(monkeypatch):
    backend = sg.get_backend("numpy")
    x = sg.ones(2)
    monkeypatch.setattr(backend, "dtypes", tuple(d for d in backend.dtypes if not d.is_complex))
    with pytest.raises(UnsupportedDTypeError, match="complex64"):
        x.to(C64)
    with pytest.raises(UnsupportedDTypeError, match="complex64"):
        x * 3.125j  # a number no other test uses: operands made of numbers are cached


def test_view_dtype_as_a_keyword():
    assert sg.ones(2, 2).view(dtype=sg.int32).dtype is sg.int32


def test_in_place_ops_keep_the_dtype():
    z = sg.tensor([1 + 1j, 2])
    z.mul_(1j)
    assert z.tolist() == [-1 + 1j, 2j]
    with pytest.raises(RuntimeError, match="can't be cast"):
        sg.ones(2).mul_(1j)
    with pytest.raises(RuntimeError, match="in-place abs is not supported for complex"):
        z.abs_()
    x = sg.tensor([-1.0, 2.0])
    assert x.abs_() is x and x.tolist() == [1.0, 2.0]
