"""`somegrad.fft`: PyTorch's `torch.fft`: the discrete Fourier transforms `fft`, `ifft`, `rfft`,
`irfft`, `hfft`, `ihfft`, their 2-d and n-d forms (`fft2`, `fftn`, `hfftn`, ...), `fftfreq`, `rfftfreq`,
`fftshift` and `ifftshift`, with gradients (see `somegrad.ops.spectral`).

    import somegrad as sg
    x = sg.randn(8, requires_grad=True)
    spectrum = sg.fft.rfft(x)                # (5,) complex64
    sg.fft.irfft(spectrum * 2, n=8).sum().backward()
"""

from somegrad.ops.spectral import (
    fft,
    fft2,
    fftfreq,
    fftn,
    fftshift,
    hfft,
    hfft2,
    hfftn,
    ifft,
    ifft2,
    ifftn,
    ifftshift,
    ihfft,
    ihfft2,
    ihfftn,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftfreq,
    rfftn,
)

__all__ = [
    "fft",
    "ifft",
    "rfft",
    "irfft",
    "hfft",
    "ihfft",
    "fft2",
    "ifft2",
    "rfft2",
    "irfft2",
    "fftn",
    "ifftn",
    "rfftn",
    "irfftn",
    "hfft2",
    "ihfft2",
    "hfftn",
    "ihfftn",
    "fftfreq",
    "rfftfreq",
    "fftshift",
    "ifftshift",
]
