"""The numpy backend's kernel table: one table, declared needs that name real kernels, shared
helpers used once, and modules that import each other in one direction only."""

from __future__ import annotations

import ast
import math
import pathlib

import numpy as np
import pytest

import somegrad as sg
from somegrad_numpy import special, table

PACKAGE = pathlib.Path(table.__file__).parent


def _imports(path):
    """The somegrad_numpy modules that `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("somegrad_numpy"):
            names = (
                [node.module] if node.module != "somegrad_numpy" else [f"somegrad_numpy.{a.name}" for a in node.names]
            )
            found.update(names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("somegrad_numpy."))
    return {name.split(".")[1] for name in found}


def test_modules_import_each_other_without_a_cycle():
    graph = {path.stem: _imports(path) - {path.stem} for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    visiting, done = set(), set()

    def visit(module, chain):
        assert module not in visiting, f"import cycle: {' -> '.join(chain + [module])}"
        if module in done:
            return
        visiting.add(module)
        for dependency in graph.get(module, ()):
            visit(dependency, chain + [module])
        visiting.discard(module)
        done.add(module)

    for module in graph:
        visit(module, [])
    # the kernel modules know nothing of the backend object
    for module in ("kernels", "nn_kernels", "inplace_kernels", "special", "table"):
        assert "backend" not in graph[module], module


def test_the_backend_uses_the_one_table():
    backend = sg.backends.get_backend("numpy")
    assert set(backend.kernels) == set(
        table.kernel_table({}) | {"uniform": 0, "normal": 0, "randint": 0, "multinomial": 0}
    )


@pytest.mark.parametrize("needs", ["IN_FLOAT32", "QUIET", "RAW"])
def test_declared_needs_name_kernels_of_the_table(needs):
    names = getattr(table, needs)
    assert names <= set(sg.backends.get_backend("numpy").kernels), sorted(names - set(table.kernel_table({})))


def test_results_are_arrays_and_half_inputs_round_trip_through_float32():
    backend = sg.backends.get_backend("numpy")
    x = np.asarray(np.float16(2.0))  # 0-d
    out = backend.kernels["exp"](x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float16 and out.shape == ()
    np.testing.assert_allclose(out, np.float16(math.exp(2.0)))
    # several outputs: each is rounded back, None stays None
    g = np.ones((2, 3), dtype=np.float16)
    w = np.ones((4, 3), dtype=np.float16)
    dx, dw, db = backend.kernels["linear_backward"](
        np.ones((2, 4), np.float16), g, w, needs_input_grad=(True, False, True)
    )
    assert dx.dtype == db.dtype == np.float16 and dw is None


def test_erf_is_one_implementation_exact_to_its_precision():
    a = np.linspace(-6, 6, 2001)
    expected = np.array([math.erf(v) for v in a])
    np.testing.assert_allclose(special.erf(a), expected, rtol=0, atol=2e-14)
    np.testing.assert_allclose(special.erf(a.astype(np.float32)), expected, rtol=0, atol=3e-7)
    # the float32 fit behind erf is the one exact GELU uses: 1 - erfc32 is erf away from 0
    big = a[a >= 0.5].astype(np.float32)
    np.testing.assert_array_equal(special.erf(big), (1 - special.erfc32(big)).astype(np.float32))
