"""Every operation, declared once in its family module: its spec and its public function.

Families: `elementwise` (with `comparison`, `activations`, `bitwise` and `pointwise`),
`reduce` (with `statistics` and `scans`), `movement` (with `layout`), `indexing` (with
`scatter`), `linalg` (with `products`, `einsum` and `decompositions`), `spectral`,
`creation`, `sorting`, `optim` (multi-tensor steps), `nn` (the composites that somegrad.nn
uses). `OPS` maps each op's name to its spec, and `PRIMITIVES`
lists what every backend must implement. The functions exported here come from the registry
(`somegrad.ops.surface.exports`), not from a list.
"""

# ruff: noqa: I001  (the nn composites are built from the families above them: they come last)
import types

from somegrad.ops import dispatch
from somegrad.ops.spec import OPS, PRIMITIVES, OpSpec, get_op, primitives

# The families: importing them declares their ops.
from somegrad.ops import creation, elementwise, comparison, activations, bitwise  # noqa: F401
from somegrad.ops import indexing, linalg, movement, reduce, sorting  # noqa: F401
from somegrad.ops import pointwise, statistics, scatter, scans, layout, products, einsum  # noqa: F401
from somegrad.ops import decompositions, spectral  # noqa: F401  (somegrad.linalg and somegrad.fft)
from somegrad.ops import special, sets  # noqa: F401
from somegrad import random as _random  # noqa: F401  (rand, randn, randint, multinomial: the random ops' functions)
from somegrad.ops import nn  # noqa: F401  (registers the nn composites)
from somegrad.ops import optim  # noqa: F401  (registers the multi-tensor optimizer steps)
from somegrad.ops.creation import as_tensor, from_numpy, tensor
from somegrad.ops.elementwise import cast
from somegrad.ops.inplace import inplace
from somegrad.ops.inplace import try_foreach_kernel as foreach_kernel
from somegrad.ops.inplace import try_inplace_kernel as inplace_kernel
from somegrad.ops.surface import exports as _exports
from somegrad.ops.transfer import transfer

# Every op's public function (and its aliases and forms) under its name, from the registry.
globals().update(_exports())

# `from somegrad.ops import *` (what `import somegrad` does) exports the op functions, and the
# conversions from host data (tensor, as_tensor, from_numpy: they copy data in, they are no ops);
# never the family modules: `somegrad.nn` must stay the nn package, not `somegrad.ops.nn`.
__all__ = sorted({*_exports(), "tensor", "as_tensor", "from_numpy"})
