"""The conformance suite for every installed backend (`--somegrad-backend NAME` picks one).

Backends that cannot run here (cuda without a GPU) are skipped with their reason."""

from somegrad.testing.conformance import *  # noqa: F403
