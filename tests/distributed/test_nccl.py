"""The nccl backend: registered by somegrad-cuda, unavailable (with the reason) without a GPU.

Its collectives run only on a machine with CUDA GPUs (`-m gpu`); here the registration, the
reason it gives and its dtype mapping are checked.
"""

import subprocess
import sys
from types import SimpleNamespace

import pytest

import somegrad.distributed as dist


def _gpu_reason():
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed"
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            return "no CUDA device"
    except Exception as exc:
        return f"CUDA is not usable: {exc}"
    return None


def test_nccl_is_registered_for_cuda_tensors():
    infos = {info.name: info for info in dist.comm_backends()}
    assert infos["nccl"].device_types == ("cuda",)
    assert infos["nccl"].plugin == "cuda"


@pytest.mark.skipif(_gpu_reason() is None, reason="a GPU is present: the backend is available")
def test_without_a_gpu_nccl_is_unavailable_and_says_why():
    assert dist.is_backend_available("nccl") is False
    with pytest.raises(RuntimeError, match="communication backend 'nccl' is unavailable: (CuPy|no CUDA|CUDA)"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


def test_dtype_mapping():
    from somegrad_cuda.nccl import nccl_datatype

    fake = SimpleNamespace(
        NCCL_INT8=0, NCCL_UINT8=1, NCCL_INT32=2, NCCL_INT64=4, NCCL_FLOAT16=6, NCCL_FLOAT32=7, NCCL_FLOAT64=8
    )
    assert nccl_datatype(fake, "bfloat16", reducing=True) == (9, None)  # ncclBfloat16, reduced natively
    assert nccl_datatype(fake, "float16", reducing=True) == (6, None)
    assert nccl_datatype(fake, "bool", reducing=True) == (1, None)
    assert nccl_datatype(fake, "int16", reducing=True) == (2, "int32")  # no ncclInt16: reduce in int32
    assert nccl_datatype(fake, "int16", reducing=False) == (6, None)  # moved as 16-bit patterns


GPU_PROGRAM = r"""
import sys

import somegrad as sg
import somegrad.distributed as dist

dist.init_process_group("nccl")
rank, world = dist.get_rank(), dist.get_world_size()
for dtype in (sg.float32, sg.float16, sg.bfloat16, sg.int64, sg.int16, sg.bool, sg.complex64):
    t = sg.ones(4, dtype=dtype, device="cuda") if dtype is not sg.bool else sg.tensor([True] * 4, device="cuda")
    dist.all_reduce(t)
    assert t.dtype is dtype
    if dtype is not sg.bool:
        assert t.cpu().tolist() == [world] * 4, (dtype, t.cpu().tolist())
z = sg.tensor([1 + 2j, 3 - 1j], device="cuda") * (rank + 1)
dist.all_reduce(z, op=dist.ReduceOp.AVG)
assert z.cpu().tolist() == [(1 + 2j) * (world + 1) / 2, (3 - 1j) * (world + 1) / 2], z.cpu().tolist()
out = sg.zeros(world * 4, device="cuda")
work = dist.all_gather_into_tensor(out, sg.ones(4, device="cuda") * rank, async_op=True)
work.wait()
assert out.cpu().tolist()[-1] == world - 1
t = sg.ones(3, device="cuda")
dist.all_reduce(t, op=dist.ReduceOp.AVG)
assert t.cpu().tolist() == [1.0, 1.0, 1.0]
dist.barrier()
sys.stdout.write(f"OK {rank}\n")
"""


@pytest.mark.gpu
@pytest.mark.skipif(_gpu_reason() is not None, reason=str(_gpu_reason()))
def test_nccl_collectives_on_the_gpus(ranks):
    import cupy

    n = cupy.cuda.runtime.getDeviceCount()
    ranks.check(ranks.run(GPU_PROGRAM, n=n, timeout=180), n=n)


def test_importing_the_cuda_plugin_imports_no_cupy_or_mpi():
    code = "import sys, somegrad_cuda.plugin, somegrad_cuda.nccl; print(sorted({'cupy', 'mpi4py'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
