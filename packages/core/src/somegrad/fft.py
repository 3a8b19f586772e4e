"""`somegrad.fft`: PyTorch's `torch.fft`: the discrete Fourier transforms `fft`, `ifft`, `rfft`,
`irfft`, `hfft`, `ihfft`, their 2-d and n-d forms (`fft2`, `fftn`, `hfftn`, ...), `fftfreq`, `rfftfreq`,
`fftshift` and `ifftshift`, with gradients (see `somegrad.ops.spectral`).

    import somegrad as sg
    x = sg.randn(8, requires_grad=True)
    spectrum = sg.fft.rfft(x)                # (5,) complex64
    sg.fft.irfft(spectrum * 2, n=8).sum().backward()
"""

from somegrad.ops import spectral
from somegrad.ops.spectral import *  # noqa: F403  (the transforms, declared there)

__all__ = list(spectral.__all__)
