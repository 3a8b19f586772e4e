"""The launcher: `python -m somegrad.distributed.run -n N script.py args`."""

import sys

import pytest

from somegrad.distributed import run

WHO = r"""
import os
import sys

import somegrad.distributed as dist

dist.init_process_group()
sys.stdout.write(f"OK {dist.get_rank()} of {dist.get_world_size()} threads={os.environ['OMP_NUM_THREADS']} "
                 f"args={sys.argv[1:]}\n")
"""


def test_launcher_starts_n_ranks_with_one_thread_each(ranks):
    launcher = [sys.executable, "-m", "somegrad.distributed.run", "-n", "2"]
    result = ranks.run(WHO, timeout=60, launcher=launcher, args=["--epochs", "3"], env={"OMP_NUM_THREADS": ""})
    result.stdout = result.stdout.replace("OK 0 of 2", "OK 0").replace("OK 1 of 2", "OK 1")
    ranks.check(result)
    assert result.stdout.count("threads=1 args=['--epochs', '3']") == 2, result.stdout


def test_launcher_threads_option(ranks):
    launcher = [sys.executable, "-m", "somegrad.distributed.run", "-n", "1", "--threads", "2"]
    result = ranks.run(WHO, timeout=60, launcher=launcher)
    assert "threads=2" in result.stdout, result.stdout + result.stderr


def test_launcher_command_line(capsys):
    assert run.main(["-n", "4", "--hostfile", "hosts", "--dry-run", "train.py", "--lr", "1e-3"]) == 0
    command = capsys.readouterr().out.split()
    assert command[1:5] == ["-n", "4", "-f", "hosts"]
    assert command[-6:] == [sys.executable, "-m", "mpi4py", "train.py", "--lr", "1e-3"]
    assert run.main(["-n", "2", "--dry-run", "-m", "pkg.train"]) == 0
    assert capsys.readouterr().out.split()[-3:] == ["mpi4py", "-m", "pkg.train"]


def test_launcher_without_mpiexec_says_how_to_get_one(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SOMEGRAD_MPIEXEC", raising=False)
    with pytest.raises(FileNotFoundError, match="pip install 'somegrad-numpy\\[mpi\\]'"):
        run.find_mpiexec()
    assert run.main(["-n", "2", "script.py"]) == 2
    assert "no mpiexec found" in capsys.readouterr().err


def test_launcher_rejects_zero_processes(capsys):
    assert run.main(["-n", "0", "--dry-run", "script.py"]) == 2
    assert "-n must be at least 1" in capsys.readouterr().err
