"""A type checker sees the Tensor methods and functions that the op declarations generate."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_typing_stubs_are_current():
    from somegrad.ops.surface import write_stubs

    stale = write_stubs(check=True)
    assert not stale, f"regenerate with `python scripts/generate_stubs.py`: {[str(p) for p in stale]}"


@pytest.mark.slow
def test_mypy_infers_tensors_through_chains_and_flags_unknown_methods(tmp_path):
    pytest.importorskip("mypy")
    snippet = Path(__file__).with_name("snippet.py")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path),
            str(snippet),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    out = result.stdout
    lines = snippet.read_text().splitlines()
    assert result.returncode == 1, out + result.stderr
    revealed = [line for line in out.splitlines() if "Revealed type" in line]
    assert len(revealed) == 3 and all('"somegrad.tensor.Tensor"' in line for line in revealed), out
    unknown = lines.index("x.no_such_method()") + 1
    assert f'snippet.py:{unknown}: error: "Tensor" has no attribute "no_such_method"' in out, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1, out
