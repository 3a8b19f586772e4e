"""Differential fuzzing against PyTorch: thousands of seeded cases over elementwise and broadcast
ops (every dtype, every Python scalar kind and its edge values), reductions (every `dim` form),
indexing and setitem, matmul, in-place ops on views, and their gradients.

Each family's cases run once; three tests then read the outcomes:
* no silent mismatch (both returned, results differ);
* every error-versus-result difference is an accepted, documented class (fuzz_accepted.py);
* every error somegrad raises is one of PyTorch's error classes, never NumPy's leaking through.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from fuzz_accepted import CLEAR, classify
from fuzz_cases import FAMILIES, generate
from fuzz_harness import SUMMARY, differential, fuzz_settings

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

_RESULTS: dict[str, dict] = {}


def _signature(outcome) -> str:
    """What a class of failures shares: the op (numbers and names of values blanked), the dtypes."""
    body = re.sub(r"-?\b\d[\d.e+*-]*\b", "N", outcome.case.body)
    dtypes = ",".join(x.dtype for x in outcome.case.inputs)
    return f"{outcome.case.family}: {body} [{dtypes}]"


def results(family: str, config) -> dict:
    if family in _RESULTS:
        return _RESULTS[family]
    seed, scale = fuzz_settings(config)
    torch.manual_seed(0)
    counts: Counter = Counter()
    silent, unaccepted, unclear = [], [], []
    for number, case in enumerate(generate(family, seed, scale)):
        outcome = differential(case, torch, seed=number)
        counts["cases"] += 1
        ours = outcome.ours.error
        if ours is not None and not isinstance(ours, CLEAR):
            counts["unclear"] += 1
            unclear.append(outcome)
        if outcome.kind in ("match", "both_raised"):
            counts[outcome.kind] += 1
            continue
        accepted, why = classify(outcome, torch)
        if accepted is not None:
            counts[f"accepted_{outcome.kind}"] += 1
            counts[f"class:{accepted.name}"] += 1
            continue
        counts[outcome.kind] += 1
        if why:
            outcome.detail = f"{outcome.detail} ({why})" if outcome.detail else why
        (silent if outcome.kind == "silent" else unaccepted).append(outcome)
    SUMMARY[family] = dict(counts)
    _RESULTS[family] = {"silent": silent, "error": unaccepted, "unclear": unclear}
    return _RESULTS[family]


def _report(outcomes, describe) -> str:
    groups: dict[str, list] = {}
    for outcome in outcomes:
        groups.setdefault(_signature(outcome), []).append(outcome)
    lines = [f"{len(outcomes)} cases in {len(groups)} classes (one reproducer each; m = somegrad or torch):"]
    for signature, members in sorted(groups.items(), key=lambda item: -len(item[1]))[:40]:
        first = members[0]
        lines.append(f"- {signature}  x{len(members)}\n    {first.case.source()}\n    {describe(first)}")
    return "\n".join(lines)


def _error_text(error) -> str:
    return f"{type(error).__name__}: {str(error)[:160]}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_no_silent_mismatches(family, request):
    silent = results(family, request.config)["silent"]
    if silent:
        pytest.fail(_report(silent, lambda o: o.detail), pytrace=False)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_error_differences_are_accepted(family, request):
    errors = results(family, request.config)["error"]

    def describe(outcome):
        who, error = ("somegrad", outcome.ours.error) if outcome.ours.error else ("PyTorch", outcome.theirs.error)
        other = outcome.theirs if who == "somegrad" else outcome.ours
        text = f"{who} raised {_error_text(error)}; the other returned {other.dtypes}"
        return text + (f" [{outcome.detail}]" if outcome.detail else "")

    if errors:
        pytest.fail(_report(errors, describe), pytrace=False)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_somegrad_raises_only_pytorchs_error_classes(family, request):
    unclear = results(family, request.config)["unclear"]
    if unclear:
        pytest.fail(_report(unclear, lambda o: f"somegrad raised {_error_text(o.ours.error)}"), pytrace=False)


def test_the_cases_are_seeded_and_fit_ci():
    """The same seed gives the same cases; the default run has a few thousand of them."""
    first = [case.source() for family in FAMILIES for case in generate(family, 0)]
    again = [case.source() for family in FAMILIES for case in generate(family, 0)]
    assert first == again and 2000 <= len(first) <= 10_000
    assert [case.source() for case in generate("reductions", 1)] != [
        case.source() for case in generate("reductions", 0)
    ]
