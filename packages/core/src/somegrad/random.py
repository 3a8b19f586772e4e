"""Random numbers: seeding every backend, generator states, and the random ops.

`manual_seed(n)` seeds the host generator and every backend (also those loaded later), so
a program that seeds once draws the same numbers on every run. `get_rng_state()` returns
all states as a JSON-serialisable dict, which checkpoints store to resume exactly.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.device import device as to_device
from somegrad.errors import ArgumentError, UnsupportedDTypeError
from somegrad.ops import creation
from somegrad.ops.dispatch import apply, create
from somegrad.ops.shapes import as_shape, broadcast_shapes
from somegrad.ops.spec import public, with_factory_keywords
from somegrad.tensor import Tensor

__all__ = [
    "Generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "default_generator",
    "rand",
    "randn",
    "randint",
    "randperm",
    "multinomial",
    "rand_like",
    "randn_like",
    "randint_like",
    "bernoulli",
    "normal",
]


class Generator:
    """A host-side random generator, like `torch.Generator` (PCG64 underneath).

    Pass it as `generator=` to random functions and samplers; it draws on the host and the
    values move to the requested device.
    """

    def __init__(self, device="cpu"):
        self.device = to_device(device)
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        return self.manual_seed(_fresh_seed()).initial_seed()

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return {"seed": self._seed, "bit_generator": self._rng.bit_generator.state}

    def set_state(self, state: dict) -> None:
        self._seed = state["seed"]
        self._rng.bit_generator.state = state["bit_generator"]


def _fresh_seed() -> int:
    # 63 bits of operating-system entropy, for seed() without an argument
    return int(np.random.SeedSequence().generate_state(2, np.uint64)[0] >> np.uint64(1))


default_generator = Generator()
_global_seed: int | None = None


def manual_seed(seed: int) -> Generator:
    """Seed every random number source: the host generator and each backend."""
    global _global_seed
    _global_seed = int(seed)
    default_generator.manual_seed(seed)
    from somegrad import backends

    for backend in backends._backend_cache.values():
        backend.seed(_global_seed)
    return default_generator


def seed_new_backend(backend) -> None:
    """Called when a backend loads, so that `manual_seed` before first use still applies."""
    if _global_seed is not None:
        backend.seed(_global_seed)


def seed() -> int:
    """Seed every random number source with fresh entropy (as `manual_seed`) and return that seed."""
    return manual_seed(_fresh_seed()).initial_seed()


def initial_seed() -> int:
    """The seed of the default host generator (as last set by `manual_seed` or `seed`)."""
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    """Every generator's state, JSON-serialisable: {"host": ..., "backends": {name: ...}}."""
    from somegrad import backends

    return {
        "host": default_generator.get_state(),
        "backends": {b.name: b.get_rng_state() for b in backends._backend_cache.values()},
    }


def set_rng_state(state: dict) -> None:
    """Restore the generator states that `get_rng_state()` returned."""
    from somegrad import backends

    default_generator.set_state(state["host"])
    for name, backend_state in state.get("backends", {}).items():
        backends.get_backend(name).set_rng_state(backend_state)


def _from_host(values, dtype, device, requires_grad=False):
    out = creation.tensor(values, dtype=dtype, device=device)
    return out.requires_grad_(True) if requires_grad else out


def _float_dtype(op, dtype):
    dtype = dtype or dtypes.get_default_dtype()
    if not dtype.is_floating_point:
        raise UnsupportedDTypeError(f"{op}: not implemented for {dtype.name}; expected a floating point dtype")
    return dtype


def _uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill in place with uniform samples in [a, b) (not recorded by autograd)."""
    from somegrad.autograd.grad_mode import no_grad

    with no_grad():
        return self.copy_(rand(self.shape, generator=generator, dtype=self.dtype, device=self.device) * (b - a) + a)


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill in place with normal samples of mean `mean` and standard deviation `std` (not recorded by autograd)."""
    from somegrad.autograd.grad_mode import no_grad

    with no_grad():
        return self.copy_(randn(self.shape, generator=generator, dtype=self.dtype, device=self.device) * std + mean)


def _complex_draw(draw, shape, dtype, scale, generator, device, requires_grad):
    """A complex sample: independent real and imaginary parts of `dtype`'s precision, each from
    `draw` times `scale` (PyTorch's complex randn has unit variance: each part 1/2)."""
    from somegrad.ops.complex_numbers import complex as make_complex

    part = dtypes.to_real(dtype)
    real, imag = (draw(shape, generator=generator, dtype=part, device=device) * scale for _ in range(2))
    out = make_complex(real, imag)
    return out.requires_grad_(True) if requires_grad else out


@public(creation.UNIFORM, inplace=[("uniform_", _uniform_)])
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1) (for a complex dtype, in each part)."""
    shape, dtype = as_shape("rand", size), _float_dtype("rand", dtype)
    if dtype.is_complex:
        return _complex_draw(rand, shape, dtype, 1.0, generator, device, requires_grad)
    if generator is not None:
        return _from_host(generator._rng.random(shape), dtype, device, requires_grad)
    out = create(creation.UNIFORM, creation._place(device), {"shape": shape, "dtype": dtype, "low": 0.0, "high": 1.0})
    return out.requires_grad_(True) if requires_grad else out


@public(creation.NORMAL, inplace=[("normal_", _normal_)])
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples (for a complex dtype, of variance 1: each part has variance 1/2)."""
    shape, dtype = as_shape("randn", size), _float_dtype("randn", dtype)
    if dtype.is_complex:
        return _complex_draw(randn, shape, dtype, 0.5**0.5, generator, device, requires_grad)
    if generator is not None:
        return _from_host(generator._rng.standard_normal(shape), dtype, device, requires_grad)
    out = create(creation.NORMAL, creation._place(device), {"shape": shape, "dtype": dtype, "mean": 0.0, "std": 1.0})
    return out.requires_grad_(True) if requires_grad else out


@with_factory_keywords
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples with mean `mean` and standard deviation `std`, as PyTorch's forms:
    `normal(0.0, 1.0, size=(2, 3))` with numbers, or tensors of means and/or standard
    deviations (the result has their broadcast shape and dtype), computed as
    `randn(shape) * std + mean`. Samples are not recorded by autograd, as in PyTorch."""
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise ArgumentError("normal: size= is only taken with numbers for mean and std")
        shape = broadcast_shapes("normal", *(tuple(v.shape) for v in tensors))
        dtype = dtype or dtypes.result_type(*tensors)
        device = device or tensors[0].device
        if isinstance(std, Tensor) and bool((std < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        mean, std = (v.detach() if isinstance(v, Tensor) else v for v in (mean, std))
    else:
        if size is None:
            raise TypeError("normal() with numbers for mean and std needs size=")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        shape = size
    out = randn(shape, generator=generator, dtype=dtype, device=device) * std + mean
    return out.requires_grad_(True) if requires_grad else out


@public(creation.RANDINT)
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high), as PyTorch's forms: `randint(10, (3,))`, `randint(2, 10, (3,))`,
    `randint(high=10, size=(3,))`. int64 unless `dtype`; `requires_grad=True` needs a float dtype."""
    if isinstance(high, (tuple, list)) and size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() missing the upper bound: randint(high, size) or randint(low, high, size)")
    if size is None:
        raise TypeError("randint() missing required argument 'size' (a tuple of ints)")
    if low >= high:
        raise ArgumentError(f"randint: low ({low}) must be less than high ({high})")
    shape, dtype = as_shape("randint", (size,) if isinstance(size, int) else tuple(size)), dtype or dtypes.int64
    _check_requires_grad("randint", dtype, requires_grad)
    if generator is not None:
        out = _from_host(generator._rng.integers(low, high, shape), dtype, device)
    else:
        out = create(
            creation.RANDINT, creation._place(device), {"shape": shape, "dtype": dtype, "low": low, "high": high}
        )
    return out.requires_grad_(True) if requires_grad else out


def _check_requires_grad(op, dtype, requires_grad):
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError(f"{op}: only Tensors of floating point dtype can require gradients, got {dtype.name}")


@with_factory_keywords
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (drawn on the host); int64 unless `dtype`."""
    rng = (generator or default_generator)._rng
    dtype = dtype or dtypes.int64
    _check_requires_grad("randperm", dtype, requires_grad)
    return _from_host(rng.permutation(n), dtype, device, requires_grad)


@with_factory_keywords
def rand_like(x, *, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1) of `x`'s shape, with `x`'s dtype and device unless given."""
    return rand(x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


@with_factory_keywords
def randn_like(x, *, dtype=None, device=None, requires_grad=False):
    """Standard normal samples of `x`'s shape, with `x`'s dtype and device unless given."""
    return randn(x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


@with_factory_keywords
def randint_like(x, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high) of `x`'s shape, with `x`'s dtype and device unless given.

    `randint_like(x, high)` and `randint_like(x, high=...)` draw from [0, high), as in PyTorch."""
    if high is None:
        low, high = 0, low
    dtype, device = dtype or x.dtype, device or x.device
    return randint(low, high, x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def bernoulli(p, *, generator=None):
    """1.0 with probability `p` (a tensor of probabilities), else 0.0."""
    draws = rand(p.shape, generator=generator, dtype=p.dtype, device=p.device)
    return (draws < p).to(p.dtype)


@public(creation.MULTINOMIAL, methods=True)
def multinomial(probs, num_samples, replacement=False, *, generator=None):
    """Draw category indices from rows of (unnormalised, non-negative) `probs`.

    probs: (C,) or (N, C) -> (num_samples,) or (N, num_samples), int64.
    """
    if generator is not None:
        host = probs.detach().cpu().numpy().astype(np.float64)
        rows = host.reshape(-1, host.shape[-1])
        picks = [generator._rng.choice(row.size, num_samples, replace=replacement, p=row / row.sum()) for row in rows]
        return creation.tensor(
            np.array(picks).reshape(host.shape[:-1] + (num_samples,)), dtype=dtypes.int64, device=probs.device
        )
    return apply(creation.MULTINOMIAL, (probs.detach(),), {"num_samples": num_samples, "replacement": replacement})
