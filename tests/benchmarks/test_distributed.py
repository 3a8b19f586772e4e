"""benchmarks/distributed.py runs end to end on two MPI ranks and reports what it promises.

No timing is asserted (the machine is shared): what is checked is that every phase was timed,
that the summary's figures are the ones its rows give, and the arithmetic of the summary on
rows made up here.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
mpi4py = pytest.importorskip("mpi4py", reason="mpi4py is not installed: pip install mpi4py mpich")
if not (os.path.isfile(os.path.join(os.path.dirname(sys.executable), "mpiexec")) or shutil.which("mpiexec")):
    pytest.skip("no mpiexec beside this Python or on PATH: pip install mpich", allow_module_level=True)


def run_distributed(tmp_path, *args):
    out = tmp_path / "distributed.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    command = [sys.executable, str(BENCHMARKS / "distributed.py"), "--quick", "--only", "somegrad", "--json", str(out)]
    done = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


@pytest.mark.parametrize("separate", [False, True], ids=["paired", "separate"])
def test_every_phase_is_timed_and_summarised(tmp_path, separate):
    report, stdout = run_distributed(tmp_path, *(["--separate"] if separate else []))
    assert report["separate"] is separate
    (summary,) = report["summaries"]
    (job,) = report["jobs"]["somegrad"]
    rows = job["rounds"]
    assert len(rows) == summary["rounds"] == 2
    for row in rows:
        assert row["one"] > 0 and row["two"] > 0 and row["no_sync"] > 0
        assert row["reducer_ms"] >= 0
    assert summary["scaling_efficiency"] == pytest.approx(statistics.median(r["one"] / r["two"] for r in rows))
    low, high = summary["scaling_efficiency_range"]
    assert low <= summary["scaling_efficiency"] <= high
    assert summary["step_ms_1"] == pytest.approx(statistics.median(r["one"] for r in rows))
    assert summary["tokens_per_s_2"] == pytest.approx(2 * 16 * 64 / (summary["step_ms_2"] / 1000))
    assert summary["comm_cost_ms"] > 0
    assert summary["buckets"] >= 1
    assert 0 <= summary["done_before_backward_end"] <= 1
    assert summary["parameters"] > 100_000  # the benchmarks' GPT, not a stand-in
    assert any(line.startswith("| somegrad |") for line in stdout.splitlines())


def test_summary_arithmetic_on_given_rounds(load_benchmark):
    distributed = load_benchmark("distributed")
    job = {
        "rounds": [
            {"one": 100.0, "two": 110.0, "no_sync": 104.0, "reducer_ms": 2.0},
            {"one": 90.0, "two": 120.0, "no_sync": 125.0, "reducer_ms": 4.0},
            {"one": 120.0, "two": 100.0, "no_sync": 96.0, "reducer_ms": 3.0},
        ],
        "comm_cost_ms": 2.0,
        "tokens_per_rank_step": 1000,
        "parameters": 10,
        "buckets": 2,
        "done_before_backward_end": 0.5,
    }
    summary = distributed._summary("somegrad", [job])
    assert summary["scaling_efficiency"] == pytest.approx(100 / 110)  # the median of 0.909, 0.75, 1.2
    assert summary["scaling_efficiency_range"] == pytest.approx([0.75, 1.2])
    assert summary["exposed_comm_ms"] == pytest.approx(4.0)  # median of 6, 0 (not -5) and 4
    assert summary["overlap"] == pytest.approx(0.0)  # exposed 4 ms of a 2 ms all-reduce hides nothing
    assert summary["step_ms_1"] == pytest.approx(100.0)
    assert summary["tokens_per_s_1"] == pytest.approx(1000 / 0.1)
    assert summary["tokens_per_s_2"] == pytest.approx(2000 / 0.11)
    assert summary["reducer_ms"] == pytest.approx(3.0)
    assert distributed._summary("torch", [job])["reducer_ms"] is None
