"""The differences between somegrad and PyTorch that the fuzzer accepts, each with its reason.

Only two kinds are accepted: somegrad raising a clear error (a RuntimeError, ValueError,
TypeError or IndexError naming the op) where PyTorch returns, for a documented limitation; and
PyTorch refusing an input (or getting it wrong, by its own rules) where somegrad returns a
result that is *checked* against PyTorch on an equivalent input (`verify`). A silent wrong
result is never accepted. Anything not listed here fails the suite.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from fuzz_harness import Case, Input, Outcome, compare, compare_values, run

CLEAR = (RuntimeError, ValueError, TypeError, IndexError)


@dataclasses.dataclass
class Accepted:
    name: str
    reason: str
    kind: str  # "ours" (somegrad raised), "theirs" (PyTorch raised) or "silent" (a PyTorch bug)
    matches: Callable[[Outcome], bool]
    # for "theirs" and "silent": rerun PyTorch on an equivalent input; '' when somegrad agrees
    verify: Callable[[Outcome, object], str] | None = None


def _ours(outcome: Outcome, pattern: str) -> bool:
    error = outcome.ours.error
    return isinstance(error, CLEAR) and re.search(pattern, str(error)) is not None


def _theirs(outcome: Outcome, pattern: str) -> bool:
    error = outcome.theirs.error
    return error is not None and re.search(pattern, f"{type(error).__name__}: {error}") is not None


def _rerun(outcome: Outcome, torch, case: Case) -> str:
    """'' when somegrad's run of the original case equals PyTorch's run of `case`."""
    reference = run(case, torch, outcome.seed)
    if reference.error is not None:
        return f"the equivalent input fails in PyTorch too: {reference.error}"
    return compare(case, outcome.ours, reference).detail


def _cast_first(case: Case, dtypes: list[str]) -> Case:
    """`case` with its inputs cast to `dtypes` inside the function (gradients still reach the
    original leaves, in their own dtypes)."""
    casts = "; ".join(f"{name} = {name}.to(m.{dtype})" for name, dtype in zip("abc", dtypes))
    return dataclasses.replace(case, body=f"{casts}; {case.body}")


def _promoted(outcome: Outcome, torch) -> str:
    """PyTorch on both inputs cast to their promoted dtype (what somegrad does)."""
    case = outcome.case
    built = [x.build(torch) for x in case.inputs]
    common = str(torch.result_type(*built)).rsplit(".", 1)[-1]
    return _rerun(outcome, torch, _cast_first(case, [common] * len(case.inputs)))


def _value_cast_to_destination(outcome: Outcome, torch) -> str:
    case = outcome.case
    return _rerun(outcome, torch, _cast_first(case, [case.inputs[0].dtype] * 2))


def _without_grad(outcome: Outcome, torch) -> str:
    """Forward values only (somegrad's gradient of floor_divide is zero: checked in the core's tests)."""
    case = outcome.case
    inputs = [Input(x.values, x.dtype) for x in case.inputs]
    reference = run(dataclasses.replace(case, inputs=inputs, grad=False), torch, outcome.seed)
    if reference.error is not None:
        return str(reference.error)
    if outcome.ours.grads is not None and any(
        g[0] is not None and hasattr(g[0], "any") and g[0].any() for g in outcome.ours.grads
    ):
        return "floor_divide's gradient is not zero"
    ours = dataclasses.replace(outcome.ours, grads=None)
    return compare(dataclasses.replace(case, grad=False), ours, reference).detail


def _all_dims(outcome: Outcome, torch) -> str:
    """`dim=()`/`dim=[]` spelled as every dim, which PyTorch differentiates and reduces correctly."""
    case = outcome.case
    ndim = case.inputs[0].values.ndim
    every = repr(tuple(range(ndim)))
    body = re.sub(r"\((\(\)|\[\])", f"({every}", case.body, count=1)
    body = re.sub(r"dim=(\(\)|\[\])", f"dim={every}", body)
    return _rerun(outcome, torch, dataclasses.replace(case, body=body))


def _prod_one_dim_at_a_time(outcome: Outcome, torch) -> str:
    case = outcome.case
    match = re.search(r"prod\((?:dim=)?([\[(][^)\]]*[\])])(, keepdim=True)?\)", case.body)
    if match is None:
        return "not a prod over several dims"
    ndim = case.inputs[0].values.ndim
    given = eval(match.group(1))
    dims = sorted({d % max(ndim, 1) for d in given}, reverse=True) if ndim else []
    if ndim and len(dims) != len(given):
        return "repeated dims"
    if dims:
        chain = "a" + "".join(f".prod({d}, keepdim=True)" for d in dims)
        if not match.group(2):
            chain += "".join(f".squeeze({d})" for d in dims)
    else:  # dim=(): every dim, as sum(dim=()) in both frameworks
        chain = f"a.prod().reshape({(1,) * ndim!r})" if match.group(2) else "a.prod()"
    body = case.body.replace(match.group(0).join(["a.", ""]), chain) if f"a.{match.group(0)}" in case.body else None
    if body is None:
        return "unexpected form"
    return _rerun(outcome, torch, dataclasses.replace(case, body=body))


ACCEPTED = [
    # --- somegrad refuses, with a clear error, what PyTorch computes ---------------------------
    Accepted(
        "integer bitwise ops",
        "somegrad's &, |, ^ and ~ take bool tensors only (its logical ops); PyTorch also has integer "
        "bitwise ops. somegrad says 'only bool tensors are supported'.",
        "ours",
        lambda o: _ours(o, r"bitwise_\w+: only bool tensors are supported"),
    ),
    Accepted(
        "in-place on a view that records a gradient",
        "somegrad has no view replay in autograd: an in-place op on a view of a tensor that requires "
        "grad is refused with a clear error (PyTorch rebases the view's history).",
        "ours",
        lambda o: _ours(o, r"in-place operations that record a gradient are not supported on views"),
    ),
    Accepted(
        "writes into expand()ed views",
        "somegrad refuses in-place writes into any expand()ed view (NumPy's broadcast views are read-only), "
        "even a slice of one whose elements do not overlap; PyTorch refuses only overlapping writes.",
        "ours",
        lambda o: _ours(o, r"share one memory location \(an expand\(\)ed view\)"),
    ),
    Accepted(
        "boolean index over some dims",
        "somegrad takes a boolean mask over one dim or over the whole shape; PyTorch also takes one "
        "over several leading dims.",
        "ours",
        lambda o: _ours(o, r"index: a \d+-d boolean index is not supported"),
    ),
    Accepted(
        "setitem with extra leading dims",
        "somegrad's setitem broadcasts the value to the selection as NumPy does; PyTorch also strips "
        "extra leading size-1 dims from the value.",
        "ours",
        lambda o: _ours(o, r"setitem: shape mismatch: a value of shape .* cannot be broadcast"),
    ),
    Accepted(
        "integer to a negative integer power",
        "somegrad refuses integer tensors to negative integer powers for tensor exponents too (as NumPy, "
        "and as PyTorch for scalar exponents); PyTorch truncates 1/x**n for tensor exponents.",
        "ours",
        lambda o: _ours(o, r"pow: integers to negative integer powers are not allowed"),
    ),
    Accepted(
        "min/max/argmin/argmax over an empty tensor",
        "somegrad refuses reductions without an identity on any empty input; PyTorch returns an empty "
        "result when the reduced dim itself is not empty.",
        "ours",
        lambda o: _ours(o, r"(arg)?(min|max): expected a non-empty input"),
    ),
    Accepted(
        "out-of-range index into an empty selection",
        "somegrad checks every integer index against its dim; PyTorch skips the check when another "
        "part of the index selects nothing (and so returns an empty result).",
        "ours",
        lambda o: (
            _ours(o, r"index -?\d+ is out of bounds for dimension \d+ with size \d+")
            and o.theirs.value is not None
            and getattr(o.theirs.value, "size", 1) == 0
        ),
    ),
    Accepted(
        "logsumexp(dim=()) without keepdim",
        "somegrad refuses logsumexp with dim=() and keepdim=False, as PyTorch does for every non-empty "
        "input (its output-shape error); PyTorch returns only for an empty input.",
        "ours",
        lambda o: _ours(o, r"logsumexp: dim=\(\) without keepdim=True is refused"),
    ),
    Accepted(
        "scalar out of the dtype's range",
        "somegrad refuses a Python scalar that the tensor's dtype cannot hold ('value ... cannot be "
        "converted to type float16 without overflow'), where PyTorch silently rounds it to inf or wraps it.",
        "ours",
        lambda o: _ours(o, r"cannot be converted to type \w+ without overflow"),
    ),
    Accepted(
        "bool matmul",
        "somegrad refuses matmul on bool tensors with a clear error; PyTorch computes an OR of ANDs.",
        "ours",
        lambda o: _ours(o, r"matmul: bool tensors are not supported"),
    ),
    # --- PyTorch refuses; somegrad's result is checked against PyTorch on an equivalent input ---
    Accepted(
        "matmul of mixed dtypes",
        "PyTorch's matmul needs equal dtypes; somegrad promotes them first. Checked: equal to PyTorch's "
        "matmul of the promoted inputs.",
        "theirs",
        lambda o: _theirs(o, r"same dtype|expected scalar type|addmv input tensors must have the same dtype"),
        _promoted,
    ),
    Accepted(
        "setitem of another dtype",
        "PyTorch's index_put needs the value's dtype to equal the destination's; somegrad casts it. "
        "Checked: equal to PyTorch with the value cast first.",
        "theirs",
        lambda o: _theirs(o, r"Index put requires the source and destination dtypes match"),
        _value_cast_to_destination,
    ),
    Accepted(
        "floor_divide's gradient",
        "PyTorch refuses to differentiate floor_divide; somegrad defines its gradient as zero, as for "
        "floor. Checked: the forward equals PyTorch's, the gradient is zero.",
        "theirs",
        lambda o: _theirs(o, r"derivative for aten::floor_divide is not implemented"),
        _without_grad,
    ),
    Accepted(
        "prod over several dims",
        "PyTorch's prod takes one dim; somegrad's takes a tuple, like sum. Checked: equal to PyTorch's "
        "prod over each dim in turn.",
        "theirs",
        lambda o: _theirs(o, r"prod\(\)"),
        _prod_one_dim_at_a_time,
    ),
    Accepted(
        "logsumexp(dim=()) without keepdim",
        "PyTorch's logsumexp with dim=() reduces every dim and then fails on its own output shape; "
        "somegrad reduces every dim. Checked: equal to PyTorch with every dim named.",
        "theirs",
        lambda o: (
            _theirs(o, r"output with shape \[\] doesn't match the broadcast shape") and "logsumexp" in o.case.body
        ),
        _all_dims,
    ),
    # --- both return, and PyTorch's answer is wrong by its own rules -----------------------------
    Accepted(
        "std/var(dim=()) gradient",
        "PyTorch's std and var with dim=() reduce every dim forward but differentiate as if over no dim "
        "(inf gradients). Checked: equal to PyTorch with every dim named.",
        "silent",
        lambda o: re.search(r"\.(std|var)\((\(\)|\[\])", o.case.body) is not None and o.detail.startswith("gradient"),
        _all_dims,
    ),
]


def _empty_result(outcome: Outcome, torch) -> str:
    ours, theirs = outcome.ours.value, outcome.theirs.value
    if getattr(theirs, "size", None) == 0 and getattr(ours, "shape", None) == theirs.shape:
        return ""
    return "the result is not empty"


ACCEPTED.append(
    Accepted(
        "softmax of an empty integer tensor",
        "PyTorch refuses softmax of integers but returns an empty integer tensor for an empty input; "
        "somegrad computes integers' softmax in the default float dtype, empty or not. Checked: same "
        "(empty) shape.",
        "silent",
        lambda o: "softmax" in o.case.body and o.case.inputs[0].values.size == 0 and o.detail.startswith("dtype"),
        _empty_result,
    )
)

NO_KERNEL = r"NotImplementedError: .*not implemented for|Boolean inputs not supported|does not support bool input"


def torch_has_no_kernel(outcome: Outcome) -> bool:
    return _theirs(outcome, NO_KERNEL)


def _no_kernel_verify(outcome: Outcome, torch) -> str:
    """PyTorch on the input cast to the dtype somegrad computed in (its result's dtype, or int64
    for a bool result); values compared, the result dtype being somegrad's own rule."""
    case = outcome.case
    dtypes = outcome.ours.dtypes
    first = dtypes[0] if isinstance(dtypes, tuple) else dtypes
    target = "int64" if first == "bool" else first
    reference = run(_cast_first(case, [target] * len(case.inputs)), torch, outcome.seed)
    if reference.error is not None:
        return f"the cast input fails in PyTorch too: {reference.error}"
    return compare_values(outcome.ours.value, reference.value, reference.dtypes, "result")


ACCEPTED.append(
    Accepted(
        "dtype PyTorch has no kernel for",
        "PyTorch has no kernel for this dtype (softmax of integers, floor/round/abs of bool, argmax of "
        "bool, ...) and raises; somegrad computes it. Checked: equal to PyTorch on the input cast to "
        "the dtype somegrad computed in.",
        "theirs",
        torch_has_no_kernel,
        _no_kernel_verify,
    )
)


def classify(outcome: Outcome, torch) -> tuple[Accepted | None, str]:
    """The accepted class of an `error` or `silent` outcome, or (None, why not)."""
    if outcome.kind == "error":
        kind = "ours" if outcome.ours.error is not None else "theirs"
    else:
        kind = "silent"
    why = ""
    for accepted in ACCEPTED:
        if accepted.kind != kind or not accepted.matches(outcome):
            continue
        if accepted.verify is None:
            return accepted, ""
        why = accepted.verify(outcome, torch)
        if not why:
            return accepted, ""
        why = f"looks like '{accepted.name}', but {why}"
    return None, why
