"""Comparisons, logical ops, `isfinite`/`isnan` and `where`: the elementwise ops that give or
take bool tensors, declared as the arithmetic in `somegrad.ops.elementwise` is (on whose
operand helpers they build)."""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import DTypeError
from somegrad.ops.dispatch import apply
from somegrad.ops.operands import _LOW_PRECISION, _broadcast_infer, _operand, _operands, _to_bool, binary, cast, unary
from somegrad.ops.spec import BOOL, REAL, OpSpec, public, register
from somegrad.tensor import Tensor

__all__ = [
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "isfinite",
    "isnan",
    "where",
]

LOGICAL_NOT = unary("logical_not", infer=_to_bool)
ISFINITE = unary("isfinite", infer=_to_bool)
ISNAN = unary("isnan", infer=_to_bool, decompose=lambda x: ne(x, x), doc="NaN is the one value unequal to itself.")
EQ = binary("eq", out_dtype=dtypes.bool_)
NE = binary("ne", out_dtype=dtypes.bool_)
LT = binary("lt", out_dtype=dtypes.bool_, accepts=REAL)
LE = binary("le", out_dtype=dtypes.bool_, accepts=REAL)
GT = binary("gt", out_dtype=dtypes.bool_, accepts=REAL)
GE = binary("ge", out_dtype=dtypes.bool_, accepts=REAL)
LOGICAL_AND = binary("logical_and", out_dtype=dtypes.bool_, accepts=BOOL)
LOGICAL_OR = binary("logical_or", out_dtype=dtypes.bool_, accepts=BOOL)
LOGICAL_XOR = binary("logical_xor", out_dtype=dtypes.bool_, accepts=BOOL)

WHERE = register(
    OpSpec(
        "where",
        "elementwise",
        ("condition", "a", "b"),
        _broadcast_infer("where"),
        lambda g, condition: (None, where(condition, g, 0.0), where(condition, 0.0, g)),
        accepts={"condition": BOOL},
    )
)


_COMPARISON_ALIASES = {"lt": ("less",), "le": ("less_equal",), "gt": ("greater",), "ge": ("greater_equal",)}


def _compare(spec):
    def compare(a, b):
        if type(a) is Tensor and type(b) is Tensor and a.dtype is b.dtype:
            return apply(spec, (a, b), {})
        device = a.device if isinstance(a, Tensor) else getattr(b, "device", None)
        for v in (a, b):
            if _operand(spec.name, v, device) is None:
                return NotImplemented  # lets `tensor == "text"` fall back to False
        return apply(spec, tuple(_operands(spec.name, a, b)), {})

    compare.__name__ = spec.name
    compare.__qualname__ = spec.name
    compare.__doc__ = f"Elementwise `{spec.name}` comparison, broadcasting; returns a bool tensor."
    operators = (f"__{spec.name}__",)
    return public(spec, methods=True, operators=operators, aliases=_COMPARISON_ALIASES.get(spec.name, ()))(compare)


eq, ne, lt, le, gt, ge = (_compare(s) for s in (EQ, NE, LT, LE, GT, GE))


def _logical(spec):
    def logical(a, b):
        return apply(spec, tuple(_operands(spec.name, a, b, out_dtype=dtypes.bool_)), {})

    logical.__name__ = spec.name
    logical.__qualname__ = spec.name
    logical.__doc__ = (
        f"Elementwise `{spec.name}` of `a` and `b` (nonzero is true), broadcasting; returns a bool tensor."
    )
    return public(spec, methods=True)(logical)


logical_and, logical_or, logical_xor = (_logical(s) for s in (LOGICAL_AND, LOGICAL_OR, LOGICAL_XOR))


@public(LOGICAL_NOT, methods=True)
def logical_not(x):
    """Elementwise logical not (nonzero is true); returns a bool tensor of the same shape."""
    return apply(LOGICAL_NOT, (x,), {})


def _where_method(self, condition, other):
    """`self` where `condition` is true, else `other`, broadcasting: `x.where(mask, 0.0)`."""
    return where(condition, self, other)


@public(WHERE, methods=[("where", _where_method)])
def where(condition, a, b):
    """`a` where `condition` is true, else `b`, broadcasting all three."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: condition must be a bool Tensor, got {type(condition).__name__}")
    if condition.dtype is dtypes.uint8:  # PyTorch's legacy byte masks
        condition = cast(condition, dtypes.bool_)
    elif condition.dtype is not dtypes.bool_:
        raise DTypeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype.name}"
        )
    a_in, b_in = a, b
    a, b = _operands("where", a, b)
    for given, operand in ((a_in, a), (b_in, b)):
        # A number must fit the result (`where(mask, int8_x, 1000)` raises, as in PyTorch); float16
        # and bfloat16 take any (too large ones become inf), as PyTorch's assignment does.
        if not isinstance(given, Tensor) and operand.dtype not in _LOW_PRECISION:
            number = dtypes.python_number(given)
            if number is not None:
                dtypes.check_value_fits("where", number, operand.dtype)
    return apply(WHERE, (condition, a, b), {})


@public(ISFINITE, methods=True)
def isfinite(x):
    """True where `x` is neither inf nor NaN; returns a bool tensor of the same shape."""
    return apply(ISFINITE, (x,), {})


@public(ISNAN, methods=True)
def isnan(x):
    """True where `x` is NaN; returns a bool tensor of the same shape."""
    return apply(ISNAN, (x,), {})
