"""`OpSpec`: an operation declared once, as data.

An op spec says what an operation is, independently of any backend:

* `name` and `kind` ("elementwise", "reduce", "movement", "index", "matmul", "creation",
  "random", "composite", "foreach": a multi-tensor in-place step over lists of tensors, such
  as an optimizer's update of a parameter group, with no backward and the per-tensor path as
  its decomposition);
* `inputs`: the names of its tensor inputs (`("x",)`, `("a", "b")`; `("*tensors",)` for
  variadic ops such as `cat`);
* `infer(*inputs, **params) -> (shape, dtype)`: the output's shape and dtype, computed from the
  inputs' metadata. This is where bad input gets its clear error, before any kernel runs;
* `backward(grad, ...)`: the vector-Jacobian product, written with Tensor operations so that
  it is differentiable itself. Its parameter names say what the forward must save: any input
  name, `out` (the forward's result), `input_shape` (the first input's shape),
  `needs_input_grad` (a bool per input, to skip work for inputs that need no gradient) and
  any keyword parameter of the op. It returns one
  gradient per input (a single value for one input; None where no gradient flows). Gradients
  may have the broadcast shape: the autograd engine sums them down to each input's shape;
* `decompose(*inputs, **params)`: for composites, the reference implementation in other ops.
  A backend without a kernel of this name runs it. *Explicit* composites (`explicit=True`)
  record one node with their own `backward`; implicit ones let autograd see the primitives;
* `outputs`: how many tensors the op returns (1 for nearly every op; None: as many as `infer`
  says, as `split` does). An op with several has `infer` give one `(shape, dtype)` per output,
  or None for an output it is asked not to compute, and its kernel and decomposition a tuple
  to match. Such an op is either an implicit composite (`sort`, `topk`, `max` along a dim:
  autograd goes through its decomposition) or a fused backward returning the gradients of all
  its inputs at once (`linear_backward`), which records no graph: its differentiable form is
  the formula that `backward_op` runs instead.

Primitives have no `decompose`: every backend must implement them (`PRIMITIVES`).

The dtype rule is data too: `accepts` is the set of dtypes the op's tensor inputs may have
(None: any; a dict maps input names to sets, for ops whose inputs differ, such as `where`'s
bool condition), and `infer`'s dtype is the result's. Dispatch refuses an input outside the
set and checks that the kernel returned the inferred dtype and shape.

`view` says the op *may* return a view of its first input (reshape, expand, getitem...):
whether it did is asked of the backend for each result, so a `reshape` that had to copy gets
its own version counter.

An op's public surface comes from the same declaration: `public(spec, ...)` marks the function
beside the spec as the op's public function (its export), and names the Tensor methods,
in-place variants and operators it provides. `somegrad.ops` exports, and `Tensor` gets its
methods, from the registry; `somegrad/_tensor_methods.py`, generated from it, lets type
checkers see them.
"""

from __future__ import annotations

import dis
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from somegrad import dtypes as _dtypes

__all__ = [
    "OpSpec",
    "OPS",
    "PRIMITIVES",
    "register",
    "get_op",
    "public",
    "ANY",
    "FLOATING",
    "INTEGRAL",
    "INTEGERS",
    "NUMERIC",
    "BOOL",
    "INDEX",
]

ANY = None
FLOATING = frozenset(_dtypes.floating_dtypes)
INTEGRAL = frozenset((_dtypes.bool_, *_dtypes.integer_dtypes))  # bool and the integers
INTEGERS = frozenset(_dtypes.integer_dtypes)
NUMERIC = frozenset((*_dtypes.integer_dtypes, *_dtypes.floating_dtypes))  # everything but bool
BOOL = frozenset((_dtypes.bool_,))
INDEX = frozenset((_dtypes.int64,))  # indices are int64, as in PyTorch
COMPLEX = frozenset(_dtypes.complex_dtypes)
INEXACT = FLOATING | COMPLEX  # the dtypes with gradients: floating point and complex
REAL = frozenset(d for d in _dtypes.all_dtypes if not d.is_complex)  # the ordered ones: all but complex


@dataclass(eq=False)
class OpSpec:
    name: str
    kind: str
    inputs: tuple[str, ...]
    infer: Callable
    backward: Callable | None = None
    decompose: Callable | None = None
    explicit: bool = False
    view: bool = False  # the output may share memory with the first input
    outputs: int | None = 1  # several: a tuple of tensors, no backward (see the module docstring)
    # absolute error the decomposition may have against the exact result (approximations)
    decomposition_tolerance: float = 0.0
    doc: str = ""
    # the dtypes the tensor inputs may have: None (any), a frozenset, or {input name: frozenset}
    accepts: frozenset | dict | None = None
    # the public surface, set by `public()`: the function, and what Tensor gets from it
    function: Callable | None = field(default=None, repr=False)
    methods: tuple[str, ...] = ()
    inplace: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    export: bool = True  # False: a Tensor method only (`Tensor.masked_fill_`-style surface)
    forms: tuple = ()  # other public functions that are forms of this op (zeros and ones of full)
    # filled in by __post_init__: which of the backward's arguments the forward must keep
    saved_inputs: tuple[int, ...] = field(init=False, default=())
    saves_output: bool = field(init=False, default=False)
    backward_params: tuple[str, ...] = field(init=False, default=())
    wants_input_shape: bool = field(init=False, default=False)
    wants_needs_input_grad: bool = field(init=False, default=False)
    variadic: bool = field(init=False, default=False)  # one list of tensors: cat(tensors)
    # per input position, the accepted dtypes (None: any); empty when every input takes any
    accepted_dtypes: tuple = field(init=False, default=())
    implicit: bool = field(init=False, default=False)  # an implicit composite: it only decomposes

    def __post_init__(self):
        self.variadic = bool(self.inputs) and self.inputs[0].startswith("*")
        self.implicit = self.decompose is not None and not self.explicit
        if isinstance(self.accepts, dict):
            unknown = set(self.accepts) - {n.lstrip("*") for n in self.inputs}
            if unknown:
                raise ValueError(f"op {self.name!r}: accepts names no input {sorted(unknown)}")
            self.accepted_dtypes = tuple(self.accepts.get(n.lstrip("*")) for n in self.inputs)
        elif self.accepts is not None:
            self.accepted_dtypes = tuple(self.accepts for _ in self.inputs)
        if self.outputs != 1 and (self.backward is not None or self.view or (self.variadic and not self.implicit)):
            raise ValueError(f"op {self.name!r}: an op with several outputs has no backward and is no view")
        if self.backward is None:
            return
        names = list(inspect.signature(self.backward).parameters)[1:]  # after `grad`
        input_names = [n.lstrip("*") for n in self.inputs]
        self.saved_inputs = tuple(i for i, n in enumerate(input_names) if n in names)
        if self.variadic and input_names[0] in names:
            self.saved_inputs = (-1,)  # save all of them
        self.saves_output = "out" in names
        self.wants_input_shape = "input_shape" in names
        self.wants_needs_input_grad = "needs_input_grad" in names
        special = ("out", "input_shape", "needs_input_grad")
        self.backward_params = tuple(n for n in names if n not in input_names and n not in special)
        unused = [n for n in names if n not in _read_names(self.backward)]
        if unused:
            # Every parameter of a backward is saved by the forward: one it never reads would
            # keep a tensor alive for nothing (an attention mask, say).
            raise ValueError(f"op {self.name!r}: the backward never reads its parameters {unused}; drop them")

    @property
    def is_primitive(self) -> bool:
        return self.decompose is None

    @property
    def differentiable(self) -> bool:
        return self.backward is not None or (self.decompose is not None and not self.explicit)

    def __repr__(self) -> str:
        return f"OpSpec({self.name!r}, kind={self.kind!r})"


def _read_names(fn) -> set[str]:
    """The local names `fn` reads (its parameters that its body uses), from its bytecode."""
    code = fn.__code__
    read = set(code.co_cellvars)  # read by a nested function
    for instruction in dis.get_instructions(code):
        if instruction.opname.startswith("LOAD_"):
            value = instruction.argval
            read.update(value if isinstance(value, tuple) else (value,))
    return read


OPS: dict[str, OpSpec] = {}


def register(spec: OpSpec) -> OpSpec:
    """Add `spec` to the registry of ops (names are unique)."""
    if spec.name in OPS:
        raise ValueError(f"op {spec.name!r} is declared twice")
    OPS[spec.name] = spec
    return spec


def public(spec: OpSpec, *, methods=(), inplace=(), operators=(), aliases=(), export=True, form=False):
    """Decorator: `fn` is the public function of `spec` (exported from `somegrad` under its own
    name and `aliases`), and Tensor gets it as the methods `methods` (called as
    `fn(self, ...)`), the in-place variants `inplace` (`x.exp_()` writes `exp(x)` into x) and
    the `operators` (`"__add__"`; `"__radd__"` calls `fn(other, self)`, `"__iadd__"` is the
    first in-place variant). `methods=True` means one method of the function's name, and
    `inplace=True` one variant named after it with a trailing underscore. An in-place variant
    is a name (computed out of place and written back, see `somegrad.ops.inplace`) or a
    `(name, function)` pair for one written by hand (one that tries a backend's in-place kernel
    first); a method may be such a pair too, where its arguments differ from the function's
    (`x.where(condition, y)` is `where(condition, x, y)`). `export=False`: a Tensor method only,
    not a `somegrad` function.
    `form=True`: another exported function that is a form of the op (`zeros` and `ones` are
    forms of `full`), beside its public function.

        @public(EXP, methods=True, inplace=True)
        def exp(x): ...
    """

    def decorate(fn):
        if form:
            spec.forms = (*spec.forms, with_factory_keywords(fn))
            return fn
        if spec.function is not None:
            raise ValueError(f"op {spec.name!r} has a public function already: {spec.function.__name__}")
        spec.function = with_factory_keywords(with_numpy_names(fn))
        spec.methods = (fn.__name__,) if methods is True else tuple(methods)
        spec.inplace = (fn.__name__ + "_",) if inplace is True else tuple(inplace)
        spec.operators = tuple(operators)
        spec.aliases = tuple(aliases)
        spec.export = export
        return fn  # the family's own calls skip the keyword aliases

    return decorate


# The keyword aliases PyTorch's functions and Tensor methods accept for NumPy's names:
# `x.sum(axis=0, keepdims=True)` is `x.sum(dim=0, keepdim=True)`.
NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def with_numpy_names(fn):
    """`fn`, also taking `axis=` for its `dim` and `keepdims=` for its `keepdim` (the function
    itself where it has neither). The exported function and the Tensor methods are this one."""
    if fn in _with_numpy_names:  # one wrapper per function, however often the surface is read
        return _with_numpy_names[fn]
    params = inspect.signature(fn).parameters
    renames = {alias: name for alias, name in NUMPY_NAMES.items() if name in params and alias not in params}
    if not renames:
        return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs:
            for alias, name in renames.items():
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {name!r} and its alias {alias!r}")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    _with_numpy_names[fn] = call
    return call


_with_numpy_names: dict = {}


def get_op(name: str) -> OpSpec:
    """The registered `OpSpec` named `name`; KeyError if there is none."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}") from None


def primitives() -> list[str]:
    """The names of the ops every backend must implement."""
    return sorted(name for name, spec in OPS.items() if spec.is_primitive)


class _PrimitiveNames:
    """`PRIMITIVES`: a live, sorted view of the primitive op names."""

    def __iter__(self):
        return iter(primitives())

    def __contains__(self, name):
        spec = OPS.get(name)
        return spec is not None and spec.is_primitive

    def __len__(self):
        return len(primitives())

    def __repr__(self):
        return f"PRIMITIVES({primitives()})"


PRIMITIVES = _PrimitiveNames()


_FACTORY_OPTIONS = ("layout", "pin_memory", "memory_format")


def with_factory_keywords(fn):
    """A tensor factory (a function with a `device` parameter), also taking PyTorch's factory
    keywords: `layout`, `pin_memory` and `memory_format` (checked, see `somegrad.layouts`),
    `size=` for a `*size` function (`zeros(size=(2, 3))`) and `out=` (the result is written into
    `out`, which must have its shape). Other functions come back as they are."""
    params = inspect.signature(fn).parameters
    if "device" not in params:
        return fn
    varsize = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values())

    @functools.wraps(fn)
    def factory(*args, **kwargs):
        if not kwargs:
            return fn(*args)
        options = {key: kwargs.pop(key) for key in _FACTORY_OPTIONS if key in kwargs}
        if options:
            from somegrad.layouts import check_factory_options

            check_factory_options(fn.__name__, **options)
        if varsize and "size" in kwargs:
            if args:
                raise TypeError(f"{fn.__name__}() got the size both as positional arguments and as size=")
            args = (kwargs.pop("size"),)
        out = kwargs.pop("out", None)
        result = fn(*args, **kwargs)
        return result if out is None else _write_out(fn.__name__, result, out)

    return factory


def _write_out(op, result, out):
    """`result` written into the `out=` tensor, which is returned (as PyTorch's out= forms)."""
    from somegrad.autograd.grad_mode import no_grad
    from somegrad.tensor import Tensor

    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if tuple(out.shape) != tuple(result.shape):
        raise RuntimeError(
            f"{op}: out= has shape {tuple(out.shape)} but the result has shape {tuple(result.shape)}; "
            "somegrad does not resize out= tensors"
        )
    if out.dtype is not result.dtype:
        raise RuntimeError(f"{op}: expected out= of dtype {result.dtype.name}, got {out.dtype.name}")
    with no_grad():
        out.copy_(result)
    return out
