"""The launcher: `python -m somegrad.distributed.run -n N script.py args`."""

import sys

import pytest

from somegrad.distributed import run

WHO = r"""
import os
import sys

import somegrad.distributed as dist

dist.init_process_group()
rank, world = dist.get_rank(), dist.get_world_size()
# what a script written for torchrun reads
torchrun = [os.environ.get(name) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")]
assert torchrun == [str(rank), str(world), str(rank), str(world)], torchrun
sys.stdout.write(f"OK {rank} of {world} threads={os.environ['OMP_NUM_THREADS']} args={sys.argv[1:]}\n")
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
    assert command[-6:] == [sys.executable, "-m", "somegrad.distributed.rank_main", "train.py", "--lr", "1e-3"]
    assert run.main(["-n", "2", "--dry-run", "-m", "pkg.train"]) == 0
    assert capsys.readouterr().out.split()[-3:] == ["somegrad.distributed.rank_main", "-m", "pkg.train"]


def test_torchrun_variables_from_each_mpi_launcher():
    from somegrad.distributed.rank_main import torchrun_environment

    mpich = {"PMI_RANK": "3", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"}
    assert torchrun_environment(mpich) == {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    open_mpi = {
        "OMPI_COMM_WORLD_RANK": "5",
        "OMPI_COMM_WORLD_SIZE": "8",
        "OMPI_COMM_WORLD_LOCAL_RANK": "1",
        "OMPI_COMM_WORLD_LOCAL_SIZE": "4",
    }
    expected = {"RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4"}
    assert torchrun_environment(open_mpi) == expected
    slurm = {"SLURM_PROCID": "2", "SLURM_NTASKS": "6", "SLURM_LOCALID": "0", "SLURM_NTASKS_PER_NODE": "2(x3)"}
    assert torchrun_environment(slurm) == {"RANK": "2", "WORLD_SIZE": "6", "LOCAL_RANK": "0"}
    assert torchrun_environment({"PATH": "/usr/bin"}) == {}


def test_a_torchrun_variable_already_set_is_kept(ranks):
    source = "import os, sys\nsys.stdout.write(f\"OK {os.environ['PMI_RANK']} {os.environ['RANK']}\\n\")\n"
    launcher = [sys.executable, "-m", "somegrad.distributed.run", "-n", "2"]
    result = ranks.run(source, timeout=60, launcher=launcher, env={"RANK": "7"})
    assert sorted(result.stdout.split("\n")[:2]) == ["OK 0 7", "OK 1 7"], result.stdout + result.stderr


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
