"""The fuzzer's cases: seeded generators, one per op family, each yielding `Case` objects.

Every generator takes a `random.Random` and a budget (how many cases to yield); the suite's
size is the sum of the budgets, multiplied for a larger run. The same seed gives the same cases.
"""

from __future__ import annotations

import random

import numpy as np
from fuzz_harness import DTYPE_NAMES, FLOAT_NAMES, INT_NAMES, Case, Input

# Python scalars of every kind, with the edge values that break promotion and conversion
SCALARS = [
    "True",
    "False",
    "0",
    "1",
    "-1",
    "3",
    "127",
    "128",
    "255",
    "256",
    "2**31 - 1",
    "2**31",
    "-2**31",
    "2**63 - 1",
    "2**63",
    "-2**63",
    "0.5",
    "-2.5",
    "-0.0",
    "1e-50",
    "1e40",
    "inf",
    "-inf",
    "nan",
]

_INT_LIMITS = {name: (int(np.iinfo(name).min), int(np.iinfo(name).max)) for name in INT_NAMES}


def values(rng: random.Random, shape: tuple, dtype: str, edges: bool = True, huge: bool = True) -> np.ndarray:
    """Small exactly representable values, and with `edges` the dtype's extremes, 0, -0.0,
    inf, NaN, 1e-50 and (with `huge`) +-1e40 now and then. Sums of huge finite values depend on
    the order of summation, so reductions leave them out."""
    size = int(np.prod(shape))
    out = []
    for _ in range(size):
        if dtype == "bool":
            out.append(rng.random() < 0.5)
        elif dtype in INT_NAMES:
            low, high = _INT_LIMITS[dtype]
            if edges and rng.random() < 0.15:
                out.append(rng.choice([low, high, 0, -1 if low < 0 else 1, low + 1 if low < 0 else 2]))
            else:
                out.append(rng.randint(max(low, -6), min(high, 9)))
        else:
            if edges and rng.random() < 0.15:
                extremes = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-50]
                out.append(rng.choice(extremes + ([1e40, -1e40] if huge else [])))
            else:
                out.append(rng.randint(-16, 16) / 4)
    numpy_dtype = {"bool": np.bool_, "bfloat16": np.float32}.get(dtype, dtype)
    with np.errstate(over="ignore"):  # 1e40 becomes inf in float16 and float32, as in both frameworks
        return np.array(out, dtype=numpy_dtype).reshape(shape)


def shape(rng: random.Random, max_rank: int = 3, max_size: int = 3, empty: bool = True) -> tuple:
    return tuple(
        rng.randint(0 if empty and rng.random() < 0.1 else 1, max_size) for _ in range(rng.randint(0, max_rank))
    )


def broadcast_partner(rng: random.Random, base: tuple) -> tuple:
    """A shape that broadcasts with `base`: some leading dims dropped, some set to 1."""
    kept = list(base[rng.randint(0, len(base)) :])
    return tuple(1 if rng.random() < 0.3 else n for n in kept)


BINARY = [
    "a + b",
    "a - b",
    "a * b",
    "a / b",
    "a // b",
    "a % b",
    "a ** b",
    "m.maximum(a, b)",
    "m.minimum(a, b)",
    "a == b",
    "a != b",
    "a < b",
    "a <= b",
    "a > b",
    "a >= b",
    "m.logical_and(a, b)",
    "m.logical_or(a, b)",
    "m.logical_xor(a, b)",
    "a & b",
    "a | b",
    "a ^ b",
    "m.where(a > b, a, b)",
    "a.add(b, alpha=2)",
    "a.sub(b, alpha=3)",
    "m.remainder(a, b)",
    "m.floor_divide(a, b)",
    "m.true_divide(a, b)",
]

WITH_SCALAR = [
    "a + s",
    "s + a",
    "a - s",
    "s - a",
    "a * s",
    "s * a",
    "a / s",
    "s / a",
    "a // s",
    "s // a",
    "a % s",
    "s % a",
    "a ** s",
    "s ** a",
    "a == s",
    "a != s",
    "a < s",
    "a >= s",
    "m.pow(a, s)",
    "m.remainder(a, s)",
    "m.clamp(a, min=s)",
    "m.clamp(a, max=s)",
    "m.where(a > 0, a, s)",
    "a.masked_fill(a > 0, s)",
    "m.full_like(a, s)",
    "a.add(s)",
    "a.mul(s)",
]

INPLACE_SCALAR = ["x += s", "x -= s", "x *= s", "x /= s", "x.add_(s)", "x.mul_(s)", "x.fill_(s)", "x.clamp_(min=s)"]

UNARY = [
    "-a",
    "a.abs()",
    "a.exp()",
    "a.log()",
    "a.sqrt()",
    "a.sin()",
    "a.cos()",
    "a.tanh()",
    "a.sigmoid()",
    "a.relu()",
    "a.floor()",
    "a.ceil()",
    "a.round()",
    "a.sign()",
    "a.reciprocal()",
    "a.rsqrt()",
    "a.expm1()",
    "a.log1p()",
    "a.erf()",
    "a.square()",
    "a.isnan()",
    "a.isfinite()",
    "m.logical_not(a)",
    "~a",
    "a.clamp(-1, 2)",
    "a.float()",
    "a.double()",
    "a.long()",
    "a.int()",
    "a.half()",
    "a.bool()",
    "a.to(m.uint8)",
    "a.to(m.int8)",
]

# float-only, differentiable, avoiding points where PyTorch's subgradient is a convention
UNARY_GRAD = [
    "-a",
    "a.exp()",
    "a.sin()",
    "a.cos()",
    "a.tanh()",
    "a.sigmoid()",
    "a.square()",
    "a.erf()",
    "a.expm1()",
    "(a * a + 1).log()",
    "(a * a + 1).sqrt()",
    "(a * a + 1).rsqrt()",
    "(a * a + 1).reciprocal()",
    "a.abs()",
    "a.relu()",
    "a.clamp(-1, 2)",
    "a ** 2",
    "a ** 3.0",
    "(a * a + 1) ** 0.5",
    "2.0 ** a",
    "a.double()",
    "a.float()",
]


def elementwise_binary(rng: random.Random, budget: int):
    for _ in range(budget):
        base = shape(rng)
        other = broadcast_partner(rng, base)
        if rng.random() < 0.5:
            base, other = other, base
        left, right = rng.choice(DTYPE_NAMES), rng.choice(DTYPE_NAMES)
        if rng.random() < 0.4:
            right = left
        grad = left in FLOAT_NAMES and right in FLOAT_NAMES and rng.random() < 0.4
        yield Case(
            "elementwise_binary",
            f"return {rng.choice(BINARY)}",
            [
                Input(values(rng, base, left, not grad), left, grad),
                Input(values(rng, other, right, not grad), right, grad),
            ],
            grad=grad,
        )


def elementwise_scalar(rng: random.Random, budget: int):
    """Every dtype with every scalar kind (in turn), each with a random op."""
    pairs = [(d, s) for d in DTYPE_NAMES for s in SCALARS]
    for i in range(budget):
        dtype, scalar = pairs[i % len(pairs)]
        data = values(rng, shape(rng), dtype)
        if rng.random() < 0.2:
            body = f"s = {scalar}; x = a.clone(); {rng.choice(INPLACE_SCALAR)}; return x"
        else:
            body = f"s = {scalar}; return {rng.choice(WITH_SCALAR)}"
        yield Case("elementwise_scalar", body, [Input(data, dtype)])


def elementwise_unary(rng: random.Random, budget: int):
    for _ in range(budget):
        if rng.random() < 0.35:
            dtype = rng.choice(FLOAT_NAMES)
            data = values(rng, shape(rng), dtype, edges=False)
            yield Case("elementwise_unary", f"return {rng.choice(UNARY_GRAD)}", [Input(data, dtype, True)], grad=True)
        else:
            dtype = rng.choice(DTYPE_NAMES)
            yield Case(
                "elementwise_unary", f"return {rng.choice(UNARY)}", [Input(values(rng, shape(rng), dtype), dtype)]
            )


REDUCTIONS = [
    "a.sum({dim})",
    "a.mean({dim})",
    "a.prod({dim})",
    "a.amax({dim})",
    "a.amin({dim})",
    "a.all({dim})",
    "a.any({dim})",
    "a.std({dim})",
    "a.var({dim})",
    "a.logsumexp({dim})",
]
SINGLE_DIM = [
    "a.max({dim})",
    "a.min({dim})",
    "a.argmax({dim})",
    "a.argmin({dim})",
    "a.cumsum({dim})",
    "a.softmax({dim})",
]


def dim_forms(rng: random.Random, ndim: int, single: bool) -> str:
    """A `dim=` argument in one of its forms: none, int, negative int, tuple, list, (), out of range,
    repeated; with `keepdim` now and then."""
    forms = []
    if ndim:
        forms += [str(rng.randrange(ndim)), str(-rng.randint(1, ndim))]
    if not single:
        forms += ["", "()", "[]"]
        if ndim:
            dims = rng.sample(range(-ndim, ndim), k=min(ndim, rng.randint(1, 2)))
            forms += [f"dim={tuple(dims)!r}", f"dim={list(dims)!r}"]
            if ndim >= 1:
                forms.append(f"dim=({dims[0]}, {dims[0]})")
    forms += [str(ndim), "-1" if ndim == 0 else str(-ndim - 1)]  # out of range (0-d: -1 and 0 are fine)
    dim = rng.choice(forms)
    if dim and rng.random() < 0.4:
        dim += ", keepdim=True"
    return dim


def reductions(rng: random.Random, budget: int):
    for _ in range(budget):
        base = shape(rng, max_rank=4)
        single = rng.random() < 0.35
        template = rng.choice(SINGLE_DIM if single else REDUCTIONS)
        dim = dim_forms(rng, len(base), single)
        if "cumsum" in template or "softmax" in template:
            dim = dim.split(",")[0] or "0"
        body = template.format(dim=dim)
        if "sum" in template and "cumsum" not in template and rng.random() < 0.2:
            body = body[:-1] + (", " if dim else "") + f"dtype=m.{rng.choice(['float64', 'int64', 'float32'])})"
        if ("std" in template or "var" in template) and dim and rng.random() < 0.4:
            body = body[:-1] + f", correction={rng.choice([0, 1, 2])})"
        dtype = rng.choice(DTYPE_NAMES)
        grad = dtype in ("float32", "float64") and rng.random() < 0.5 and "arg" not in template
        grad = grad and not any(op in template for op in ("all", "any"))
        data = values(rng, base, dtype, edges=not grad, huge=False)
        yield Case("reductions", f"return {body}", [Input(data, dtype, grad)], grad=grad)


def index_forms(rng: random.Random, shape_: tuple) -> str:
    """An index for a tensor of `shape_`: ints, negative ints, slices with steps, None, Ellipsis,
    boolean masks, integer lists and tensors, and combinations."""
    parts = []
    for size in shape_[: rng.randint(0, len(shape_))]:
        choice = rng.random()
        if choice < 0.25 and size:
            parts.append(str(rng.randint(-size, size - 1)))
        elif choice < 0.5:
            start = rng.choice(["", "1", "-1", "-2"])
            stop = rng.choice(["", "2", "-1", str(size + 3)])
            step = rng.choice(["", ":2", ":3"])
            parts.append(f"{start}:{stop}{step}")
        elif choice < 0.6:
            parts.append("None")
        elif choice < 0.75 and size:
            items = [rng.randint(-size, size - 1) for _ in range(rng.randint(1, 3))]
            parts.append(rng.choice([f"{items!r}", f"m.tensor({items!r})"]))
        elif choice < 0.85:
            mask = [rng.random() < 0.5 for _ in range(size)]
            parts.append(f"m.tensor({mask!r})")
        elif choice < 0.9:
            parts.append(str(size))  # out of range
        else:
            parts.append(":")
    if rng.random() < 0.15:
        parts.insert(rng.randint(0, len(parts)), "...")
    if not parts:
        return rng.choice(["...", "None", "()"])
    return ", ".join(parts)


def indexing(rng: random.Random, budget: int):
    for _ in range(budget):
        base = shape(rng, max_rank=3, max_size=4, empty=False)
        dtype = rng.choice(DTYPE_NAMES)
        index = index_forms(rng, base)
        grad = dtype in FLOAT_NAMES and rng.random() < 0.4
        if rng.random() < 0.5:
            if rng.random() < 0.3:
                mask = "a > 0" if dtype != "bool" else "a"
                index = mask
            yield Case(
                "indexing", f"return a[{index}]", [Input(values(rng, base, dtype, not grad), dtype, grad)], grad=grad
            )
            continue
        # setitem: a scalar, or a tensor that broadcasts to the selection
        if rng.random() < 0.5:
            value = rng.choice(SCALARS[:6] + ["0.5", "-2.5", "inf", "nan", "2**31", "-1"])
            body = f"x = a.clone() if not a.requires_grad else a * 1; x[{index}] = {value}; return x"
            yield Case("setitem", body, [Input(values(rng, base, dtype, not grad), dtype, grad)], grad=grad)
        else:
            other_dtype = dtype if rng.random() < 0.7 else rng.choice(DTYPE_NAMES)
            source = shape(rng, max_rank=2, max_size=2, empty=False)
            grad = grad and other_dtype in FLOAT_NAMES
            body = f"x = a.clone() if not a.requires_grad else a * 1; x[{index}] = b; return x"
            yield Case(
                "setitem",
                body,
                [
                    Input(values(rng, base, dtype, not grad), dtype, grad),
                    Input(values(rng, source, other_dtype, not grad), other_dtype, grad),
                ],
                grad=grad,
            )


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 2)),
    ((4, 2, 3), (3,)),
    ((3,), (2, 3, 4)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),
    ((2, 3), (4, 2)),  # mismatched: both must refuse
    ((), (3,)),
    ((3,), (4,)),
]


def matmul(rng: random.Random, budget: int):
    for _ in range(budget):
        left_shape, right_shape = rng.choice(MATMUL_SHAPES)
        left = rng.choice(["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool"])
        right = left if rng.random() < 0.8 else rng.choice(DTYPE_NAMES)
        grad = left in FLOAT_NAMES and right in FLOAT_NAMES and rng.random() < 0.5
        body = rng.choice(["return a @ b", "return m.matmul(a, b)", "return a.matmul(b)"])
        yield Case(
            "matmul",
            body,
            [
                Input(values(rng, left_shape, left, not grad), left, grad),
                Input(values(rng, right_shape, right, not grad), right, grad),
            ],
            grad=grad,
        )


VIEWS = [
    "x[1:]",
    "x[:, 0]",
    "x[..., ::2]",
    "x.T",
    "x.transpose(0, 1)",
    "x.reshape(-1)",
    "x.view(-1)",
    "x[0]",
    "x.unsqueeze(0)",
    "x.permute(1, 0)",
    "x[:, 1:]",
    "x.squeeze()",
    "x.flatten()",
    "x.expand(2, 3, 4)[0]",
]
INPLACE_ON_VIEW = [
    "v.add_(b)",
    "v.mul_(b)",
    "v.sub_(b)",
    "v.div_(b)",
    "v.zero_()",
    "v.fill_(2.5)",
    "v.copy_(b)",
    "v.clamp_(-1, 1)",
    "v += b",
    "v *= 2",
    "v.neg_()",
    "v.exp_()",
    "v.relu_()",
]


def inplace_on_views(rng: random.Random, budget: int):
    for _ in range(budget):
        dtype = rng.choice(["float32", "float64", "float32", "int64", "int32", "float16"])
        grad = dtype in ("float32", "float64") and rng.random() < 0.6
        view = rng.choice(VIEWS)
        operation = rng.choice(INPLACE_ON_VIEW)
        returned = rng.choice(["x", "v", "(x, v)", "x.sum()"])
        body = f"x = a * 1 if a.requires_grad else a.clone(); v = {view}; {operation}; return {returned}"
        other_shape = rng.choice([(), (1,), (4,), (3, 4), (2,), (3,)])
        yield Case(
            "inplace_on_views",
            body,
            [
                Input(values(rng, (3, 4), dtype, not grad, huge=False), dtype, grad),
                Input(values(rng, other_shape, dtype, not grad, huge=False), dtype, grad),
            ],
            grad=grad,
        )


# family -> (generator, cases in the default run)
FAMILIES = {
    "elementwise_binary": (elementwise_binary, 1200),
    "elementwise_scalar": (elementwise_scalar, 960),  # 4 times every (dtype, scalar) pair
    "elementwise_unary": (elementwise_unary, 600),
    "reductions": (reductions, 900),
    "indexing": (indexing, 800),
    "matmul": (matmul, 250),
    "inplace_on_views": (inplace_on_views, 500),
}


def generate(family: str, seed: int, scale: float = 1.0) -> list[Case]:
    generator, budget = FAMILIES[family]
    rng = random.Random(f"{seed}:{family}")
    return list(generator(rng, max(1, int(budget * scale))))
