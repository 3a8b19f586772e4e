"""Sample inputs for every op spec, OpInfo-style, with a NumPy reference for each.

Every op in `somegrad.ops.OPS` declares, here or beside its spec, the inputs it is tested on:
0-d tensors, broadcasting pairs, size-0 dimensions, non-contiguous inputs (transposed, sliced
with steps), negative `dim`, each `keepdim`, every dtype it supports, and the values that matter
(negative, zero, large magnitudes, ties). Each sample carries a reference written in NumPy
(float64 for floating point inputs), independent of somegrad, and each op its error cases.

    from somegrad.testing.samples import samples_for
    for sample in samples_for("softmax"):
        ...

A new op registers its samples with `register_samples`:

    @register_samples("my_op")
    def _my_op_samples():
        yield Sample((Input(values((2, 3))),), {"dim": 1}, reference=lambda x, dim: ...)

The conformance suite fails for any op spec without samples.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from somegrad import dtypes

__all__ = [
    "Input",
    "IndexArray",
    "Sample",
    "ErrorSample",
    "register_samples",
    "samples_for",
    "error_samples_for",
    "ops_without_samples",
    "values",
    "numpy_dtype",
    "FLOATS",
    "LOW_PRECISION",
    "INTEGERS",
    "SIGNED",
    "ALL",
]

FLOATS = (dtypes.float32, dtypes.float64, dtypes.float16, dtypes.bfloat16)
LOW_PRECISION = (dtypes.float16, dtypes.bfloat16)
SIGNED = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64)
INTEGERS = (dtypes.uint8,) + SIGNED
ALL = FLOATS + INTEGERS + (dtypes.bool_,)


@dataclass
class Input:
    """One tensor input: its values (a host NumPy array), its dtype (None: the sample's dtype)
    and its memory layout, "contiguous", "transposed" (a permuted view of a contiguous tensor)
    or "stepped" (every other element of a larger tensor along the last dim)."""

    value: np.ndarray
    dtype: Any = None
    layout: str = "contiguous"

    def __post_init__(self):
        self.value = np.asarray(self.value)


@dataclass
class IndexArray:
    """An int64 index array inside a kernel parameter (a `getitem` key): the suite turns it
    into an array of the backend under test."""

    value: np.ndarray

    def __post_init__(self):
        self.value = np.asarray(self.value, dtype=np.int64)

    def __repr__(self):
        return f"IndexArray({self.value.tolist()})"


@dataclass
class Sample:
    """A call of one op: `apply(OPS[op], inputs, params)`, or `call(*inputs)` for samples that
    go through the public function (negative dims, Python scalars).

    `reference(*host_values, **params)` computes the expected result with NumPy; float inputs
    reach it as float64 arrays holding exactly the values the backend received. Random ops
    have no reference but a `check(result, **params)` of the result's properties. `grad` says
    whether gradients are checked (off at kinks and non-finite values), `grad_order` to which
    order (1 at ties, where the second derivative does not exist)."""

    inputs: tuple
    params: dict = field(default_factory=dict)
    reference: Callable | None = None
    dtype: Any = dtypes.float32
    out_dtype: Any = None
    name: str = ""
    grad: bool = True
    grad_order: int = 2
    call: Callable | None = None
    check: Callable | None = None
    rtol: float | None = None
    atol: float | None = None
    op: str = ""

    @property
    def id(self) -> str:
        return f"{self.op}-{self.name}-{self.dtype.name}" if self.name else f"{self.op}-{self.dtype.name}"


@dataclass
class ErrorSample:
    """A call that must fail with `error` whose message contains `match`, on every backend."""

    inputs: tuple
    params: dict
    error: type
    match: str
    dtype: Any = dtypes.float32
    name: str = ""
    call: Callable | None = None
    op: str = ""

    @property
    def id(self) -> str:
        return f"{self.op}-{self.name}"


_registry: dict[str, Callable] = {}
_cache: dict[str, list] = {}


def register_samples(op: str):
    """Decorator: `fn()` returns or yields the `Sample`s and `ErrorSample`s of `op`."""

    def decorate(fn):
        if op in _registry:
            raise ValueError(f"samples for op {op!r} are registered twice")
        _registry[op] = fn
        return fn

    return decorate


def _all_samples(op: str) -> list:
    _load_families()
    if op not in _cache:
        fn = _registry.get(op)
        items = list(fn()) if fn is not None else []
        names: dict[str, int] = {}
        for item in items:
            item.op = op
            if isinstance(item, Sample) and item.out_dtype is None:
                item.out_dtype = item.dtype
            # Ids must be unique for pytest: number repeats.
            base = item.id
            names[base] = names.get(base, 0) + 1
            if names[base] > 1:
                item.name = f"{item.name}{names[base]}"
        _cache[op] = items
    return _cache[op]


def samples_for(op: str) -> list[Sample]:
    return [s for s in _all_samples(op) if isinstance(s, Sample)]


def error_samples_for(op: str) -> list[ErrorSample]:
    return [s for s in _all_samples(op) if isinstance(s, ErrorSample)]


def ops_without_samples() -> list[str]:
    """Op specs in OPS that declare no sample (each is a conformance failure)."""
    from somegrad.ops import OPS

    return sorted(name for name in OPS if not samples_for(name))


_loaded = False


def _load_families():
    global _loaded
    if not _loaded:
        _loaded = True
        from somegrad.testing.samples import (  # noqa: F401
            bitwise,
            creation,
            decompositions,
            einsum,
            elementwise,
            indexing,
            layout,
            movement,
            multi_output,
            nn,
            nn_resample,
            nn_spatial,
            optim,
            pointwise,
            products,
            recurrent,
            reduce,
            scans,
            scatter,
            sets,
            special,
            spectral,
            statistics,
        )


# --- building values ---------------------------------------------------------------------------
def _rng(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def values(shape, low=-2.0, high=2.0, *, key=None, integer=False):
    """Deterministic values of `shape` in [low, high) (ints in [low, high] if `integer`)."""
    rng = _rng(shape, low, high, key)
    if integer:
        return rng.integers(int(low), int(high) + 1, size=shape).astype(np.int64)
    return rng.uniform(low, high, size=shape)


def distinct(shape, *, key=None, spacing=0.25):
    """Float values of `shape` that are pairwise at least `spacing` apart (no ties, no kinks)."""
    n = math.prod(shape)
    order = _rng(shape, "distinct", key).permutation(n)
    return ((order - n / 2 + 0.5) * spacing).reshape(shape)


def numpy_dtype(dtype):
    """The NumPy dtype that holds `dtype` (bfloat16 needs ml_dtypes; None without it)."""
    if dtype is dtypes.bfloat16:
        try:
            import ml_dtypes
        except ImportError:
            return None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype("bool" if dtype is dtypes.bool_ else dtype.name)
