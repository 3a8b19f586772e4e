"""Helpers for the multi-process tests: run a script under `mpiexec -n N`, time-bounded.

Each test writes its rank program to a file and runs it with the mpiexec that sits beside this
Python (the mpich wheel's) or on PATH. Every launch has a timeout, so a hang fails the test
instead of the CI job. Without mpi4py or mpiexec the tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest


def _mpiexec() -> str | None:
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside):
        return beside
    return shutil.which("mpiexec")


def _skip_reason() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError as exc:
        return f"mpi4py is not installed ({exc}): pip install mpi4py mpich"
    if _mpiexec() is None:
        return "no mpiexec found beside this Python or on PATH: pip install mpich"
    return None


def _environment(extra):
    env = dict(os.environ)
    # one BLAS thread per rank: two ranks on a small machine must not fight over its cores
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    env.update(extra or {})
    return env


class Ranks:
    """Runs rank programs; `run(source, n)` returns the finished process (stdout, stderr, returncode)."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = 0

    def script(self, source: str) -> str:
        self.count += 1
        path = self.tmp_path / f"rank_program_{self.count}.py"
        path.write_text(textwrap.dedent(source))
        return str(path)

    def run(self, source: str, n: int = 2, timeout: float = 120, args=(), env=None, launcher=None):
        """Run `source` on `n` ranks (`launcher` replaces the mpiexec command line when given)."""
        path = self.script(source)
        command = launcher or [_mpiexec(), "-n", str(n), sys.executable]
        try:
            return subprocess.run(
                [*command, path, *map(str, args)],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=_environment(env),
                cwd=self.tmp_path,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the ranks did not finish within {timeout} s (a hang):\n{exc.stdout}\n{exc.stderr}")

    def run_single(self, source: str, timeout: float = 60, env=None):
        """Run `source` as a plain `python script.py`, without any launcher."""
        return self.run(source, timeout=timeout, env=env, launcher=[sys.executable])

    @staticmethod
    def check(result, n: int = 2):
        """Assert that every rank printed `OK <rank>` and the job exited cleanly; show the output if not."""
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        for rank in range(n):
            assert f"OK {rank}" in result.stdout, output


@pytest.fixture
def ranks(tmp_path):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    return Ranks(tmp_path)
