"""somegrad.fft against torch.fft: values and the gradients of real losses, float64 and float32.

Complex results end in their real and imaginary parts (`parts`), whose gradients the harness
compares; complex inputs are made inside the call with `lib.complex(a, b)`.
"""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity


def parts(z):
    # resolve_neg: PyTorch's imag of a conjugate is a lazy negation, which .numpy() refuses
    return z.real.resolve_neg(), z.imag.resolve_neg()


def z(lib, a, b):
    return lib.complex(a, b)


F32 = dict(rtol=1e-4, atol=1e-4)  # sums of a few dozen terms in float32
W = np.linspace(0.5, 1.5, 15).reshape(3, 5)

CASES = [
    # rfft / irfft: the losses of the task, and the sizes that pad, cut and double
    Case("rfft-abs-sum", lambda lib, x: lib.fft.rfft(x).abs().sum(), [(4, 8)]),
    Case("rfft-parts", lambda lib, x: parts(lib.fft.rfft(x)), [(3, 8)]),
    Case("rfft-odd", lambda lib, x: parts(lib.fft.rfft(x)), [(3, 7)]),
    Case("rfft-n-pad", lambda lib, x: parts(lib.fft.rfft(x, n=11)), [(3, 8)]),
    Case("rfft-n-cut", lambda lib, x: parts(lib.fft.rfft(x, n=5)), [(3, 8)]),
    Case("rfft-dim0", lambda lib, x: parts(lib.fft.rfft(x, dim=0)), [(6, 3)]),
    Case("rfft-ortho", lambda lib, x: parts(lib.fft.rfft(x, norm="ortho")), [(3, 8)]),
    Case("rfft-forward", lambda lib, x: parts(lib.fft.rfft(x, norm="forward")), [(3, 8)]),
    Case("rfft-1d", lambda lib, x: parts(lib.fft.rfft(x)), [(6,)]),
    Case("irfft-rfft-w", lambda lib, x, w: lib.fft.irfft(lib.fft.rfft(x) * w, n=8), [(3, 8), W]),
    Case("irfft-rfft-w-odd", lambda lib, x, w: lib.fft.irfft(lib.fft.rfft(x) * w, n=9), [(3, 9), W]),
    Case("irfft-complex", lambda lib, a, b: lib.fft.irfft(z(lib, a, b)), [(3, 5), (3, 5)]),
    Case("irfft-complex-odd-n", lambda lib, a, b: lib.fft.irfft(z(lib, a, b), n=9), [(3, 5), (3, 5)]),
    Case("irfft-n-pad", lambda lib, a, b: lib.fft.irfft(z(lib, a, b), n=14), [(3, 5), (3, 5)]),
    Case("irfft-n-cut", lambda lib, a, b: lib.fft.irfft(z(lib, a, b), n=4), [(3, 5), (3, 5)]),
    Case("irfft-ortho", lambda lib, a, b: lib.fft.irfft(z(lib, a, b), norm="ortho"), [(3, 5), (3, 5)]),
    Case("irfft-forward", lambda lib, a, b: lib.fft.irfft(z(lib, a, b), norm="forward"), [(3, 5), (3, 5)]),
    Case("irfft-dim0", lambda lib, a, b: lib.fft.irfft(z(lib, a, b), dim=0), [(4, 3), (4, 3)]),
    Case("irfft-real-input", lambda lib, x: lib.fft.irfft(x), [(3, 5)]),
    Case("irfft-squared-loss", lambda lib, x: (lib.fft.irfft(lib.fft.rfft(x) * 1j) ** 2).sum(), [(2, 6)]),
    # fft / ifft of real and complex signals
    Case("fft-real", lambda lib, x: parts(lib.fft.fft(x)), [(3, 8)]),
    Case("fft-complex", lambda lib, a, b: parts(lib.fft.fft(z(lib, a, b))), [(3, 8), (3, 8)]),
    Case("fft-n-pad", lambda lib, a, b: parts(lib.fft.fft(z(lib, a, b), n=10)), [(3, 8), (3, 8)]),
    Case("fft-n-cut", lambda lib, x: parts(lib.fft.fft(x, n=5, dim=0)), [(8, 3)]),
    Case("fft-ortho", lambda lib, a, b: parts(lib.fft.fft(z(lib, a, b), norm="ortho")), [(3, 8), (3, 8)]),
    Case("fft-forward", lambda lib, a, b: parts(lib.fft.fft(z(lib, a, b), norm="forward")), [(3, 8), (3, 8)]),
    Case("ifft-complex", lambda lib, a, b: parts(lib.fft.ifft(z(lib, a, b))), [(3, 8), (3, 8)]),
    Case("ifft-real", lambda lib, x: parts(lib.fft.ifft(x)), [(3, 8)]),
    Case("ifft-ortho-n", lambda lib, a, b: parts(lib.fft.ifft(z(lib, a, b), n=6, norm="ortho")), [(3, 8), (3, 8)]),
    Case("ifft-forward", lambda lib, a, b: parts(lib.fft.ifft(z(lib, a, b), norm="forward")), [(3, 8), (3, 8)]),
    Case("fft-ifft-roundtrip", lambda lib, x: lib.fft.ifft(lib.fft.fft(x)).real, [(3, 8)]),
    Case("fft-abs-square", lambda lib, x: lib.fft.fft(x).abs().square().sum(dim=-1), [(3, 8)]),
    Case("fft-negative-dim", lambda lib, x: parts(lib.fft.fft(x, dim=-2)), [(4, 3, 2)]),
    # hfft / ihfft
    Case("hfft", lambda lib, a, b: lib.fft.hfft(z(lib, a, b)), [(3, 5), (3, 5)]),
    Case("hfft-n", lambda lib, a, b: lib.fft.hfft(z(lib, a, b), n=7, norm="ortho"), [(3, 5), (3, 5)]),
    Case("ihfft", lambda lib, x: parts(lib.fft.ihfft(x)), [(3, 8)]),
    Case("ihfft-forward", lambda lib, x: parts(lib.fft.ihfft(x, n=7, norm="forward")), [(3, 8)]),
    Case("hfft2", lambda lib, a, b: lib.fft.hfft2(z(lib, a, b)), [(2, 4, 4), (2, 4, 4)]),
    Case("hfftn-s", lambda lib, a, b: lib.fft.hfftn(z(lib, a, b), s=(3, 5), norm="ortho"), [(2, 4, 4), (2, 4, 4)]),
    Case("ihfft2", lambda lib, x: parts(lib.fft.ihfft2(x)), [(2, 4, 6)]),
    Case("ihfftn-dim", lambda lib, x: parts(lib.fft.ihfftn(x, dim=(0, 2), norm="forward")), [(2, 3, 4)]),
    # the 2-d and n-d forms
    Case("fft2", lambda lib, a, b: parts(lib.fft.fft2(z(lib, a, b))), [(2, 4, 6), (2, 4, 6)]),
    Case("fft2-real-s", lambda lib, x: parts(lib.fft.fft2(x, s=(3, 8))), [(2, 4, 6)]),
    Case("ifft2", lambda lib, a, b: parts(lib.fft.ifft2(z(lib, a, b), norm="ortho")), [(2, 4, 6), (2, 4, 6)]),
    Case("rfft2", lambda lib, x: parts(lib.fft.rfft2(x)), [(2, 4, 6)]),
    Case("rfft2-abs", lambda lib, x: lib.fft.rfft2(x).abs().sum(), [(4, 5)]),
    Case("irfft2", lambda lib, a, b: lib.fft.irfft2(z(lib, a, b)), [(2, 4, 4), (2, 4, 4)]),
    Case("irfft2-s", lambda lib, a, b: lib.fft.irfft2(z(lib, a, b), s=(5, 7)), [(2, 4, 4), (2, 4, 4)]),
    Case("fftn", lambda lib, a, b: parts(lib.fft.fftn(z(lib, a, b))), [(2, 3, 4), (2, 3, 4)]),
    Case("fftn-s-dim", lambda lib, x: parts(lib.fft.fftn(x, s=(5, 3), dim=(2, 0))), [(2, 3, 4)]),
    Case("fftn-s", lambda lib, x: parts(lib.fft.fftn(x, s=(2, 6))), [(2, 3, 4)]),
    Case("ifftn", lambda lib, a, b: parts(lib.fft.ifftn(z(lib, a, b), dim=(0, 2))), [(2, 3, 4), (2, 3, 4)]),
    Case("rfftn", lambda lib, x: parts(lib.fft.rfftn(x)), [(2, 3, 4)]),
    Case("rfftn-dim", lambda lib, x: parts(lib.fft.rfftn(x, dim=(2, 0), norm="ortho")), [(2, 3, 4)]),
    Case("irfftn", lambda lib, a, b: lib.fft.irfftn(z(lib, a, b)), [(2, 3, 4), (2, 3, 4)]),
    Case("irfftn-s-dim", lambda lib, a, b: lib.fft.irfftn(z(lib, a, b), s=(4, 5), dim=(0, 1)), [(2, 3, 4), (2, 3, 4)]),
    Case("rfftn-irfftn", lambda lib, x: lib.fft.irfftn(lib.fft.rfftn(x), s=x.shape), [(2, 3, 4)]),
    # shifts and frequencies
    Case("fftshift", lambda lib, x: lib.fft.fftshift(x), [(4, 5)]),
    Case("fftshift-dim", lambda lib, x: lib.fft.fftshift(x, dim=-1), [(4, 5)]),
    Case("ifftshift", lambda lib, x: lib.fft.ifftshift(x, dim=(0, 1)), [(5, 6)]),
    Case("fftshift-complex", lambda lib, a, b: parts(lib.fft.fftshift(z(lib, a, b))), [(3, 4), (3, 4)]),
    Case("fftshift-fft", lambda lib, x: parts(lib.fft.fftshift(lib.fft.fft(x))), [(7,)]),
    Case("fftfreq-even", lambda lib: lib.fft.fftfreq(8), grad=False),
    Case("fftfreq-odd-d", lambda lib: lib.fft.fftfreq(7, d=0.5), grad=False),
    Case("fftfreq-float64", lambda lib: lib.fft.fftfreq(5, dtype=lib.float64), grad=False),
    Case("rfftfreq", lambda lib: lib.fft.rfftfreq(9, 0.1), grad=False),
    Case("rfftfreq-even", lambda lib: lib.fft.rfftfreq(8), grad=False),
    # promoted inputs
    Case("rfft-int", lambda lib, i: parts(lib.fft.rfft(i)), [np.arange(6)], grad=False),
    Case("fft-int", lambda lib, i: parts(lib.fft.fft(i)), [np.arange(6)], grad=False),
    Case("fft-dtype", lambda lib, x: lib.fft.fft(x).dtype == lib.complex(x, x).dtype, [(4,)], grad=False),
    # a filter in the frequency domain, as signal code writes it
    Case(
        "spectral-filter",
        lambda lib, x, w: (
            (lib.fft.irfft(lib.fft.rfft(x, norm="ortho") * w, n=x.shape[-1], norm="ortho") - x).square().mean()
        ),
        [(3, 8), W],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fft(case, dtype):
    if dtype == "float32" and case.rtol is None:
        case = Case(**{**case.__dict__, **F32})
    check(case, dtype)


def test_double_backward():
    """Gradients of gradients through rfft and irfft (their backward rules are differentiable)."""
    import torch

    import somegrad as sg

    x = np.random.default_rng(0).uniform(-1, 1, (3, 8))
    grads = {}
    for lib in (torch, sg):
        t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        loss = (lib.fft.irfft(lib.fft.rfft(t) ** 2, n=8) ** 2).sum()
        (g,) = (torch.autograd.grad if lib is torch else sg.autograd.grad)(loss, t, create_graph=True)
        (g * g).sum().backward()
        grads[lib] = (g.detach().numpy(), t.grad.numpy())
    for got, want in zip(grads[sg], grads[torch]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


ERRORS = [
    ("rfft-complex", lambda lib, a, b: lib.fft.rfft(z(lib, a, b)), [(4,), (4,)]),
    ("fft-n-zero", lambda lib, x: lib.fft.fft(x, n=0), [(4,)]),
    ("fft-dim-out-of-range", lambda lib, x: lib.fft.fft(x, dim=2), [(4, 3)]),
    ("fft-empty", lambda lib, x: lib.fft.fft(x), [(0,)]),
    ("irfft-n-zero", lambda lib, a, b: lib.fft.irfft(z(lib, a, b), n=0), [(4,), (4,)]),
    ("irfft-size-one", lambda lib, a, b: lib.fft.irfft(z(lib, a, b)), [(1,), (1,)]),
    ("fftn-repeated-dims", lambda lib, x: lib.fft.fftn(x, dim=(0, 0)), [(4, 3)]),
    ("fftn-s-dim-lengths", lambda lib, x: lib.fft.fftn(x, s=(4,), dim=(0, 1)), [(4, 3)]),
    ("rfftn-complex", lambda lib, a, b: lib.fft.rfftn(z(lib, a, b)), [(4, 3), (4, 3)]),
    ("fft-half", lambda lib, x: lib.fft.fft(x.half()), [(4,)]),
]


@pytest.mark.parametrize("call, inputs", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(call, inputs):
    check_error(call, inputs)


def test_invalid_norm():
    check_error(lambda lib, x: lib.fft.fft(x, norm="sideways"), [(4,)])
