"""einsum: Einstein summation, written over diagonal, sum, permute, reshape and matmul.

`einsum("bij,bjk->bik", a, b)` parses the equation once (per equation and operand ranks), takes
the diagonal of any subscript repeated within one operand, sums away each subscript that no other
operand and not the output has, and then contracts the operands pairwise, left to right: the
subscripts two operands share and the rest still need become matmul's batch dims, the ones only
they share its inner dim, so every contraction is one (batched) BLAS call. An implicit
composite: the gradient, and its gradient, come from those ops.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from somegrad.errors import ArgumentError, DTypeError, ShapeError, UnsupportedDTypeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.linalg import MATMUL
from somegrad.ops.spec import NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class _Plan:
    """A parsed equation for given operand ranks: each operand's labels (letters, and `0`, `1`, ...
    for the dims the ellipsis covers, counted from the left of the widest ellipsis), and the
    output's."""

    inputs: tuple[tuple, ...]
    output: tuple


def _parse_term(term, start, operand):
    """The labels of one operand's subscripts, with "..." as itself; `start` is the term's index
    in the equation (for the error)."""
    labels, i = [], 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if "..." in labels:
                raise ArgumentError(
                    f"einsum(): found '.' for operand {operand} for which an ellipsis was already found"
                )
            if term[i : i + 3] != "...":
                raise ArgumentError(f"einsum(): found '.' for operand {operand} that is not part of any ellipsis")
            labels.append("...")
            i += 3
            continue
        if c not in _LETTERS:
            raise ArgumentError(
                f"einsum(): invalid subscript given at index {start + i} in the equation string, "
                "subscripts must be in [a-zA-Z]"
            )
        labels.append(c)
        i += 1
    return labels


@functools.lru_cache(maxsize=512)
def _plan(equation: str, ranks: tuple[int, ...]) -> _Plan:
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms, start = [], 0
    for k, term in enumerate(lhs.split(",")):
        terms.append(_parse_term(term, start, k))
        start += len(term) + 1
    if len(terms) > len(ranks):
        raise ArgumentError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(ranks):
        raise ArgumentError("einsum(): more operands were provided than specified in the equation")
    widths = []
    for k, (labels, rank) in enumerate(zip(terms, ranks)):
        letters = len(labels) - ("..." in labels)
        if "..." in labels and letters > rank:
            raise ShapeError(
                f"einsum(): the number of subscripts in the equation ({letters}) is more than the number of "
                f"dimensions ({rank}) for operand {k}"
            )
        if "..." not in labels and letters != rank:
            raise ShapeError(
                f"einsum(): the number of subscripts in the equation ({letters}) does not match the number of "
                f"dimensions ({rank}) for operand {k} and no ellipsis was given"
            )
        widths.append(rank - letters if "..." in labels else 0)
    width = max(widths, default=0)
    # The ellipsis dims broadcast from the right: operand k's first covers label width - widths[k].
    inputs = tuple(
        tuple(label for item in labels for label in (range(width - w, width) if item == "..." else (item,)))
        for labels, w in zip(terms, widths)
    )
    if arrow:
        out_terms = _parse_term(rhs, len(lhs) + 2, "out")
        seen = set()
        for c in out_terms:
            if c != "..." and c in seen:
                raise ArgumentError(f"einsum(): output subscript {c} appears more than once in the output")
            if c != "..." and not any(c in labels for labels in terms):
                raise ArgumentError(
                    f"einsum(): output subscript {c} does not appear in the equation for any input operand"
                )
            seen.add(c)
        output = tuple(label for c in out_terms for label in (range(width) if c == "..." else (c,)))
    else:
        # Implicit output: the ellipsis dims, then the letters seen exactly once, in alphabetical order.
        counts: dict = {}
        for labels in terms:
            for c in labels:
                counts[c] = counts.get(c, 0) + 1
        once = sorted((c for c, n in counts.items() if n == 1 and c != "..."), key=_LETTERS.index)
        output = tuple(range(width)) + tuple(once)
    return _Plan(inputs, output)


def _label_name(label) -> str:
    return label if isinstance(label, str) else f"... (dim {label})"


def _sizes(plan: _Plan, shapes) -> dict:
    """Each label's size, broadcast over the operands (size 1 stretches)."""
    sizes: dict = {}
    for k, (labels, shape) in enumerate(zip(plan.inputs, shapes)):
        own: dict = {}
        for label, size in zip(labels, shape):
            if label in own and own[label] != size:
                raise ShapeError(
                    f"einsum(): subscript {_label_name(label)} is repeated for operand {k} but the sizes don't "
                    f"match, {own[label]} != {size}"
                )
            own[label] = size
        for label, size in own.items():
            seen = sizes.get(label)
            if seen is not None and size != seen and size != 1 and seen != 1:
                raise ShapeError(
                    f"einsum(): subscript {_label_name(label)} has size {size} for operand {k} which does not "
                    f"broadcast with previously seen size {seen}"
                )
            sizes[label] = size if seen is None or seen == 1 else seen
    return sizes


def _einsum_infer(*operands, equation):
    if not operands:
        raise ArgumentError("einsum(): must specify the equation string and at least one operand")
    first = operands[0].dtype
    for t in operands[1:]:
        if t.dtype is not first:
            raise DTypeError(f"einsum(): expected operands of one dtype, but found {first.name} and {t.dtype.name}")
    plan = _plan(equation, tuple(t.ndim for t in operands))
    sizes = _sizes(plan, [t.shape for t in operands])
    return tuple(sizes[label] for label in plan.output), first


# --- the contraction ----------------------------------------------------------------------------
def _take_diagonals(x, labels):
    """x with each label repeated in `labels` reduced to its diagonal (a view), and its labels."""
    labels = list(labels)
    for label in dict.fromkeys(labels):
        while labels.count(label) > 1:
            from somegrad.ops.diagonals import diagonal

            first = labels.index(label)
            second = labels.index(label, first + 1)
            x = diagonal(x, 0, first, second)  # drops both dims, appends the diagonal
            labels = [c for i, c in enumerate(labels) if i not in (first, second)] + [label]
    return x, labels


def _sum_out(x, labels, keep):
    """Sum away the dims whose labels are not in `keep`."""
    dims = tuple(i for i, c in enumerate(labels) if c not in keep)
    if not dims:
        return x, labels
    return x.sum(dims, dtype=x.dtype), [c for c in labels if c in keep]


def _permuted(x, labels, order):
    perm = tuple(labels.index(c) for c in order)
    return (x.permute(perm) if perm != tuple(range(len(perm))) else x), list(order)


def _contract(a, la, b, lb, keep):
    """The product of a and b summed over the labels they share that `keep` does not need; the
    result's labels are the shared ones kept, then a's own, then b's own."""
    shared = [c for c in la if c in lb]
    # a contracted label of size 1 on one side stretches: sum the other side over it instead
    for c in [c for c in shared if c not in keep]:
        size_a, size_b = a.shape[la.index(c)], b.shape[lb.index(c)]
        if size_a != size_b:
            if size_a == 1:
                a, la = a.squeeze(la.index(c)), [d for d in la if d != c]
            else:
                b, lb = b.squeeze(lb.index(c)), [d for d in lb if d != c]
    a, la = _sum_out(a, la, set(keep) | set(lb))
    b, lb = _sum_out(b, lb, set(keep) | set(la))
    batch = [c for c in la if c in lb and c in keep]
    inner = [c for c in la if c in lb and c not in keep]
    own_a = [c for c in la if c not in lb]
    own_b = [c for c in lb if c not in la]
    a, _ = _permuted(a, la, batch + own_a + inner)
    b, _ = _permuted(b, lb, batch + inner + own_b)
    nb = len(batch)
    batch_a, batch_b = a.shape[:nb], b.shape[:nb]
    own_a_sizes, own_b_sizes = a.shape[nb : nb + len(own_a)], b.shape[nb + len(inner) :]
    if not inner:
        # nothing to sum: a broadcast product (a matmul with k = 1 would be a BLAS call per element)
        out = ew.mul(
            a.reshape(batch_a + own_a_sizes + (1,) * len(own_b)),
            b.reshape(batch_b + (1,) * len(own_a) + own_b_sizes),
        )
        return out, batch + own_a + own_b
    k = math.prod(a.shape[nb + len(own_a) :])
    left = a.reshape(batch_a + (math.prod(own_a_sizes), k))
    right = b.reshape(batch_b + (k, math.prod(own_b_sizes)))
    out = apply(MATMUL, (left, right), {})
    return out.reshape(out.shape[:nb] + own_a_sizes + own_b_sizes), batch + own_a + own_b


def _einsum(*operands, equation):
    plan = _plan(equation, tuple(t.ndim for t in operands))
    output = list(plan.output)
    terms = [_take_diagonals(x, labels) for x, labels in zip(operands, plan.inputs)]
    # a label that one operand alone has, and the output has not, is summed away first
    for k, (x, labels) in enumerate(terms):
        others = {c for j, (_, ls) in enumerate(terms) if j != k for c in ls}
        terms[k] = _sum_out(x, labels, others | set(output))
    x, labels = terms[0]
    for k in range(1, len(terms)):
        later = {c for _, ls in terms[k + 1 :] for c in ls}
        x, labels = _contract(x, labels, *terms[k], later | set(output))
    x, labels = _sum_out(x, labels, set(output))
    # a label of size 1 in one operand came out stretched from its product with the others
    return _permuted(x, labels, output)[0]


EINSUM = register(
    OpSpec(
        "einsum",
        "matmul",
        ("*operands",),
        _einsum_infer,
        decompose=_einsum,
        accepts=NUMERIC,
        doc="Einstein summation over permute, reshape, diagonal, sum and matmul.",
    )
)


def _sublist_equation(args):
    """einsum(op1, [0, 1], op2, [1, 2], [0, 2]): the equation "ab,bc->ac" and the operands."""

    def term(sublist):
        out = []
        for s in sublist:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, int) and 0 <= s < len(_LETTERS):
                out.append(_LETTERS[s])
            else:
                raise ArgumentError(
                    f"einsum(): subscript in subscript list is not within the valid range [0, 52), got {s!r}"
                )
        return "".join(out)

    pairs = len(args) // 2
    operands = [args[2 * i] for i in range(pairs)]
    terms = [term(args[2 * i + 1]) for i in range(pairs)]
    equation = ",".join(terms)
    if len(args) % 2:
        equation += "->" + term(args[-1])
    return equation, operands


@public(EINSUM)
def einsum(equation, *operands):
    """Einstein summation: `einsum("bij,bjk->bik", a, b)` is a batched matmul, `einsum("ii", x)`
    the trace, `einsum("...ij->...ji", x)` a transpose of the last two dims.

    Subscripts are letters (case matters); "..." stands for dims that broadcast between operands;
    a subscript repeated in one operand takes its diagonal; subscripts left out of the output
    (given after "->", or, without it, those seen once, in alphabetical order) are summed over.
    `einsum(a, [0, 1], b, [1, 2], [0, 2])` (sublists) and a list of operands work too. Operands
    must share one dtype. Operands are contracted left to right (PyTorch may pick another order
    with opt_einsum; the result is the same up to rounding).
    """
    if isinstance(equation, Tensor):
        equation, operands = _sublist_equation((equation, *operands))
    elif not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a string, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, or at least one operand "
            "and its subscripts list"
        )
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): expected Tensor operands, got {type(t).__name__}")
        if t.dtype.name == "bool":
            raise UnsupportedDTypeError(
                "einsum(): bool tensors are not supported; convert them with .int() or .float()"
            )
    return apply(EINSUM, tuple(operands), {"equation": equation.replace(" ", "")})
