"""Testing utilities and the conformance suite that every backend runs.

* `assert_close(actual, expected)`: like `torch.testing.assert_close`, dtype-dependent tolerances;
* `somegrad.testing.gradcheck`: cheap VJP-vs-finite-difference checks, to any order;
* `somegrad.testing.samples`: sample inputs and NumPy references for every op spec;
* `somegrad.testing.conformance`: the suite, run with
  `pytest --pyargs somegrad.testing.conformance --somegrad-backend NAME`;
* `somegrad.testing.plugin`: the pytest plugin (option, parametrisation, coverage report).
"""

__all__ = ["assert_close", "default_tolerance"]


def __getattr__(name):
    # Imported on first use: the pytest plugin lives in this package and loads in every run.
    if name in __all__:
        from somegrad.testing import comparison

        return getattr(comparison, name)
    raise AttributeError(f"module 'somegrad.testing' has no attribute {name!r}")
