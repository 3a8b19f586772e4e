"""somegrad's conformance suite: every op spec x every sample x the backends under test.

Run it against any installed backend:

    pytest --pyargs somegrad.testing.conformance --somegrad-backend NAME

or from a backend's own repository, in `tests/test_conformance.py`:

    from somegrad.testing.conformance import *  # noqa: F403

It checks each op's forward against a NumPy reference (dtype, shape, device and values),
gradients against finite differences in float64 (or against the reference backend where the
backend has no float64), composites through their fused kernel and their decomposition
(implicit composites' results against their declared shape and dtype), that bad input
raises the same clear error on every backend, and that binary ops promote Python numbers as
PyTorch does.
"""

from somegrad.testing.conformance.test_compile import test_compiled_matches_eager  # noqa: F401
from somegrad.testing.conformance.test_ops import (  # noqa: F401
    test_composite_matches_decomposition,
    test_dtypes_round_trip,
    test_error,
    test_every_op_has_samples,
    test_forward,
    test_gradient,
    test_no_missing_primitives,
    test_python_scalars_promote_like_tensors_of_their_result_type,
    test_random_ops_follow_the_seed,
)

__all__ = [
    "test_every_op_has_samples",
    "test_no_missing_primitives",
    "test_dtypes_round_trip",
    "test_forward",
    "test_gradient",
    "test_composite_matches_decomposition",
    "test_error",
    "test_random_ops_follow_the_seed",
    "test_python_scalars_promote_like_tensors_of_their_result_type",
    "test_compiled_matches_eager",
]
