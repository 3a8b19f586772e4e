import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def check_wheels():
    """scripts/check_wheels.py as a module (scripts/ is not a package)."""
    path = REPO / "scripts" / "check_wheels.py"
    spec = importlib.util.spec_from_file_location("check_wheels", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_wheels", module)
    spec.loader.exec_module(module)
    return module
