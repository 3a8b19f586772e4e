"""The cuda backend: reported unavailable with its reason without a GPU; on a GPU, the same
results as the numpy backend. (The full conformance suite runs on cuda through
`tests/conformance` and `hatch run cuda:conformance`.)"""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import somegrad as sg

requires_gpu = pytest.mark.skipif(not sg.cuda.is_available(), reason="no usable CUDA device (or CuPy) on this machine")


def test_without_gpu_import_works_and_info_says_why():
    code = (
        "import somegrad, sys; from somegrad.cli import main; "
        "infos = {b.name: b for b in somegrad.backends.backends()}; cuda = infos.get('cuda');"
        "print(cuda.status if cuda else 'absent', '|', cuda.reason if cuda else '')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    status, reason = (part.strip() for part in out.split("|"))
    if status == "absent":
        pytest.skip("somegrad-cuda is not installed in this environment")
    if importlib.util.find_spec("cupy") is None:
        assert status == "unavailable"
        assert "CuPy is not installed" in reason
    else:
        assert status in ("available", "unavailable")


def test_cuda_functions_without_gpu_are_honest():
    if sg.cuda.is_available():
        pytest.skip("a GPU is present")
    assert sg.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="cuda"):
        sg.zeros(2, device="cuda")


@pytest.mark.gpu
@requires_gpu
@pytest.mark.parametrize("dtype", [sg.float32, sg.float64, sg.float16])
def test_mlp_forward_backward_matches_numpy(dtype):
    sg.manual_seed(0)
    x = sg.randn(8, 5, dtype=sg.float64)
    w = sg.randn(5, 3, dtype=sg.float64)
    results = {}
    for device in ("cpu", "cuda"):
        xd = x.to(device).to(dtype).requires_grad_()
        wd = w.to(device).to(dtype).requires_grad_()
        loss = (xd @ wd).tanh().softmax(-1).log().sum()
        loss.backward()
        results[device] = (loss.item(), xd.grad.cpu().double().numpy(), wd.grad.cpu().double().numpy())
    tol = 1e-2 if dtype is sg.float16 else 1e-5
    np.testing.assert_allclose(results["cuda"][0], results["cpu"][0], rtol=tol, atol=tol)
    np.testing.assert_allclose(results["cuda"][1], results["cpu"][1], rtol=tol, atol=tol)
    np.testing.assert_allclose(results["cuda"][2], results["cpu"][2], rtol=tol, atol=tol)


@pytest.mark.gpu
@requires_gpu
def test_devices_memory_and_seeding():
    x = sg.ones(1024, 1024, device="cuda")
    assert str(x.device) == "cuda:0" and x.is_cuda
    assert sg.cuda.memory_allocated() >= 4 * 1024 * 1024
    assert sg.cuda.max_memory_allocated() >= sg.cuda.memory_allocated()
    sg.cuda.synchronize()
    sg.manual_seed(3)
    a = sg.randn(100, device="cuda").cpu().numpy()
    sg.manual_seed(3)
    b = sg.randn(100, device="cuda").cpu().numpy()
    np.testing.assert_array_equal(a, b)
    state = sg.get_rng_state()
    c = sg.rand(10, device="cuda").cpu().numpy()
    sg.set_rng_state(state)
    np.testing.assert_array_equal(sg.rand(10, device="cuda").cpu().numpy(), c)
    with pytest.raises(RuntimeError, match="same device"):
        sg.ones(3) + sg.ones(3, device="cuda")
    del x
    sg.cuda.empty_cache()
