"""Every collective, every dtype (complex included), blocking and with async_op work handles, on 2 MPI ranks."""

import pytest

COLLECTIVES = r"""
import sys

import numpy as np
import somegrad as sg
import somegrad.distributed as dist
from somegrad.distributed import ReduceOp

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 2 and dist.is_initialized() and dist.get_backend() == "mpi"

def host(t):
    if t.dtype.is_complex or not t.dtype.is_floating_point:
        return t.numpy()
    return t.detach().to(sg.float64).numpy()

FLOATS = (sg.float16, sg.bfloat16, sg.float32, sg.float64)
INTS = (sg.uint8, sg.int8, sg.int16, sg.int32, sg.int64)
values = [np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) * (r + 1) for r in range(world)]  # rank r's data
for dtype in FLOATS + INTS:
    mine = values[rank]
    expected = {
        ReduceOp.SUM: values[0] + values[1],
        ReduceOp.PRODUCT: values[0] * values[1],
        ReduceOp.MIN: np.minimum(values[0], values[1]),
        ReduceOp.MAX: np.maximum(values[0], values[1]),
    }
    if dtype in FLOATS:
        expected[ReduceOp.AVG] = (values[0] + values[1]) / 2
    for op, want in expected.items():
        for async_op in (False, True):
            t = sg.tensor(mine, dtype=dtype)
            work = dist.all_reduce(t, op=op, async_op=async_op)
            if async_op:
                assert isinstance(work, dist.Work)
                assert work.wait() is True and work.is_completed() and work.is_success()
                assert work.result()[0] is t
            else:
                assert work is None
            assert t.dtype is dtype
            np.testing.assert_array_equal(host(t), want, err_msg=f"all_reduce {op} {dtype}")
    # a non-contiguous tensor is reduced through a copy and written back in place
    base = sg.tensor(mine, dtype=dtype)
    view = base.transpose(0, 1)
    version = view._version
    dist.all_reduce(view, op=ReduceOp.SUM)
    np.testing.assert_array_equal(host(base), values[0] + values[1])
    assert view._version > version

    # data movement, bit-exact for every dtype
    t = sg.tensor(mine, dtype=dtype)
    dist.broadcast(t, src=1)
    np.testing.assert_array_equal(host(t), host(sg.tensor(values[1], dtype=dtype)))
    out = [sg.zeros(2, 3, dtype=dtype) for _ in range(world)]
    dist.all_gather(out, sg.tensor(mine, dtype=dtype))
    for r in range(world):
        np.testing.assert_array_equal(host(out[r]), host(sg.tensor(values[r], dtype=dtype)))
    flat = sg.zeros(4, 3, dtype=dtype)
    dist.all_gather_into_tensor(flat, sg.tensor(mine, dtype=dtype))
    np.testing.assert_array_equal(host(flat), np.concatenate([host(sg.tensor(v, dtype=dtype)) for v in values]))
    stacked = sg.zeros(2, 2, 3, dtype=dtype)
    dist.all_gather_into_tensor(stacked, sg.tensor(mine, dtype=dtype))
    np.testing.assert_array_equal(host(stacked).reshape(4, 3), host(flat))
    # reduce_scatter: block r of the sum lands on rank r
    blocks = [sg.tensor(values[rank][b], dtype=dtype) for b in range(world)]
    got = sg.zeros(3, dtype=dtype)
    dist.reduce_scatter(got, blocks, op=ReduceOp.SUM)
    np.testing.assert_array_equal(host(got), values[0][rank] + values[1][rank])
    got = sg.zeros(1, 3, dtype=dtype)
    dist.reduce_scatter_tensor(got, sg.tensor(mine, dtype=dtype), op=ReduceOp.MAX)
    np.testing.assert_array_equal(host(got)[0], np.maximum(values[0], values[1])[rank])
    t = sg.tensor(mine, dtype=dtype)
    dist.reduce(t, dst=0, op=ReduceOp.SUM)
    if rank == 0:
        np.testing.assert_array_equal(host(t), values[0] + values[1])
    gathered = [sg.zeros(2, 3, dtype=dtype) for _ in range(world)] if rank == 1 else None
    dist.gather(sg.tensor(mine, dtype=dtype), gathered, dst=1)
    if rank == 1:
        for r in range(world):
            np.testing.assert_array_equal(host(gathered[r]), host(sg.tensor(values[r], dtype=dtype)))
    part = sg.zeros(2, 3, dtype=dtype)
    dist.scatter(part, [sg.tensor(v, dtype=dtype) for v in values] if rank == 0 else None, src=0)
    np.testing.assert_array_equal(host(part), host(sg.tensor(values[rank], dtype=dtype)))
    # point to point
    if rank == 0:
        dist.send(sg.tensor(mine, dtype=dtype) + 1, dst=1, tag=7)
        work = dist.isend(sg.tensor(mine, dtype=dtype), dst=1)
        work.wait()
    else:
        t = sg.zeros(2, 3, dtype=dtype)
        assert dist.recv(t, tag=7) == 0
        np.testing.assert_array_equal(host(t), host(sg.tensor(values[0] + 1, dtype=dtype)))
        work = dist.irecv(t, src=0)
        work.wait()
        np.testing.assert_array_equal(host(t), host(sg.tensor(values[0], dtype=dtype)))

# complex: SUM and AVG of the numbers, and every data movement bit for bit
numbers = [values[r] - 1j * (values[r] + r) for r in range(world)]
for dtype in (sg.complex64, sg.complex128):
    mine = numbers[rank]
    t = sg.tensor(mine, dtype=dtype)
    dist.all_reduce(t)
    assert t.dtype is dtype
    np.testing.assert_array_equal(host(t), numbers[0] + numbers[1])
    t = sg.tensor(mine, dtype=dtype)
    dist.all_reduce(t, op=ReduceOp.AVG, async_op=True).wait()
    np.testing.assert_array_equal(host(t), (numbers[0] + numbers[1]) / 2)
    t = sg.tensor(mine, dtype=dtype)
    dist.reduce(t, dst=1, op=ReduceOp.SUM)
    if rank == 1:
        np.testing.assert_array_equal(host(t), numbers[0] + numbers[1])
    got = sg.zeros(3, dtype=dtype)
    dist.reduce_scatter(got, [sg.tensor(mine[b], dtype=dtype) for b in range(world)], op=ReduceOp.SUM)
    np.testing.assert_array_equal(host(got), numbers[0][rank] + numbers[1][rank])
    t = sg.tensor(mine, dtype=dtype)
    dist.broadcast(t, src=1)
    np.testing.assert_array_equal(host(t), numbers[1])
    out = [sg.zeros(2, 3, dtype=dtype) for _ in range(world)]
    dist.all_gather(out, sg.tensor(mine, dtype=dtype))
    for r in range(world):
        np.testing.assert_array_equal(host(out[r]), numbers[r])
    part = sg.zeros(2, 3, dtype=dtype)
    dist.scatter(part, [sg.tensor(v, dtype=dtype) for v in numbers] if rank == 0 else None, src=0)
    np.testing.assert_array_equal(host(part), numbers[rank])
    if rank == 0:
        dist.send(sg.tensor(mine, dtype=dtype), dst=1)
    else:
        t = sg.zeros(2, 3, dtype=dtype)
        dist.recv(t, src=0)
        np.testing.assert_array_equal(host(t), numbers[0])
    try:
        dist.all_reduce(sg.tensor(mine, dtype=dtype), op=ReduceOp.MAX)
    except ValueError as exc:
        assert "complex" in str(exc), exc
    else:
        raise AssertionError("MAX of complex numbers was not refused")

# bool: SUM and MAX are or, PRODUCT and MIN are and
flags = sg.tensor([True, rank == 0, False])
dist.all_reduce(flags, op=ReduceOp.SUM)
assert flags.tolist() == [True, True, False]
flags = sg.tensor([True, rank == 0, False])
dist.all_reduce(flags, op=ReduceOp.MIN)
assert flags.tolist() == [True, False, False]
bits = sg.tensor([0b1100 | rank], dtype=sg.int32)
dist.all_reduce(bits, op=ReduceOp.BXOR)
assert bits.item() == 1

# several work handles in flight at once, completed out of order
tensors = [sg.ones(1000) * (rank + i) for i in range(5)]
works = [dist.all_reduce(t, op=ReduceOp.SUM, async_op=True) for t in tensors]
for i in reversed(range(5)):
    works[i].wait()
    assert float(tensors[i][0]) == 1 + 2 * i
work = dist.barrier(async_op=True)
work.wait()
dist.barrier()

# bfloat16 sums are reduced in float32 and rounded once
x = sg.tensor([1.0 + 2**-8 * rank] * 4, dtype=sg.bfloat16)
dist.all_reduce(x)
assert x.dtype is sg.bfloat16
dist.destroy_process_group()
assert not dist.is_initialized()
sys.stdout.write(f"OK {rank}\n")
"""


@pytest.mark.slow
def test_every_collective_and_dtype_on_two_ranks(ranks):
    ranks.check(ranks.run(COLLECTIVES, n=2, timeout=180))


AUTOGRAD = r"""
import sys

import somegrad as sg
import somegrad.distributed as dist

dist.init_process_group()
rank = dist.get_rank()
w = sg.ones(3, requires_grad=True)
y = (w * 2).sum()
y.backward()
dist.all_reduce(w.grad, op=dist.ReduceOp.AVG)
assert w.grad.tolist() == [2.0, 2.0, 2.0]
# a tensor saved for the backward and overwritten by a collective is caught, not silently used
a = sg.ones(3, requires_grad=True)
b = sg.ones(3) * (rank + 1)
out = (a * b).sum()
dist.all_reduce(b)
try:
    out.backward()
except RuntimeError as exc:
    assert "modified by an in-place operation" in str(exc), exc
else:
    raise AssertionError("the overwritten saved tensor went unnoticed")
sys.stdout.write(f"OK {rank}\n")
"""


def test_collectives_move_version_counters(ranks):
    ranks.check(ranks.run(AUTOGRAD, n=2, timeout=60))
