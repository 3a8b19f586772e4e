"""An outside backend marks its own known failures: `Backend.known_failures` entries become
strict xfails of the matching conformance cases."""

from somegrad.testing import cases


def test_a_backends_own_known_failure_is_a_strict_xfail():
    entry = (("forward",), r"mybackend-exp-.*", "exp is wrong on mybackend, tracked upstream")
    marks = cases.known_failure("forward_case", "mybackend-exp-3x4-float32", (entry,))
    assert len(marks) == 1
    mark = marks[0].mark
    assert mark.name == "xfail" and mark.kwargs == {"strict": True, "reason": entry[2]}
    assert cases.known_failure("forward_case", "mybackend-log-3x4-float32", (entry,)) == ()
    assert cases.known_failure("grad_case", "mybackend-exp-3x4-float32", (entry,)) == ()


def test_the_core_list_applies_without_a_backend_list():
    assert cases.known_failure("forward_case", "numpy-exp-3x4-float32") == ()
