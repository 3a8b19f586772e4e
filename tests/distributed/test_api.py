"""somegrad.distributed in one process: the backend registry, argument checks, work handles.

A loopback communication backend (a world of one process), registered as a plugin exactly as a
third party would, lets these run without MPI.
"""

import sys
from datetime import timedelta

import pytest

import somegrad as sg
import somegrad.distributed as dist
from somegrad import plugins
from somegrad.distributed import registry
from somegrad.distributed.comm import CommBackend, Work, completed_work


class Loopback(CommBackend):
    """A group of one: every collective leaves its arrays as a one-rank group would."""

    name = "loopback"
    calls: list = []

    def __init__(self, rank=-1, world_size=-1, timeout=None):
        self.options = (rank, world_size, timeout)

    def _done(self, name, *arrays):
        Loopback.calls.append(name)
        return completed_work(name)

    def all_reduce(self, array, op):
        return self._done("all_reduce", array)

    def broadcast(self, array, src):
        return self._done("broadcast", array)

    def reduce(self, array, dst, op):
        return self._done("reduce", array)

    def all_gather(self, output, array):
        output[...] = array
        return self._done("all_gather")

    def reduce_scatter(self, output, array, op):
        output[...] = array
        return self._done("reduce_scatter")

    def gather(self, output, array, dst):
        output[...] = array
        return self._done("gather")

    def scatter(self, output, array, src):
        output[...] = array
        return self._done("scatter")

    def barrier(self):
        return self._done("barrier")

    def all_gather_ints(self, values):
        return [list(values)]


class LoopbackPlugin:
    @sg.hookimpl
    def somegrad_register_comm_backends(self, register):
        register("loopback", factory=Loopback, device_types=("cpu",))


@pytest.fixture
def loopback():
    name = plugins.register_plugin(LoopbackPlugin(), name="loopback-test")
    registry.reset()
    Loopback.calls = []
    hook = sys.excepthook
    yield
    if dist.is_initialized():
        dist.destroy_process_group()
    assert sys.excepthook is hook
    plugins.unregister_plugin(name)
    registry.reset()


def test_comm_backends_are_plugins_and_an_unknown_name_lists_them(loopback):
    names = {info.name: info for info in dist.comm_backends()}
    assert {"mpi", "loopback"} <= set(names)
    assert names["mpi"].device_types == ("cpu",) and names["mpi"].plugin == "numpy"
    with pytest.raises(ValueError, match=r"no communication backend named 'gloo'; installed: .*loopback.*mpi"):
        dist.init_process_group("gloo")
    assert not dist.is_initialized()


def test_init_destroy_and_the_process_group(loopback):
    dist.init_process_group("loopback", timeout=timedelta(seconds=5))
    assert dist.is_initialized() and dist.get_backend() == "loopback"
    assert dist.get_rank() == 0 and dist.get_world_size() == 1
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("loopback")
    dist.destroy_process_group()
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="init_method"):
        dist.init_process_group("loopback", init_method="tcp://10.0.0.1:23456")
    with pytest.raises(TypeError, match="timedelta"):
        dist.init_process_group("loopback", timeout=30)


def test_collectives_check_their_arguments(loopback):
    dist.init_process_group("loopback")
    x = sg.ones(2, 3)
    with pytest.raises(TypeError, match="all_reduce: tensor must be a Tensor, got list"):
        dist.all_reduce([1.0])
    with pytest.raises(TypeError, match="ReduceOp.AVG needs a floating point tensor, got int64"):
        dist.all_reduce(sg.ones(2, dtype=sg.int64), op=dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="bitwise"):
        dist.all_reduce(x, op=dist.ReduceOp.BAND)
    with pytest.raises(TypeError, match="op must be a ReduceOp"):
        dist.all_reduce(x, op="sum")
    with pytest.raises(ValueError, match="broadcast: src=1 is not a rank of a group of size 1"):
        dist.broadcast(x, src=1)
    with pytest.raises(ValueError, match="tensor_list must be a list of 1 tensors"):
        dist.all_gather([x, x], x)
    with pytest.raises(TypeError, match=r"tensor_list\[0\] has dtype float64, expected float32"):
        dist.all_gather([x.double()], x)
    with pytest.raises(ValueError, match=r"tensor_list\[0\] has shape \(3,\), expected \(2, 3\)"):
        dist.all_gather([sg.ones(3)], x)
    with pytest.raises(ValueError, match="must hold world_size"):
        dist.all_gather_into_tensor(sg.zeros(5), x)
    with pytest.raises(ValueError, match="own rank"):
        dist.send(x, dst=0)
    with pytest.raises(TypeError, match="group must be a ProcessGroup"):
        dist.all_reduce(x, group="world")
    z = sg.ones(2, dtype=sg.complex64)
    for op in (dist.ReduceOp.MAX, dist.ReduceOp.MIN, dist.ReduceOp.PRODUCT, dist.ReduceOp.BAND):
        with pytest.raises(ValueError, match=rf"all_reduce does not support {op!r} on complex tensors \(complex64\)"):
            dist.all_reduce(z, op=op)
    with pytest.raises(ValueError, match="reduce_scatter does not support ReduceOp.MAX on complex"):
        dist.reduce_scatter(sg.zeros(2, dtype=sg.complex128), [z.to(sg.complex128)], op=dist.ReduceOp.MAX)
    assert Loopback.calls == []  # nothing reached the backend
    dist.all_reduce(z, op=dist.ReduceOp.AVG)  # SUM and AVG are the complex reductions
    assert Loopback.calls == ["all_reduce"]


def test_complex_arrays_travel_as_their_float_pairs():
    import numpy as np

    from somegrad.distributed.comm import as_real_pairs

    for dtype, real in ((np.complex64, np.float32), (np.complex128, np.float64)):
        z = np.array([1 + 2j, -3.5 + 0.25j], dtype=dtype)
        pairs = as_real_pairs(z)
        assert pairs.dtype == real and pairs.tolist() == [1.0, 2.0, -3.5, 0.25]
        pairs *= 2  # the same memory: what the engine writes into the pairs is the numbers
        assert z.tolist() == [2 + 4j, -7 + 0.5j]
    x = np.ones(3, dtype=np.float32)
    assert as_real_pairs(x) is x


def test_collectives_on_a_group_of_one(loopback):
    dist.init_process_group("loopback")
    x = sg.arange(6).reshape(2, 3).float()
    version = x._version
    assert dist.all_reduce(x) is None
    assert x._version == version + 1
    work = dist.all_reduce(x, op=dist.ReduceOp.MAX, async_op=True)
    assert work.is_completed() and work.wait() and work.result() == [x]
    out = [sg.zeros(2, 3)]
    dist.all_gather(out, x)
    assert out[0].tolist() == x.tolist()
    flat = sg.zeros(2, 3)
    dist.all_gather_into_tensor(flat, x)
    assert flat.tolist() == x.tolist()
    got = sg.zeros(2, 3)
    dist.reduce_scatter(got, [x])
    assert got.tolist() == x.tolist()
    gathered = [sg.zeros(2, 3)]
    dist.gather(x, gathered, dst=0)
    assert gathered[0].tolist() == x.tolist()
    part = sg.zeros(2, 3)
    dist.scatter(part, [x], src=0)
    assert part.tolist() == x.tolist()
    dist.barrier()  # a group of one has nobody to wait for
    assert Loopback.calls == [
        "all_reduce",
        "all_reduce",
        "all_gather",
        "all_gather",
        "reduce_scatter",
        "gather",
        "scatter",
    ]


def test_work_handles():
    order = []
    state = {"done": False}
    work = Work(lambda: state["done"], lambda: state.update(done=True), "all_reduce")
    work.then(lambda: order.append("first")).then(lambda: order.append("second"))
    assert not work.is_completed() and order == []
    with pytest.raises(dist.DistBackendError, match="all_reduce did not complete within 0.01 s"):
        work.wait(timeout=0.01)
    state["done"] = True
    assert work.wait(timeout=timedelta(seconds=1)) and work.is_completed() and work.is_success()
    assert order == ["first", "second"]
    work.then(lambda: order.append("late"))  # runs at once on a finished work
    assert order[-1] == "late"

    def broken():
        raise OSError("link down")

    failing = Work(broken, broken, "broadcast")
    with pytest.raises(dist.DistBackendError, match="broadcast failed: OSError: link down"):
        failing.wait()
    assert isinstance(failing.exception(), OSError)


def test_mpi_backend_is_registered_without_importing_mpi4py():
    code = (
        "import sys, somegrad, somegrad.distributed as d; "
        "assert d.is_available(); assert 'mpi' in [i.name for i in d.comm_backends()]; "
        "assert 'mpi4py' not in sys.modules; print('clean')"
    )
    import subprocess

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "clean", result.stderr


def test_availability_and_the_node_local_rank(loopback, monkeypatch):
    assert dist.is_gloo_available() is False  # somegrad's CPU backend is mpi
    assert dist.is_mpi_available() == dist.is_backend_available("mpi")
    assert dist.is_nccl_available() is dist.is_backend_available("nccl")
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    assert dist.is_torchelastic_launched() is False
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    with pytest.raises(RuntimeError, match="LOCAL_RANK is not set"):
        dist.get_node_local_rank()
    assert dist.get_node_local_rank(fallback_rank=3) == 3
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert dist.get_node_local_rank(fallback_rank=3) == 1
    assert [op for op in dist.ReduceOp if dist.supports_complex(op)] == [dist.ReduceOp.SUM, dist.ReduceOp.AVG]
