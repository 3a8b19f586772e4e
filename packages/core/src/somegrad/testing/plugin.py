"""The pytest plugin of somegrad's conformance suite (loaded through the pytest11 entry point).

It adds `--somegrad-backend NAME` (repeatable; default: every registered backend) and the
`backend_name` parametrisation used by `somegrad.testing.conformance`. It imports nothing
heavy, since pytest loads it in every run once somegrad is installed.
"""

from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("somegrad")
    group.addoption(
        "--somegrad-backend",
        action="append",
        default=[],
        metavar="NAME",
        help="run somegrad's conformance suite against this backend (repeatable; default: all registered)",
    )
