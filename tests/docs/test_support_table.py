"""The porting guide's support table is current, and its frozen PyTorch names are torch's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("support_table", ROOT / "scripts" / "support_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_support_table_is_current():
    table = _script()
    assert table.main(["--check"]) == 0, "run: python scripts/support_table.py"


def test_the_table_reads_the_registry():
    table = _script()
    frozen = json.loads(table.NAMES.read_text())
    supported, differs, absent = table.status("torch", "somegrad", ["cumsum", "no_such_op", "inference_mode"])
    assert supported == ["cumsum"] and absent == ["no_such_op"]
    assert [name for name, _ in differs] == ["inference_mode"]  # its docstring says "Differs from PyTorch:"
    assert len(frozen["torch"]) > 500 and "matmul" in frozen["torch"]


@pytest.mark.parity
def test_the_frozen_names_are_torchs():
    pytest.importorskip("torch")
    table = _script()
    assert table.refresh_names() == json.loads(table.NAMES.read_text()), "run: scripts/support_table.py --refresh-names"
