import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # for nn_testing, the helpers of these tests

import somegrad as sg  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    sg.manual_seed(0)
    yield
