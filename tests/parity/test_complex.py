"""Complex tensors against PyTorch: promotion, the complex ops, their gradients (PyTorch's
convention for real losses of complex values), Tensor.view(dtype), and the refusals.

Inputs are real (the harness builds real tensors); each case makes its complex values with
`lib.complex(a, b)` and ends in real outputs (`parts`: the real and imaginary parts), whose
gradients the harness compares.
"""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity


def parts(z):
    # resolve_neg: PyTorch's imag of a conjugate is a lazy negation, which .numpy() refuses
    return z.real.resolve_neg(), z.imag.resolve_neg()


def dtype(lib, name):
    """`lib.complex64` and friends (somegrad's also live in `somegrad.dtypes`)."""
    return getattr(lib, name, None) or getattr(lib.dtypes, name)


def z(lib, a, b):
    return lib.complex(a, b)


S = (3, 4)
CASES = [
    Case("complex", lambda lib, a, b: parts(lib.complex(a, b)), [S, S]),
    Case("complex-broadcast", lambda lib, a, b: parts(lib.complex(a, b)), [(3, 1), (4,)]),
    Case("add", lambda lib, a, b, c, d: parts(z(lib, a, b) + z(lib, c, d)), [S, S, S, S]),
    Case("sub", lambda lib, a, b, c, d: parts(z(lib, a, b) - z(lib, c, d)), [S, S, S, S]),
    Case("mul", lambda lib, a, b, c, d: parts(z(lib, a, b) * z(lib, c, d)), [S, S, S, S]),
    Case("div", lambda lib, a, b, c, d: parts(z(lib, a, b) / z(lib, c + 2, d)), [S, S, S, S]),
    Case("mul-real", lambda lib, a, b, x: parts(z(lib, a, b) * x), [S, S, S]),
    Case("div-by-real", lambda lib, a, b, x: parts(z(lib, a, b) / (x + 2)), [S, S, S]),
    Case("real-div-complex", lambda lib, a, b, x: parts(x / z(lib, a + 2, b)), [S, S, S]),
    Case("mul-python-complex", lambda lib, x: parts(x * (1.5 - 2j)), [S]),
    Case("add-python-complex", lambda lib, x: parts(2j + x), [S]),
    Case("neg", lambda lib, a, b: parts(-z(lib, a, b)), [S, S]),
    Case("exp", lambda lib, a, b: parts(z(lib, a, b).exp()), [S, S]),
    Case("log", lambda lib, a, b: parts(z(lib, a + 2, b).log()), [S, S]),
    Case("sqrt", lambda lib, a, b: parts(z(lib, a + 2, b).sqrt()), [S, S]),
    Case("sin", lambda lib, a, b: parts(z(lib, a, b).sin()), [S, S]),
    Case("cos", lambda lib, a, b: parts(z(lib, a, b).cos()), [S, S]),
    Case("tanh", lambda lib, a, b: parts(z(lib, a, b).tanh()), [S, S]),
    Case("reciprocal", lambda lib, a, b: parts(z(lib, a + 2, b).reciprocal()), [S, S]),
    Case("square", lambda lib, a, b: parts(z(lib, a, b).square()), [S, S]),
    Case("abs", lambda lib, a, b: z(lib, a, b).abs(), [S, S]),
    Case("abs-function", lambda lib, a, b: lib.abs(z(lib, a, b)), [S, S]),
    Case("angle", lambda lib, a, b: z(lib, a, b).angle(), [S, S]),
    Case("angle-real", lambda lib, x: lib.angle(x), [S]),
    Case("sgn", lambda lib, a, b: parts(z(lib, a, b).sgn()), [S, S]),
    Case("conj", lambda lib, a, b: parts(z(lib, a, b).conj()), [S, S]),
    Case("conj-physical", lambda lib, a, b: parts(lib.conj_physical(z(lib, a, b))), [S, S]),
    Case("conj-real", lambda lib, x: lib.conj(x), [S]),
    Case("mul-conj", lambda lib, a, b: (z(lib, a, b) * z(lib, a, b).conj()).real, [S, S]),
    Case("real-imag-functions", lambda lib, a, b: (lib.real(z(lib, a, b)), lib.imag(z(lib, a, b))), [S, S]),
    Case("real-of-real", lambda lib, x: x.real * 2, [S]),
    Case("polar", lambda lib, r, t: parts(lib.polar(r, t)), [S, S], low=0.1, high=2.0),
    Case("view-as-real", lambda lib, a, b: lib.view_as_real(z(lib, a, b)) * 3, [S, S]),
    Case("view-as-complex", lambda lib, x: parts(lib.view_as_complex(x) * (1 + 1j)), [(3, 4, 2)]),
    Case("view-as-complex-abs", lambda lib, x: lib.view_as_complex(x).abs(), [(5, 2)]),
    Case("sum", lambda lib, a, b: parts(z(lib, a, b).sum()), [S, S]),
    Case("sum-dim", lambda lib, a, b: parts(z(lib, a, b).sum(dim=1)), [S, S]),
    Case("mean", lambda lib, a, b: parts(z(lib, a, b).mean(dim=0)), [S, S]),
    Case("prod", lambda lib, a, b: parts(z(lib, a, b).prod(dim=1)), [S, S]),
    Case("reshape", lambda lib, a, b: parts(z(lib, a, b).reshape(2, 6)), [S, S]),
    Case("index", lambda lib, a, b: parts(z(lib, a, b)[1:, ::2]), [S, S]),
    Case("transpose", lambda lib, a, b: parts(z(lib, a, b).transpose(0, 1) * (2 - 1j)), [S, S]),
    Case("cat", lambda lib, a, b: parts(lib.cat([z(lib, a, b), z(lib, b, a)])), [S, S]),
    Case("zero-dim", lambda lib, a, b: parts(z(lib, a.sum(), b.sum()) * z(lib, a, b)), [S, S]),
    Case("to-complex", lambda lib, x: parts(x.to(dtype(lib, "complex128")) * 1j), [S]),
    Case("promote-f64-c64", lambda lib, a, b, x: parts(z(lib, a.float(), b.float()) + x.double()), [S, S, S]),
    Case("promote-f32-c128", lambda lib, a, b, x: parts(z(lib, a.double(), b.double()) * x.float()), [S, S, S]),
    Case("promote-int", lambda lib, a, b, i: parts(z(lib, a, b) * i), [S, S, np.arange(4)]),
    Case(
        "promote-0d-c128",
        lambda lib, x, a: parts(x.float() * z(lib, a.double().sum(), a.double().sum())),
        [S, S],
        rtol=1e-6,  # computed in complex64 whatever the inputs' dtype
    ),
    Case("int-times-complex-scalar", lambda lib, i: i * 1j, [np.arange(4)]),
    Case("complex-abs-loss-chain", lambda lib, a, b, w: (z(lib, a, b) * w).abs().square().sum(), [S, S, S]),
]

VALUE_CASES = [
    Case("tensor-from-python", lambda lib: lib.tensor([[1 + 2j, 3.5 - 1j], [0j, -2j]]), grad=False),
    Case("tensor-from-numpy", lambda lib: lib.tensor(np.array([1 + 2j, 3 - 1j], dtype=np.complex128)), grad=False),
    Case("tensor-complex64", lambda lib: lib.tensor(np.array([1 + 2j], dtype=np.complex64)), grad=False),
    Case("item", lambda lib, a, b: z(lib, a, b)[0, 1].item(), [S, S], grad=False),
    Case("tolist", lambda lib, a, b: np.array(z(lib, a, b).tolist()), [S, S], grad=False),
    Case("numpy", lambda lib, a, b: z(lib, a, b).detach().numpy(), [S, S], grad=False),
    Case("is-complex", lambda lib, a, b: (z(lib, a, b).is_complex(), a.is_complex()), [S, S], grad=False),
    Case("is-floating-point", lambda lib, a, b: z(lib, a, b).is_floating_point(), [S, S], grad=False),
    Case("full-complex", lambda lib: lib.full((2, 2), 1 - 1j), grad=False),
    Case("zeros-complex", lambda lib: lib.zeros(3, dtype=dtype(lib, "complex128")), grad=False),
    Case("view-int32", lambda lib, x: x.detach().float().view(lib.int32), [S], grad=False),
    Case("view-int16", lambda lib, x: x.detach().float().view(lib.int16), [S], grad=False),
    Case("view-int64", lambda lib, x: x.detach().float().view(lib.int64), [S], grad=False),
    Case("view-uint8", lambda lib, x: x.detach().double().view(lib.uint8), [S], grad=False),
    Case("view-float64-as-float32", lambda lib, x: x.detach().double().view(lib.float32), [S], grad=False),
    Case("view-complex64", lambda lib, x: x.detach().float().view(dtype(lib, "complex64")), [S], grad=False),
    Case("view-complex-as-float", lambda lib, x: lib.view_as_complex(x.detach()).view(x.dtype), [(3, 2)], grad=False),
    Case("view-same-size", lambda lib, x: x.detach()[:, ::2].float().view(lib.int32), [S], grad=False),
    Case("view-shares-memory", lambda lib, x: _view_write(lib, x), [S], grad=False),
    Case("view-no-grad", lambda lib, x: x.view(x.dtype).requires_grad, [S], grad=False),
]


def _view_write(lib, x):
    x = x.detach().float().clone()
    bits = x.view(lib.int32)
    bits[0, 0] = 0
    return x


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_complex(case, dtype):
    check(case, dtype)


@pytest.mark.parametrize("case", VALUE_CASES, ids=str)
def test_values(case):
    check(case, "float32")


def test_promotion_dtypes():
    import torch

    import somegrad as sg

    pairs = [
        ("float32", "complex64"),
        ("float64", "complex64"),
        ("float32", "complex128"),
        ("float16", "complex64"),
        ("int64", "complex64"),
        ("bool", "complex128"),
        ("complex64", "complex128"),
    ]
    for a, b in pairs:
        ta, tb = getattr(torch, a), getattr(torch, b)
        sa, sb = dtype(sg, a), dtype(sg, b)
        assert sg.promote_types(sa, sb).name == str(torch.promote_types(ta, tb)).removeprefix("torch."), (a, b)
    for value in (1j, 2.5, 3):
        for name in ("float32", "float64", "int32"):
            t = torch.ones(2, dtype=getattr(torch, name)) * value
            s = sg.ones(2, dtype=dtype(sg, name)) * value
            assert s.dtype.name == str(t.dtype).removeprefix("torch."), (name, value)
    # a 0-d complex128 lifts float32 to complex64 (the floating operand keeps its precision)
    t = torch.ones(2) + torch.tensor(1j, dtype=torch.complex128)
    s = sg.ones(2) + sg.tensor(1j, dtype=dtype(sg, "complex128"))
    assert s.dtype.name == str(t.dtype).removeprefix("torch.") == "complex64"


ERRORS = [
    ("view-as-real-of-real", lambda lib, x: lib.view_as_real(x), [S]),
    ("view-as-complex-size", lambda lib, x: lib.view_as_complex(x), [(3, 3)]),
    ("view-as-complex-stride", lambda lib, x: lib.view_as_complex(x.transpose(0, 1)), [(2, 2)]),
    ("complex-mixed-dtypes", lambda lib, a, b: lib.complex(a, b.double()), [S, S]),
    ("complex-int", lambda lib, i: lib.complex(i, i), [np.arange(3)]),
    ("imag-of-real", lambda lib, x: x.imag, [S]),
    ("view-dtype-divisible", lambda lib, x: x.view(lib.float64), [(3, 3)]),
    ("view-dtype-stride", lambda lib, x: x.transpose(0, 1).view(lib.float64), [(4, 4)]),
    ("view-dtype-0d", lambda lib, x: x.sum().view(lib.float64), [S]),
    ("maximum-complex", lambda lib, a, b: lib.maximum(z(lib, a, b), z(lib, b, a)), [S, S]),
    ("requires-grad-int", lambda lib, i: i.requires_grad_(), [np.arange(3)]),
    ("full-complex-into-float", lambda lib: lib.full((2,), 1 + 1j, dtype=lib.float32), []),
    # PyTorch raises RuntimeError here, NotImplementedError for the refusals below
    ("argmax-complex", lambda lib, a, b: z(lib, a, b).argmax(), [S, S]),
    ("sort-complex", lambda lib, a, b: lib.sort(z(lib, a, b)), [S, S]),
    ("topk-complex", lambda lib, a, b: z(lib, a, b).topk(1), [S, S]),
]

# PyTorch raises NotImplementedError ("not implemented for 'ComplexFloat'"); somegrad's dispatch
# refuses a dtype outside an op's declaration with a RuntimeError that is not one (yet)
REFUSED = [
    ("sign-complex", lambda lib, a, b: z(lib, a, b).sign(), [S, S]),
    ("floor-complex", lambda lib, a, b: z(lib, a, b).floor(), [S, S]),
    ("clamp-complex", lambda lib, a, b: z(lib, a, b).clamp(0, 1), [S, S]),
    ("erf-complex", lambda lib, a, b: z(lib, a, b).erf(), [S, S]),
    ("atan2-complex", lambda lib, a, b: lib.atan2(z(lib, a, b), z(lib, a, b)), [S, S]),
    ("lt-complex", lambda lib, a, b: z(lib, a, b) < z(lib, b, a), [S, S]),
    ("max-complex", lambda lib, a, b: z(lib, a, b).max(), [S, S]),
]


@pytest.mark.parametrize("call, inputs", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(call, inputs):
    check_error(call, inputs)


@pytest.mark.parametrize("call, inputs", [e[1:] for e in REFUSED], ids=[e[0] for e in REFUSED])
def test_refused_dtypes(call, inputs):
    import torch
    from harness import Case, build, host_inputs

    import somegrad as sg

    host = host_inputs(Case("refused", call, inputs))
    with pytest.raises(NotImplementedError):
        call(torch, *build(torch, host, "float32", False))
    with pytest.raises(RuntimeError, match="complex64"):  # naming the op and the dtype
        call(sg, *build(sg, host, "float32", False))


def test_refused_dtype_is_not_implemented_error():
    check_error(REFUSED[0][1], REFUSED[0][2])
