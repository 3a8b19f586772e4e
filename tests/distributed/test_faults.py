"""Faults and bad input on 2 ranks: a rank that raises ends the job; ranks that disagree get a clear error."""

import time

RAISES = r"""
import sys
import time

import somegrad as sg
import somegrad.distributed as dist

dist.init_process_group("mpi")
rank = dist.get_rank()
dist.barrier()
if rank == 1:
    sys.stderr.write(f"RAISED AT {time.time()}\n")
    raise ValueError("rank 1 failed on purpose")
dist.all_reduce(sg.ones(3))  # rank 0 waits here for a rank that is gone
"""


def seconds_to_end(result):
    """From rank 1's raise to the end of the whole job (start-up time, which load stretches, left out)."""
    raised = float(result.stderr.split("RAISED AT ")[1].split()[0])
    return time.time() - raised


def test_a_rank_that_raises_ends_every_rank_within_seconds(ranks):
    result = ranks.run(RAISES, n=2, timeout=120)
    assert result.returncode != 0
    assert "ValueError: rank 1 failed on purpose" in result.stderr, result.stderr
    assert seconds_to_end(result) < 10, f"the job took {seconds_to_end(result):.1f} s to end after the error"


def test_a_rank_that_raises_under_the_launcher(ranks):
    import sys

    result = ranks.run(RAISES, timeout=120, launcher=[sys.executable, "-m", "somegrad.distributed.run", "-n", "2"])
    assert result.returncode != 0
    assert "ValueError: rank 1 failed on purpose" in result.stderr, result.stderr
    assert seconds_to_end(result) < 10


MISMATCH = r"""
import sys

import somegrad as sg
import somegrad.distributed as dist

dist.init_process_group("mpi")
rank = dist.get_rank()
assert dist.get_debug_level() == "DETAIL"

def expect(call, *fragments):
    try:
        call()
    except dist.DistError as exc:
        for fragment in fragments:
            assert fragment in str(exc), (fragment, str(exc))
    else:
        raise AssertionError("no error for mismatched collectives")

expect(
    lambda: dist.all_reduce(sg.ones(3 + rank)),
    "all_reduce: the ranks called mismatched collectives",
    "rank 0: all_reduce of a float32 tensor of shape (3,)",
    "rank 1: all_reduce of a float32 tensor of shape (4,)",
)
expect(lambda: dist.broadcast(sg.ones(2, dtype=sg.float32 if rank == 0 else sg.float64), src=0), "float64")
# rank 0 all-reduces while rank 1 broadcasts
expect(lambda: dist.all_reduce(sg.ones(2)) if rank == 0 else dist.broadcast(sg.ones(2), src=0), "broadcast")
# after the errors the ranks are still in step
t = sg.ones(2)
dist.all_reduce(t)
assert t.tolist() == [2.0, 2.0]
sys.stdout.write(f"OK {rank}\n")
"""


def test_mismatched_shapes_dtypes_and_collectives_are_a_clear_error_in_debug_mode(ranks):
    ranks.check(ranks.run(MISMATCH, n=2, timeout=60, env={"SOMEGRAD_DISTRIBUTED_DEBUG": "DETAIL"}))


DIFFERENT_MODELS = r"""
import sys

import somegrad.distributed as dist
from somegrad import nn
from somegrad.nn.parallel import DistributedDataParallel

dist.init_process_group("mpi")
rank = dist.get_rank()
try:
    DistributedDataParallel(nn.Linear(3, 4 + rank))
except RuntimeError as exc:
    assert "the model differs across ranks" in str(exc), exc
else:
    raise AssertionError("replicas of different shapes were accepted")
sys.stdout.write(f"OK {rank}\n")
"""


def test_ddp_refuses_replicas_of_different_shapes(ranks):
    ranks.check(ranks.run(DIFFERENT_MODELS, n=2, timeout=60))


NO_INIT = r"""
import sys

import somegrad as sg
import somegrad.distributed as dist

# a script without a launcher and without init_process_group is one process; it imports no MPI
assert dist.is_available() and not dist.is_initialized()
assert "mpi4py" not in sys.modules
for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(sg.ones(1))):
    try:
        call()
    except ValueError as exc:
        assert "init_process_group" in str(exc)
    else:
        raise AssertionError("a collective ran without a process group")
sys.stdout.write("OK 0\n")
"""


def test_a_script_without_launcher_or_init_is_one_process(ranks):
    ranks.check(ranks.run_single(NO_INIT), n=1)
