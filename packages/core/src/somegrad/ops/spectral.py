"""The discrete Fourier transforms behind `somegrad.fft`."""
