"""Elementwise ops: unary math, binary arithmetic, comparisons, `where`, casts, activations.

Each op is one declaration; its derivative sits beside it. The public functions below the
declarations own PyTorch's semantics (Python scalars, type promotion inserted as explicit
casts, integer inputs of float-only math promoted to the default float) and call `apply`.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import ArgumentError, UnsupportedDTypeError
from somegrad.ops.dispatch import apply, backward_op
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import OpSpec, register
from somegrad.tensor import Tensor


def _same(x, **params):
    return x.shape, x.dtype


def _to_bool(x, **params):
    return x.shape, dtypes.bool_


def unary(name, backward=None, *, decompose=None, explicit=False, infer=_same, doc=""):
    return register(OpSpec(name, "elementwise", ("x",), infer, backward, decompose, explicit, doc=doc))


def _broadcast_infer(name, out_dtype=None):
    def infer(*inputs):
        shape = broadcast_shapes(name, *(t.shape for t in inputs))
        return shape, out_dtype or inputs[-1].dtype

    return infer


def binary(name, backward=None, *, out_dtype=None, decompose=None, explicit=False):
    return register(
        OpSpec(name, "elementwise", ("a", "b"), _broadcast_infer(name, out_dtype), backward, decompose, explicit)
    )


def _zeros(g):
    return g.zeros_like()


# --- unary primitives -------------------------------------------------------------------
NEG = unary("neg", lambda g: -g)
EXP = unary("exp", lambda g, out: g * out)
LOG = unary("log", lambda g, x: g / x)
LOG1P = unary("log1p", lambda g, x: g / (x + 1))
EXPM1 = unary("expm1", lambda g, out: g * (out + 1))
SQRT = unary("sqrt", lambda g, out: g / (out * 2))
ABS = unary("abs", lambda g, x: g * x.sign())
SIGN = unary("sign", _zeros)
SIN = unary("sin", lambda g, x: g * x.cos())
COS = unary("cos", lambda g, x: -g * x.sin())
TANH = unary("tanh", lambda g, out: g * (1 - out * out))


def _erf(x):
    # Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7): good enough for float32
    # and below; backends provide an exact kernel for float64 (the NumPy one does).
    t = 1 / (1 + 0.3275911 * x.abs())
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return x.sign() * (1 - poly * (-x * x).exp())


ERF = register(
    OpSpec(
        "erf",
        "elementwise",
        ("x",),
        _same,
        lambda g, x: g * (2 / math.sqrt(math.pi)) * (-x * x).exp(),
        _erf,
        True,
        decomposition_tolerance=1.5e-7,
    )
)

FLOOR = unary("floor", _zeros)
CEIL = unary("ceil", _zeros)
ROUND = unary("round", _zeros, doc="Round half to even, like PyTorch.")
LOGICAL_NOT = unary("logical_not", infer=_to_bool)
ISFINITE = unary("isfinite", infer=_to_bool)

# --- binary primitives ------------------------------------------------------------------
# The binary rules compute a gradient only for an input that needs one (`needs`, the
# engine's needs_input_grad): in `x * w` with a constant w, the product for w is never formed.
ADD = binary("add", lambda g: (g, g))
SUB = binary("sub", lambda g, needs_input_grad: (g, -g if needs_input_grad[1] else None))


def _mul_backward(g, a, b, needs_input_grad):
    return (g * b if needs_input_grad[0] else None, g * a if needs_input_grad[1] else None)


def _div_backward(g, b, out, needs_input_grad):
    return (g / b if needs_input_grad[0] else None, -g * out / b if needs_input_grad[1] else None)


def _pow_backward(g, a, b, out, needs_input_grad):
    # d/da a**b = b * a**(b - 1), taken as 0 where b == 0 (at a == 0 the formula is 0 * inf);
    # d/db a**b = a**b * log(a), taken as 0 where a == 0 and b >= 0 (both as PyTorch does).
    da = where(b == 0, 0.0, g * b * a ** (b - 1)) if needs_input_grad[0] else None
    db = where((a == 0) & (b >= 0), g.zeros_like(), g * out * a.log()) if needs_input_grad[1] else None
    return da, db


def _extremum_backward(first_wins):
    # Ties send half of the gradient to each side, as PyTorch does.
    def backward(g, a, b, needs_input_grad):
        tie = (a == b) * 0.5
        da = g * (first_wins(a, b) + tie) if needs_input_grad[0] else None
        db = g * (first_wins(b, a) + tie) if needs_input_grad[1] else None
        return da, db

    return backward


MUL = binary("mul", _mul_backward)
DIV = binary("div", _div_backward)
_IN_FLOAT32_WITH_SCALARS = (MUL, DIV)  # see _inexact_scalar
POW = binary("pow", _pow_backward)
MAXIMUM = binary("maximum", _extremum_backward(lambda a, b: a > b))
MINIMUM = binary("minimum", _extremum_backward(lambda a, b: a < b))
FLOOR_DIVIDE = binary("floor_divide", lambda g: (g.zeros_like(), g.zeros_like()))
REMAINDER = binary("remainder", lambda g, a, b: (g, -g * floor_divide(a, b)))
EQ = binary("eq", out_dtype=dtypes.bool_)
NE = binary("ne", out_dtype=dtypes.bool_)
LT = binary("lt", out_dtype=dtypes.bool_)
LE = binary("le", out_dtype=dtypes.bool_)
GT = binary("gt", out_dtype=dtypes.bool_)
GE = binary("ge", out_dtype=dtypes.bool_)
LOGICAL_AND = binary("logical_and", out_dtype=dtypes.bool_)
LOGICAL_OR = binary("logical_or", out_dtype=dtypes.bool_)
LOGICAL_XOR = binary("logical_xor", out_dtype=dtypes.bool_)

WHERE = register(
    OpSpec(
        "where",
        "elementwise",
        ("condition", "a", "b"),
        _broadcast_infer("where"),
        lambda g, condition: (None, where(condition, g, 0.0), where(condition, 0.0, g)),
    )
)


def _cast_infer(x, dtype):
    return x.shape, dtype


# The engine casts each gradient back to its input's dtype, so the backward is the identity.
CAST = register(OpSpec("cast", "elementwise", ("x",), _cast_infer, lambda g: g))

# --- explicit composites: one node, a stable backward, a fused kernel where a backend has one
SIGMOID = unary(
    "sigmoid",
    lambda g, out: g * out * (1 - out),
    decompose=lambda x: 1 / (1 + (-x).exp()),
    explicit=True,
)


def _relu_grad(g, out):
    return g * (out > 0)


def _relu_backward(g, out):
    # The fused op (one pass, no bool-to-float cast) when no graph is recorded.
    return backward_op(RELU_BACKWARD, (g, out), {}, _relu_grad)


RELU = unary("relu", _relu_backward, decompose=lambda x: maximum(x, 0.0), explicit=True)
RELU_BACKWARD = register(
    OpSpec(
        "relu_backward",
        "elementwise",
        ("g", "out"),
        lambda g, out: (out.shape, out.dtype),
        None,
        _relu_grad,
        True,
        doc="The input gradient of relu from its output: g where out > 0, else 0; g and out of one shape.",
    )
)


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + inner.tanh())
    return 0.5 * x * (1 + (x * (1 / math.sqrt(2))).erf())


def _gelu_grad(g, x, approximate):
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = ((x + 0.044715 * x * x * x) * k).tanh()
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
    cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
    pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
    return g * (cdf + x * pdf)


def _gelu_backward(g, x, approximate):
    return backward_op(GELU_BACKWARD, (g, x), {"approximate": approximate}, _gelu_grad)


def _gelu_infer(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return x.shape, x.dtype


GELU = register(
    OpSpec("gelu", "elementwise", ("x",), _gelu_infer, _gelu_backward, _gelu, True, decomposition_tolerance=1.5e-7)
)
GELU_BACKWARD = register(
    OpSpec(
        "gelu_backward",
        "elementwise",
        ("g", "x"),
        lambda g, x, approximate: (x.shape, x.dtype),
        None,
        _gelu_grad,
        True,
        decomposition_tolerance=1.5e-7,
        doc="The input gradient of gelu, g * d gelu(x) / dx; g and x of one shape.",
    )
)
SILU = unary(
    "silu",
    lambda g, x: g * (x.sigmoid() * (1 + x * (1 - x.sigmoid()))),
    decompose=lambda x: x * x.sigmoid(),
    explicit=True,
)


def _softplus(x, beta=1.0, threshold=20.0):
    # log(1 + exp(bx)) / b, computed as max(bx, 0) + log1p(exp(-|bx|)) to avoid overflow,
    # and the identity above `threshold` as PyTorch does.
    bx = x * beta
    stable = (maximum(bx, 0.0) + (-bx.abs()).exp().log1p()) / beta
    return where(bx > threshold, x, stable)


SOFTPLUS = unary(
    "softplus",
    lambda g, x, beta, threshold: where(x * beta > threshold, g, g * (x * beta).sigmoid()),
    decompose=_softplus,
    explicit=True,
)
LEAKY_RELU = unary(
    "leaky_relu",
    lambda g, x, negative_slope: where(x > 0, g, g * negative_slope),
    decompose=lambda x, negative_slope=0.01: where(x > 0, x, x * negative_slope),
    explicit=True,
)


def _clamp_infer(x, min=None, max=None):
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    return x.shape, x.dtype


def _clamp(x, min=None, max=None):
    if min is not None:
        x = maximum(x, min)
    if max is not None:
        x = minimum(x, max)
    return x


def _clamp_backward(g, x, min, max):
    inside = g.ones_like().to(dtypes.bool_)
    if min is not None:
        inside = inside & (x >= min)
    if max is not None:
        inside = inside & (x <= max)
    return where(inside, g, 0.0)


CLAMP = register(OpSpec("clamp", "elementwise", ("x",), _clamp_infer, _clamp_backward, _clamp, explicit=True))


# --- the public functions -----------------------------------------------------------------
_scalars: dict = {}


def scalar_tensor(value, dtype, device):
    """A 0-d tensor holding the Python scalar `value` (an operand of an op, never handed to
    users, so the same one is reused: `x * 2.0` allocates no new constant each time)."""
    key = (type(value), value, dtype, device)
    cached = _scalars.get(key)
    if cached is None:
        from somegrad.ops.creation import constant

        if len(_scalars) > 4096:
            _scalars.clear()
        cached = _scalars[key] = constant((), value, dtype, device)
    return cached


class _Dimensioned:
    """What a NumPy array operand counts as in type promotion: PyTorch makes a tensor of it
    that takes part as a tensor with dimensions, even when it is 0-d (`float32_tensor +
    np.array(1.0)` is float64)."""

    ndim = 1

    def __init__(self, dtype):
        self.dtype = dtype


def _operand(op, v, device):
    """A Tensor, a Python number, or None for what an elementwise op does not take. NumPy
    scalars count as the Python numbers they hold (a NumPy bool as a float, as in PyTorch);
    NumPy arrays become tensors on `device`."""
    if isinstance(v, Tensor) or type(v) in (bool, int, float):
        return v
    number = dtypes.python_number(v)
    if number is not None:
        return float(number) if isinstance(number, bool) else number
    if type(v).__name__ == "ndarray" and device is not None:
        from somegrad.ops.creation import tensor

        return tensor(v, device=device)
    return None


def _promotion_stand_in(original, converted):
    return (
        _Dimensioned(converted.dtype)
        if isinstance(converted, Tensor) and not isinstance(original, Tensor)
        else converted
    )


def _operands(op, *values, out_dtype=None, compute_dtype=None):
    """Tensors of one dtype for an elementwise op over tensors and Python numbers (NumPy
    scalars and arrays too): the result dtype by PyTorch's promotion, or `compute_dtype`."""
    device = next((v.device for v in values if isinstance(v, Tensor)), None)
    converted = [_operand(op, v, device) for v in values]
    for v, c in zip(values, converted):
        if c is None:
            raise TypeError(f"{op}: expected a Tensor or a Python number, got {type(v).__name__}")
    dtype = compute_dtype or out_dtype or dtypes.result_type(*map(_promotion_stand_in, values, converted))
    result = []
    for v in converted:
        if not isinstance(v, Tensor):
            v = scalar_tensor(v, dtype, device)
        elif v.dtype is not dtype:
            v = cast(v, dtype)
        result.append(v)
    return result


_LOW_PRECISION = (dtypes.float16, dtypes.bfloat16)


def _inexact_scalar(dtype, *values):
    """Whether a Python number among `values` is not exactly a value of the low precision
    `dtype`: PyTorch's add, sub, mul and div then compute in float32 (the scalar there as a
    float32) and round once, so `float16_zeros * 2**31` is 0, not 0 * inf = NaN. For a scalar
    that `dtype` holds exactly, float32 then rounding gives the same bits as float16 itself."""
    return any(
        not isinstance(v, Tensor)
        and (number := dtypes.python_number(v)) is not None
        and not dtypes.exactly_representable(number, dtype)
        for v in values
    )


def _binary(spec, a, b, out_dtype=None):
    if type(a) is Tensor and type(b) is Tensor and a.dtype is b.dtype and out_dtype is None:
        return apply(spec, (a, b), {})
    operands = _operands(spec.name, a, b, out_dtype=out_dtype)
    dtype = operands[0].dtype
    if dtype in _LOW_PRECISION and spec in _IN_FLOAT32_WITH_SCALARS and _inexact_scalar(dtype, a, b):
        wide = _operands(spec.name, a, b, compute_dtype=dtypes.float32)
        return cast(apply(spec, tuple(wide), {}), dtype)
    return apply(spec, tuple(operands), {})


def _floating(x):
    """Integer and bool inputs of float-only math become the default float dtype."""
    return x if x.dtype.is_floating_point else cast(x, dtypes.get_default_dtype())


def cast(x, dtype):
    """`x` converted to `dtype` (differentiable between floating dtypes)."""
    if x.dtype is dtype:
        return x
    return apply(CAST, (x,), {"dtype": dtype})


def _times_alpha(op, a, b, alpha):
    """`b * alpha` in the dtype that `a` and `b` promote to: alpha takes no part in promotion
    and is not applied in b's own dtype first (as PyTorch: `float64 - int32 * 3` does not wrap)."""
    dtype = dtypes.result_type(*(v if isinstance(v, Tensor) else _operand(op, v, None) for v in (a, b)))
    if isinstance(alpha, float) and not dtype.is_floating_point:
        raise ArgumentError(f"{op}: for integral input tensors, argument alpha must not be a floating point number")
    if not isinstance(b, Tensor):
        b = _operands(op, a, b)[1]
    return cast(mul(cast(b, dtype), alpha), dtype)


def add(a, b, *, alpha=1):
    """`a + alpha * b`, broadcasting."""
    return _binary(ADD, a, b if alpha == 1 else _times_alpha("add", a, b, alpha))


def _is_bool(v):
    return v.dtype is dtypes.bool_ if isinstance(v, Tensor) else isinstance(v, bool)


def sub(a, b, *, alpha=1):
    """`a - alpha * b`, broadcasting. Not for bool operands (as in PyTorch)."""
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(
            "sub: subtraction, the `-` operator, with a bool operand is not supported; use `^` or "
            "logical_xor() (or `~` / logical_not() to invert a mask)"
        )
    return _binary(SUB, a, b if alpha == 1 else _times_alpha("sub", a, b, alpha))


def mul(a, b):
    """`a * b`, broadcasting, with PyTorch's type promotion (Python numbers allowed on either side)."""
    return _binary(MUL, a, b)


def div(a, b, *, rounding_mode=None):
    """True division (integers give the default float dtype), or floor/trunc division."""
    if rounding_mode not in (None, "floor", "trunc"):
        raise ArgumentError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        q = div(a, b)
        # rounded toward zero, then back to the operands' dtype (integers stay integers)
        return cast(where(q < 0, q.ceil(), q.floor()), dtypes.result_type(a, b))
    dtype = dtypes.result_type(a, b)
    return _binary(DIV, a, b, out_dtype=dtype if dtype.is_floating_point else dtypes.get_default_dtype())


def pow(a, b):
    """`a ** b`; a Python number for `b` is the common, cheaper case. Integers to negative
    integer powers are refused (PyTorch refuses them for a number; for a tensor exponent it
    returns 0 or ±1)."""
    device = next((v.device for v in (a, b) if isinstance(v, Tensor)), None)
    a, b = (
        v if isinstance(v, Tensor) or _operand("pow", v, device) is None else _operand("pow", v, device) for v in (a, b)
    )
    dtype = dtypes.result_type(a, b)
    if dtype is dtypes.bool_:
        # a ** b of booleans is 1 except 0 ** 1, and stays bool (as in PyTorch)
        return logical_or(a, (not b) if isinstance(b, bool) else logical_not(b))
    if not dtype.is_floating_point:
        negative = b < 0 if isinstance(b, (bool, int)) else bool((b < 0).any())
        if negative:
            raise RuntimeError("pow: integers to negative integer powers are not allowed; use a float base")
    if dtype is dtypes.float32 and isinstance(b, float) and not dtypes.exactly_representable(b, dtype):
        # PyTorch raises float32 to a Python float exponent in double precision: 1e-50 is not 0
        # there, and `tensor([0., 2.]) ** 1e-50` is [0, 1].
        return cast(_binary(POW, cast(a, dtypes.float64), b), dtype)
    return _binary(POW, a, b)


def maximum(a, b):
    """Elementwise maximum of `a` and `b`, broadcasting; at ties each side gets half the gradient, as in PyTorch."""
    return _binary(MAXIMUM, a, b)


def minimum(a, b):
    """Elementwise minimum of `a` and `b`, broadcasting; at ties each side gets half the gradient, as in PyTorch."""
    return _binary(MINIMUM, a, b)


def _check_integer_divisor(op, a, b):
    # Float division by zero gives inf or NaN; integer division by zero is an error, as in
    # PyTorch (NumPy would return 0).
    dtype = dtypes.result_type(a, b)
    if dtype is dtypes.bool_:
        raise RuntimeError(f"{op}: not supported for bool operands; convert them with .int()")
    if not dtype.is_floating_point:
        zero = b == 0 if isinstance(b, (bool, int)) else bool((b == 0).any())
        if zero:
            raise RuntimeError(f"{op}: integer division by zero")


def floor_divide(a, b):
    """`a // b` rounded toward negative infinity (Python's `//`, PyTorch's current `floor_divide`).

    Broadcasts; the gradient is zero. Integer division by zero and bool operands raise RuntimeError.
    For example, `sg.floor_divide(sg.tensor([-7, 7]), 2)` is `tensor([-4, 3])`."""
    _check_integer_divisor("floor_divide", a, b)
    return _binary(FLOOR_DIVIDE, a, b)


def remainder(a, b):
    """Python's modulo: the result has the sign of `b`, like PyTorch's `remainder`."""
    _check_integer_divisor("remainder", a, b)
    return _binary(REMAINDER, a, b)


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
    compare.__doc__ = f"Elementwise `{spec.name}` comparison, broadcasting; returns a bool tensor."
    return compare


eq, ne, lt, le, gt, ge = (_compare(s) for s in (EQ, NE, LT, LE, GT, GE))


def _logical(spec):
    def logical(a, b):
        return apply(spec, tuple(_operands(spec.name, a, b, out_dtype=dtypes.bool_)), {})

    logical.__name__ = spec.name
    logical.__doc__ = (
        f"Elementwise `{spec.name}` of `a` and `b` (nonzero is true), broadcasting; returns a bool tensor."
    )
    return logical


logical_and, logical_or, logical_xor = (_logical(s) for s in (LOGICAL_AND, LOGICAL_OR, LOGICAL_XOR))


def logical_not(x):
    """Elementwise logical not (nonzero is true); returns a bool tensor of the same shape."""
    return apply(LOGICAL_NOT, (x,), {})


def where(condition, a, b):
    """`a` where `condition` is true, else `b`, broadcasting all three."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: condition must be a bool Tensor, got {type(condition).__name__}")
    if condition.dtype is not dtypes.bool_:
        condition = cast(condition, dtypes.bool_)
    a_in, b_in = a, b
    a, b = _operands("where", a, b)
    for given, operand in ((a_in, a), (b_in, b)):
        if not isinstance(given, Tensor) and type(given).__name__ != "ndarray":
            from somegrad.ops.creation import check_assigned_value

            # a number must fit the result (`where(mask, int8_x, 1000)` raises, as in PyTorch)
            check_assigned_value("where", dtypes.python_number(given), operand.dtype)
    return apply(WHERE, (condition, a, b), {})


def _unary_float(spec):
    def fn(x):
        return apply(spec, (_floating(x),), {})

    fn.__name__ = spec.name
    fn.__doc__ = f"Elementwise `{spec.name}` (integer inputs give the default float dtype)."
    return fn


exp, log, log1p, expm1, sqrt, sin, cos, tanh, erf, sigmoid, silu = (
    _unary_float(s) for s in (EXP, LOG, LOG1P, EXPM1, SQRT, SIN, COS, TANH, ERF, SIGMOID, SILU)
)


def _unary_same(spec):
    def fn(x):
        return apply(spec, (x,), {})

    fn.__name__ = spec.name
    fn.__doc__ = f"Elementwise `{spec.name}`, keeping the dtype."
    return fn


abs, sign, relu = (_unary_same(s) for s in (ABS, SIGN, RELU))


def neg(x):
    """`-x`, keeping the dtype. Not for bool tensors (as in PyTorch)."""
    if x.dtype is dtypes.bool_:
        raise RuntimeError(
            "neg: negation, the `-` operator, on a bool tensor is not supported; to invert a mask, use "
            "`~` or logical_not()"
        )
    return apply(NEG, (x,), {})


def _rounding(spec):
    def fn(x):
        return x if not x.dtype.is_floating_point else apply(spec, (x,), {})

    fn.__name__ = spec.name
    fn.__doc__ = f"Elementwise `{spec.name}`, keeping the dtype; integer and bool tensors come back unchanged."
    return fn


floor, ceil = _rounding(FLOOR), _rounding(CEIL)


def round(x, decimals=0):
    """Round half to even; with `decimals`, to that many decimal places."""
    if not x.dtype.is_floating_point:
        return x
    if decimals:
        scale = 10.0**decimals
        return apply(ROUND, (x * scale,), {}) / scale
    return apply(ROUND, (x,), {})


def isfinite(x):
    """True where `x` is neither inf nor NaN; returns a bool tensor of the same shape."""
    return apply(ISFINITE, (x,), {})


def isnan(x):
    """True where `x` is NaN (computed as `x != x`); returns a bool tensor of the same shape."""
    return ne(x, x)


def reciprocal(x):
    """`1 / x` elementwise (integer inputs give the default float dtype)."""
    return div(1.0, x) if x.dtype.is_floating_point else div(1.0, _floating(x))


def rsqrt(x):
    """`1 / sqrt(x)` elementwise (integer inputs give the default float dtype)."""
    return reciprocal(sqrt(x))


def square(x):
    """`x * x` elementwise, keeping the dtype; bool tensors give int64 (as `x ** 2` does in PyTorch)."""
    if x.dtype is dtypes.bool_:
        x = cast(x, dtypes.int64)
    return mul(x, x)


def gelu(x, approximate="none"):
    """GELU, exact (`approximate="none"`, with erf) or the tanh approximation."""
    return apply(GELU, (_floating(x),), {"approximate": approximate})


def softplus(x, beta=1.0, threshold=20.0):
    """`log(1 + exp(beta * x)) / beta`, computed stably; `x` itself where `beta * x > threshold`, as in PyTorch.

    Integer inputs give the default float dtype."""
    return apply(SOFTPLUS, (_floating(x),), {"beta": beta, "threshold": threshold})


def leaky_relu(x, negative_slope=0.01):
    """`x` where `x > 0`, else `negative_slope * x`, keeping the shape and dtype."""
    return apply(LEAKY_RELU, (x,), {"negative_slope": negative_slope})


def clamp(x, min=None, max=None):
    """Limit `x` to [min, max]; bounds may be numbers or tensors (tensors broadcast)."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            x = maximum(x, min)
        if max is not None:
            x = minimum(x, max)
        return x
    bounds = {}
    for name, bound in (("min", min), ("max", max)):
        number = dtypes.python_number(bound) if bound is not None else None
        if bound is not None and number is None:
            raise TypeError(f"clamp: {name} must be a number or a Tensor, got {type(bound).__name__}")
        bounds[name] = number
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    # The result dtype is the promotion of x and the bounds (bool with an int bound: int64,
    # an integer tensor with a float bound: the default float), and each bound must fit it.
    dtype = dtypes.result_type(x, *(b for b in bounds.values() if b is not None))
    if dtype is dtypes.bool_:
        raise UnsupportedDTypeError("clamp: not implemented for bool tensors with bool bounds")
    for name, bound in bounds.items():
        if bound is not None:
            dtypes.check_value_fits("clamp", bound, dtype)
            if dtype is dtypes.uint8 and bound < 0:
                bounds[name] = bound + 256  # wraps, as PyTorch's conversion does
    return apply(CLAMP, (cast(x, dtype),), bounds)


def lerp(start, end, weight):
    """`start + weight * (end - start)`."""
    return add(start, mul(sub(end, start), weight))
