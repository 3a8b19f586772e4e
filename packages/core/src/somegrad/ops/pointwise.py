"""The rest of PyTorch's elementwise math: trig, inverse trig and hyperbolic functions, log2/log10/exp2,
copysign, fmod, trunc, frac, hypot, logaddexp(2), isinf/isposinf/isneginf, nan_to_num, isclose, allclose."""
