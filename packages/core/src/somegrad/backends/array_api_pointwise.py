"""Array API kernels for elementwise math; merged into the shared table by `array_api_kernels`.

The trigonometric, hyperbolic and logarithmic primitives of `somegrad.ops.pointwise`, each one
call of the standard (`xp.asin`; libraries that predate the standard's names, such as older
CuPy, have them as `arcsin`)."""

from __future__ import annotations

# the kernels whose float16/bfloat16 inputs a backend should compute in float32, and those
# whose results can be inf or NaN from finite inputs (the numpy backend silences its warnings)
FLOAT_MATH: frozenset[str] = frozenset(
    {
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "asinh",
        "acosh",
        "atanh",
        "log2",
        "log10",
        "hypot",
        "logaddexp",
        "copysign",
        "trunc",
    }
)
QUIET: frozenset[str] = FLOAT_MATH - {"copysign", "trunc"}

# the standard's name, and the one NumPy 1 and CuPy knew it by
_NAMES = {
    "tan": ("tan", "tan"),
    "asin": ("asin", "arcsin"),
    "acos": ("acos", "arccos"),
    "atan": ("atan", "arctan"),
    "sinh": ("sinh", "sinh"),
    "cosh": ("cosh", "cosh"),
    "asinh": ("asinh", "arcsinh"),
    "acosh": ("acosh", "arccosh"),
    "atanh": ("atanh", "arctanh"),
    "log2": ("log2", "log2"),
    "log10": ("log10", "log10"),
    "hypot": ("hypot", "hypot"),
    "logaddexp": ("logaddexp", "logaddexp"),
    "copysign": ("copysign", "copysign"),
    "trunc": ("trunc", "trunc"),
}


def kernels(xp, native) -> dict:
    """{op name: kernel} over the Array API namespace `xp`."""
    table = {}
    for op, (standard, older) in _NAMES.items():
        kernel = getattr(xp, standard, None) or getattr(xp, older, None)
        if kernel is not None:
            table[op] = kernel
    return table
