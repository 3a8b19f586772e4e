"""`somegrad.fft`: PyTorch's `torch.fft` (fft, ifft, rfft, irfft and the n-d forms)."""
