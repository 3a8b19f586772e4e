"""The differential fuzzer's engine: run one case on somegrad and on PyTorch, and classify what
happened.

A case is a one-line Python function body over a framework namespace ``m`` (``somegrad`` or
``torch``: the API is the same) and input tensors ``a``, ``b``, ``c``, for example
``"return a.sum(dim=(0, -1), keepdim=True)"``. Both frameworks get the same input values
(same dtype, same shape); when the case asks for gradients, the inputs are leaves that require
grad, and the output's gradient against a fixed random cotangent is compared too.

Outcomes:

* ``match``: both returned, same dtypes, shapes and values (within the dtype's tolerance), and
  the same gradients;
* ``silent``: both returned, and something differs: a wrong answer with no error, which is
  what the suite exists to find (these fail);
* ``error``: one raised, the other returned (an *error-versus-result difference*); each is
  classified by `fuzz_accepted.classify`, and an unclassified one fails too;
* ``both_raised``: both refused the input (nothing to compare).
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from typing import Any

import numpy as np

import somegrad as sg

DTYPE_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
FLOAT_NAMES = ["float16", "bfloat16", "float32", "float64"]
INT_NAMES = ["uint8", "int8", "int16", "int32", "int64"]

# family -> counts, filled by the tests, printed at the end of the session by conftest.py
SUMMARY: dict[str, dict[str, int]] = {}


def fuzz_settings(config) -> tuple[int, float]:
    """(seed, scale) from the options or the environment."""

    def option(name):
        try:
            return config.getoption(name)
        except ValueError:  # the option is registered only when tests/fuzz is on the command line
            return None

    seed = option("--fuzz-seed")
    scale = option("--fuzz-scale")
    seed = int(os.environ.get("SOMEGRAD_FUZZ_SEED", 0)) if seed is None else seed
    scale = float(os.environ.get("SOMEGRAD_FUZZ_SCALE", 1)) if scale is None else scale
    return seed, scale


# what the case expressions may name besides m, a, b, c
NAMESPACE = {"inf": math.inf, "nan": math.nan}


@dataclasses.dataclass
class Input:
    """One input tensor: its values (a NumPy array, float32 for bfloat16) and dtype name."""

    values: np.ndarray
    dtype: str
    requires_grad: bool = False

    def build(self, m):
        dtype = getattr(m, self.dtype)
        if self.dtype == "bfloat16":
            tensor = m.tensor(self.values.astype(np.float32)).to(dtype)
        else:
            tensor = m.tensor(self.values, dtype=dtype)
        if self.requires_grad:
            tensor.requires_grad_(True)
        return tensor

    def source(self) -> str:
        values = self.values.tolist()
        if self.values.size == 0:
            text = f"m.empty({self.values.shape!r}, dtype=m.{self.dtype})"
        elif self.dtype == "bfloat16":
            text = f"m.tensor({values!r}).to(m.bfloat16)"
        else:
            text = f"m.tensor({values!r}, dtype=m.{self.dtype})"
        return text + (".requires_grad_()" if self.requires_grad else "")


@dataclasses.dataclass
class Case:
    family: str
    body: str
    inputs: list[Input]
    grad: bool = False

    def source(self) -> str:
        """A reproducer: paste it with ``m = somegrad`` or ``m = torch``."""
        names = "abc"
        lines = [f"{names[i]} = {x.source()}" for i, x in enumerate(self.inputs)]
        return "; ".join(lines + [self.body.replace("return ", "out = ", 1)])

    def function(self):
        arguments = ", ".join(["m", *"abc"[: len(self.inputs)]])
        scope = dict(NAMESPACE)
        exec(f"def case({arguments}): {self.body}", scope)
        return scope["case"]


@dataclasses.dataclass
class Run:
    """What one framework did with a case: a result (tensors as NumPy float64/int/bool arrays
    with their dtype names, Python scalars as they are) or the exception."""

    value: Any = None
    dtypes: Any = None
    grads: list | None = None
    error: BaseException | None = None


@dataclasses.dataclass
class Outcome:
    case: Case
    kind: str  # match, silent, error, both_raised
    detail: str = ""
    ours: Run | None = None
    theirs: Run | None = None
    seed: int = 0  # the cotangent's, for reruns


def _dtype_name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _flatten(value, m):
    """(values, dtype names) of a result: a tensor, a tuple/list of results, or a Python scalar."""
    if isinstance(value, m.Tensor):
        tensor = value.detach()
        if _dtype_name(tensor.dtype) == "bfloat16":
            tensor = tensor.to(m.float32)
        return np.array(tensor.to("cpu").numpy(), copy=True), _dtype_name(value.dtype)
    if isinstance(value, (tuple, list)):
        pairs = [_flatten(item, m) for item in value]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if isinstance(value, (bool, int, float)) or value is None:
        return value, type(value).__name__
    return value, type(value).__name__


def _first_tensor(value, m):
    if isinstance(value, m.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], m.Tensor):
        return value[0]
    return None


def run(case: Case, m, cotangent_seed: int) -> Run:
    function = case.function()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inputs = [x.build(m) for x in case.inputs]
            result = function(m, *inputs)
            values, dtypes = _flatten(result, m)
            grads = None
            out = _first_tensor(result, m)
            if case.grad and out is not None and out.requires_grad:
                rng = np.random.default_rng(cotangent_seed)
                cotangent = rng.integers(-4, 5, size=tuple(out.shape)).astype(np.float64) / 2
                out_dtype = getattr(m, _dtype_name(out.dtype))
                out.backward(m.tensor(cotangent).to(out_dtype))
                grads = [_flatten(x.grad, m) if x.grad is not None else (None, None) for x in inputs]
    except Exception as exc:  # noqa: BLE001 - any exception is an outcome to classify
        return Run(error=exc)
    return Run(values, dtypes, grads)


TOLERANCE = {
    "float16": (2e-3, 1e-3),
    "bfloat16": (1.6e-2, 1e-2),
    "float32": (2e-5, 1e-6),
    "float64": (1e-10, 1e-12),
}


def compare_values(ours, theirs, dtype, where: str) -> str:
    """'' when equal, else what differs."""
    if isinstance(theirs, tuple):
        if not isinstance(ours, tuple) or len(ours) != len(theirs):
            return f"{where}: structure {type(ours).__name__} vs {type(theirs).__name__}"
        for i, (x, y) in enumerate(zip(ours, theirs)):
            problem = compare_values(x, y, dtype[i] if isinstance(dtype, tuple) else dtype, f"{where}[{i}]")
            if problem:
                return problem
        return ""
    if isinstance(theirs, np.ndarray):
        if not isinstance(ours, np.ndarray):
            return f"{where}: got {type(ours).__name__}, expected a tensor"
        if ours.shape != theirs.shape:
            return f"{where}: shape {ours.shape} vs {theirs.shape}"
        if dtype in TOLERANCE:
            rtol, atol = TOLERANCE[dtype]
            x, y = ours.astype(np.float64), theirs.astype(np.float64)
            with np.errstate(all="ignore"):
                same_nan = np.isnan(x) == np.isnan(y)
                finite = np.isfinite(y) & np.isfinite(x)
                same_inf = np.where(~finite & ~np.isnan(y), x == y, True)
                close = np.where(finite, np.abs(x - y) <= atol + rtol * np.abs(y), True)
                bad = ~(same_nan & same_inf & close)
        else:
            bad = ours != theirs
        if np.any(bad):
            index = tuple(int(i) for i in np.argwhere(bad)[0]) if ours.ndim else ()
            count = f"{int(bad.sum())} of {bad.size}"
            return f"{where}: values differ at {index}: {ours[index]!r} vs {theirs[index]!r} ({count})"
        return ""
    if isinstance(theirs, float) and isinstance(ours, float) and (math.isnan(theirs) and math.isnan(ours)):
        return ""
    if ours != theirs or type(ours) is not type(theirs):
        return f"{where}: {ours!r} vs {theirs!r}"
    return ""


def compare(case: Case, ours: Run, theirs: Run) -> Outcome:
    if ours.error is not None and theirs.error is not None:
        return Outcome(case, "both_raised", ours=ours, theirs=theirs)
    if ours.error is not None or theirs.error is not None:
        return Outcome(case, "error", ours=ours, theirs=theirs)
    if ours.dtypes != theirs.dtypes:
        return Outcome(case, "silent", f"dtype {ours.dtypes} vs {theirs.dtypes}", ours, theirs)
    problem = compare_values(ours.value, theirs.value, theirs.dtypes, "result")
    if not problem and theirs.grads is not None:
        if ours.grads is None:
            problem = "gradient: somegrad computed none"
        else:
            for i, (mine, reference) in enumerate(zip(ours.grads, theirs.grads)):
                if mine[1] != reference[1]:
                    problem = f"gradient of input {i}: dtype {mine[1]} vs {reference[1]}"
                elif reference[0] is not None:
                    problem = compare_values(mine[0], reference[0], reference[1], f"gradient of input {i}")
                if problem:
                    break
    return Outcome(case, "silent" if problem else "match", problem, ours, theirs)


def differential(case: Case, torch, seed: int = 0) -> Outcome:
    """Run `case` on somegrad and on `torch` and classify the outcome."""
    theirs = run(case, torch, seed)
    ours = run(case, sg, seed)
    outcome = compare(case, ours, theirs)
    outcome.seed = seed
    return outcome
