"""Samples for `somegrad.ops.spectral`: the three transforms through the public `somegrad.fft`
functions, against `numpy.fft`.

Inputs and outputs are real (see `complex_numbers.py`): complex signals are `complex(a, b)` of
two real inputs, complex spectra come back as `view_as_real`. The complex ops' samples live in
`complex_numbers.py`, loaded from here.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, register_samples, values
from somegrad.testing.samples.complex_numbers import complex_error, complex_sample

F32, F64 = dtypes.float32, dtypes.float64

_NORM = {None: "backward", "ortho": "ortho", "forward": "forward"}


def _fft():
    import somegrad

    return somegrad.fft


def _as_real(z):
    import somegrad

    return somegrad.view_as_real(z)


def _stack(z):
    z = np.asarray(z)
    return np.stack([z.real, z.imag], axis=-1)


def _signal(name, shape, layout="contiguous", key=0):
    return Input(values(shape, key=(name, key)), layout=layout)


@register_samples("fft_r2c")
def _r2c_samples():
    # (name, shape, layout, keyword arguments of rfft)
    cases = (
        ("8", (3, 8), "contiguous", {}),
        ("odd", (2, 7), "contiguous", {}),
        ("n-pad", (2, 6), "contiguous", {"n": 9}),
        ("n-cut", (2, 8), "contiguous", {"n": 5}),
        ("dim0", (6, 2), "contiguous", {"dim": 0}),
        ("ortho", (2, 8), "contiguous", {"norm": "ortho"}),
        ("forward", (2, 8), "contiguous", {"norm": "forward"}),
        ("transposed", (4, 6), "transposed", {}),
        ("stepped", (2, 6), "stepped", {}),
        ("size0-batch", (0, 4), "contiguous", {}),
        ("1", (3, 1), "contiguous", {}),
    )
    for name, shape, layout, kw in cases:
        n, dim, norm = kw.get("n"), kw.get("dim", -1), _NORM[kw.get("norm")]
        for dtype in (F64, F32) if name == "8" else (F64,):
            yield complex_sample(
                (_signal(name, shape, layout),),
                reference=lambda x, n=n, dim=dim, norm=norm: _stack(np.fft.rfft(x, n=n, axis=dim, norm=norm)),
                dtype=dtype,
                name=f"rfft-{name}",
                call=lambda x, kw=kw: _as_real(_fft().rfft(x, **kw)),
            )
    yield complex_sample(
        (_signal("fft", (3, 8)),),
        reference=lambda x: _stack(np.fft.fft(x)),
        dtype=F64,
        name="fft-real",
        call=lambda x: _as_real(_fft().fft(x)),
    )
    yield complex_sample(
        (_signal("rfft2", (2, 4, 6)),),
        reference=lambda x: _stack(np.fft.rfft2(x)),
        dtype=F64,
        name="rfft2",
        call=lambda x: _as_real(_fft().rfft2(x)),
    )
    yield complex_sample(
        (_signal("rfftn", (2, 3, 4)),),
        reference=lambda x: _stack(np.fft.rfftn(x, s=(5, 3), axes=(2, 0), norm="ortho")),
        dtype=F64,
        name="rfftn-s-dim",
        call=lambda x: _as_real(_fft().rfftn(x, s=(5, 3), dim=(2, 0), norm="ortho")),
    )
    yield complex_sample(
        (_signal("ihfft", (3, 8)),),
        reference=lambda x: _stack(np.fft.ihfft(x, n=7)),
        dtype=F64,
        name="ihfft",
        call=lambda x: _as_real(_fft().ihfft(x, n=7)),
    )
    yield complex_sample(
        (_signal("abs", (4, 8)),),
        reference=lambda x: np.abs(np.fft.rfft(x)).sum(),
        dtype=F64,
        name="rfft-abs-sum",
        call=lambda x: _fft().rfft(x).abs().sum(),
    )
    yield ErrorSample((Input(values((4,))),), {}, RuntimeError, "invalid number of data points (0)", name="n0",
                      call=lambda x: _fft().rfft(x, n=0))  # fmt: skip
    yield complex_error(
        (Input(values((4,))), Input(values((4,)))),
        RuntimeError,
        "expects a real input",
        name="complex",
        call=lambda a, b: _fft().rfft(_complex(a, b)),
    )
    yield ErrorSample(
        (Input(values((4,)), dtypes.float16),),
        {},
        RuntimeError,
        "float16",
        name="half",
        call=lambda x: _fft().rfft(x),
    )


def _complex(a, b):
    import somegrad

    return somegrad.complex(a, b)


@register_samples("fft_c2c")
def _c2c_samples():
    # (name, shape, layout, function, keyword arguments, NumPy function, NumPy keyword arguments)
    cases = (
        ("fft", (3, 8), "contiguous", "fft", {}, np.fft.fft, {}),
        ("fft-n", (3, 8), "contiguous", "fft", {"n": 10}, np.fft.fft, {"n": 10}),
        ("fft-dim0-cut", (8, 3), "contiguous", "fft", {"n": 5, "dim": 0}, np.fft.fft, {"n": 5, "axis": 0}),
        ("fft-ortho", (3, 8), "transposed", "fft", {"norm": "ortho"}, np.fft.fft, {"norm": "ortho"}),
        ("ifft", (3, 8), "contiguous", "ifft", {}, np.fft.ifft, {}),
        ("ifft-forward", (3, 8), "contiguous", "ifft", {"norm": "forward"}, np.fft.ifft, {"norm": "forward"}),
        ("fft2", (2, 4, 6), "contiguous", "fft2", {}, np.fft.fft2, {}),
        ("ifft2-s", (2, 4, 6), "contiguous", "ifft2", {"s": (3, 8)}, np.fft.ifft2, {"s": (3, 8)}),
        ("fftn", (2, 3, 4), "contiguous", "fftn", {}, np.fft.fftn, {}),
        ("ifftn-dim", (2, 3, 4), "contiguous", "ifftn", {"dim": (0, 2)}, np.fft.ifftn, {"axes": (0, 2)}),
        ("size0-batch", (0, 4), "contiguous", "fft", {}, np.fft.fft, {}),
    )
    for name, shape, layout, fn, kw, reference, np_kw in cases:
        for dtype in (F64, F32) if name == "fft" else (F64,):
            yield complex_sample(
                (_signal(name, shape, layout, 0), _signal(name, shape, "contiguous", 1)),
                reference=lambda a, b, reference=reference, np_kw=np_kw: _stack(reference(a + 1j * b, **np_kw)),
                dtype=dtype,
                name=name,
                call=lambda a, b, fn=fn, kw=kw: _as_real(getattr(_fft(), fn)(_complex(a, b), **kw)),
            )
    yield complex_sample(
        (_signal("ifft-real", (3, 8)),),
        reference=lambda x: _stack(np.fft.ifft(x)),
        dtype=F64,
        name="ifft-real",
        call=lambda x: _as_real(_fft().ifft(x)),
    )
    yield ErrorSample((Input(values((4, 3))),), {}, RuntimeError, "FFT dims must be unique", name="dims",
                      call=lambda x: _fft().fftn(x, dim=(0, 0)))  # fmt: skip
    yield ErrorSample((Input(values((4, 3))),), {}, RuntimeError, "same length", name="s-dim",
                      call=lambda x: _fft().fftn(x, s=(4,), dim=(0, 1)))  # fmt: skip
    yield ErrorSample((Input(values((0,))),), {}, RuntimeError, "invalid number of data points (0)", name="empty",
                      call=lambda x: _fft().fft(x))  # fmt: skip
    yield ErrorSample((Input(values((4,))),), {}, ValueError, "invalid normalization", name="norm",
                      call=lambda x: _fft().fft(x, norm="sideways"))  # fmt: skip


@register_samples("fft_c2r")
def _c2r_samples():
    # (name, shape of the spectrum, function, keyword arguments, NumPy function, NumPy keyword arguments)
    cases = (
        ("irfft", (3, 5), "irfft", {}, np.fft.irfft, {}),
        ("irfft-odd", (3, 5), "irfft", {"n": 9}, np.fft.irfft, {"n": 9}),
        ("irfft-n-pad", (3, 5), "irfft", {"n": 14}, np.fft.irfft, {"n": 14}),
        ("irfft-n-cut", (3, 5), "irfft", {"n": 4}, np.fft.irfft, {"n": 4}),
        ("irfft-ortho", (3, 5), "irfft", {"norm": "ortho"}, np.fft.irfft, {"norm": "ortho"}),
        ("irfft-forward-dim0", (5, 3), "irfft", {"norm": "forward", "dim": 0}, np.fft.irfft,
         {"norm": "forward", "axis": 0}),
        ("hfft", (3, 5), "hfft", {}, np.fft.hfft, {}),
        ("hfft-n-ortho", (3, 5), "hfft", {"n": 7, "norm": "ortho"}, np.fft.hfft, {"n": 7, "norm": "ortho"}),
        ("irfft2", (2, 4, 4), "irfft2", {}, np.fft.irfft2, {}),
        ("irfftn-s", (2, 3, 4), "irfftn", {"s": (4, 5), "dim": (0, 1)}, np.fft.irfftn, {"s": (4, 5), "axes": (0, 1)}),
        ("size0-batch", (0, 4), "irfft", {}, np.fft.irfft, {}),
    )  # fmt: skip
    for name, shape, fn, kw, reference, np_kw in cases:
        for dtype in (F64, F32) if name == "irfft" else (F64,):
            yield complex_sample(
                (_signal(name, shape, "contiguous", 0), _signal(name, shape, "contiguous", 1)),
                reference=lambda a, b, reference=reference, np_kw=np_kw: reference(a + 1j * b, **np_kw),
                dtype=dtype,
                name=name,
                call=lambda a, b, fn=fn, kw=kw: getattr(_fft(), fn)(_complex(a, b), **kw),
            )
    w = np.linspace(0.5, 1.5, 5)
    yield complex_sample(
        (_signal("filter", (3, 8)),),
        reference=lambda x: np.fft.irfft(np.fft.rfft(x) * w, n=8),
        dtype=F64,
        name="irfft-rfft-filter",
        call=lambda x: _fft().irfft(_fft().rfft(x) * _tensor_like(w, x), n=8),
    )
    yield complex_error((Input(values((1,))), Input(values((1,)))), RuntimeError, "invalid number of data points",
                      name="size1", call=lambda a, b: _fft().irfft(_complex(a, b)))  # fmt: skip


def _tensor_like(array, x):
    import somegrad

    return somegrad.tensor(array, dtype=x.dtype, device=x.device)
