"""Backend plugins: a second device, broken plugins reported clearly, the dispatcher's checks,
`somegrad info`, and running with no backend at all."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from plugin_helpers import make_plugin

import somegrad as sg
from somegrad import backends, plugins

SOURCES = [str(Path(sg.__file__).parents[1]), str(Path(__import__("somegrad_numpy").__file__).parents[1])]


def run_python(code, tmp_path, **env):
    """Run `code` in a fresh interpreter with the source tree on the path."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *SOURCES])
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


def test_second_device_from_an_in_process_plugin(fake_device):
    x = sg.tensor([1.0, 2.0], device="fake", requires_grad=True)
    assert x.device == fake_device and str(x.device) == "fake"
    assert repr(x * 2) == "tensor([2., 4.], device='fake', grad_fn=<MulBackward0>)"
    y = x.to("cpu")
    assert y.device == "cpu"
    (y * 3).sum().backward()
    assert x.grad.device == fake_device and x.grad.tolist() == [3.0, 3.0]
    assert any(info.name == "fake" and info.status == "available" for info in sg.list_backends())


def test_mixing_devices_names_both(fake_device):
    a, b = sg.tensor([1.0], device="fake"), sg.tensor([1.0])
    with pytest.raises(
        RuntimeError, match="add: expected all tensors on the same device, but found tensors on fake and cpu"
    ):
        a + b
    with pytest.raises(RuntimeError, match="matmul: expected all tensors on the same device.*cpu and fake"):
        sg.zeros(1, 1) @ sg.zeros(1, 1, device="fake")
    with pytest.raises(RuntimeError, match="index: indices are on cpu but the indexed tensor is on fake"):
        sg.zeros(3, device="fake")[sg.tensor([0])]


def test_unknown_device_says_which_are_installed():
    with pytest.raises(
        RuntimeError, match=r"no somegrad backend serves device 'tpu'; installed device types: \[.*'cpu'.*\]"
    ):
        sg.zeros(1, device="tpu")


def test_a_kernel_returning_the_wrong_shape_is_caught_by_the_dispatcher():
    from somegrad_numpy.backend import NumpyBackend

    class WrongBackend(NumpyBackend):
        name = "wrong"
        device_type = "wrong"

        def __init__(self):
            super().__init__()
            # linear_backward returns three gradients: here the weight's is missing
            no_weight_grad = lambda g, x, w, **_: (g @ w, None, g.sum(0))  # noqa: E731
            self.kernels = dict(self.kernels, neg=lambda x: x[:1], linear_backward=no_weight_grad)

    name = plugins.register_plugin(make_plugin(WrongBackend, "wrong", "wrong"), name="wrong-plugin")
    try:
        x = sg.tensor([1.0, 2.0], device="wrong")
        with pytest.raises(
            RuntimeError,
            match=r"neg: backend 'wrong' returned an array of shape \(1,\), but the op's shape rule says \(2,\)",
        ):
            -x
        w = sg.ones(3, 2, device="wrong", requires_grad=True)
        out = sg.ops.nn.linear(x.reshape(1, 2), w, sg.zeros(3, device="wrong"))
        with pytest.raises(
            RuntimeError,
            match=r"linear_backward: backend 'wrong' returned no array, but the op's shape rule says \(3, 2\)",
        ):
            out.sum().backward()
    finally:
        plugins.unregister_plugin(name)


def test_a_plugin_whose_registration_raises_is_reported():
    class Broken:
        @sg.hookimpl
        def somegrad_register_backends(self, register):
            raise ImportError("libfoo.so not found")

    name = plugins.register_plugin(Broken(), name="broken-registration")
    try:
        with pytest.warns(
            RuntimeWarning, match="somegrad plugin 'broken-registration' could not be loaded: libfoo.so not found"
        ):
            infos = sg.list_backends()
        assert plugins.plugin_errors["broken-registration"] == "ImportError: libfoo.so not found"
        assert any(info.name == "numpy" and info.status == "available" for info in infos)
        assert sg.tensor([1.0]).tolist() == [1.0]  # the others keep working
    finally:
        plugins.unregister_plugin(name)
        plugins.plugin_errors.pop("broken-registration", None)


def test_a_duplicate_device_type_is_listed_as_broken():
    from somegrad_numpy.backend import NumpyBackend

    class Second(NumpyBackend):
        name = "numpy2"

    name = plugins.register_plugin(make_plugin(Second, "numpy2", "cpu"), name="duplicate-cpu")
    try:
        (info,) = [i for i in sg.list_backends() if i.name == "numpy2"]
        assert info.status == "broken"
        assert "device type 'cpu' is already served by backend 'numpy'" in info.reason
        assert sg.tensor([1.0])._backend().name == "numpy"
    finally:
        plugins.unregister_plugin(name)


def test_an_unavailable_backend_is_listed_with_its_reason():
    def factory():
        raise backends.BackendUnavailable("no GPU found")

    name = plugins.register_plugin(make_plugin(factory, "gpuish", "gpuish"), name="unavailable-plugin")
    try:
        (info,) = [i for i in sg.list_backends() if i.name == "gpuish"]
        assert (info.status, info.reason) == ("unavailable", "no GPU found")
        with pytest.raises(
            RuntimeError, match="device 'gpuish' is not available: backend 'gpuish' is unavailable: no GPU found"
        ):
            sg.zeros(1, device="gpuish")
    finally:
        plugins.unregister_plugin(name)


def test_a_plugin_raising_at_import_does_not_break_somegrad(tmp_path):
    (tmp_path / "exploding_plugin.py").write_text("raise RuntimeError('boom at import')\n")
    result = run_python(
        """
        import warnings
        import somegrad as sg
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            print(sg.tensor([1.0, 2.0]).sum().item())
        print([str(w.message) for w in caught])
        from somegrad import plugins
        print(plugins.plugin_errors)
        """,
        tmp_path,
        SOMEGRAD_PLUGINS="somegrad_numpy.plugin,exploding_plugin",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "3.0"
    assert "somegrad plugin 'exploding_plugin' could not be loaded: boom at import" in lines[1]
    assert "'exploding_plugin': 'RuntimeError: boom at import'" in lines[2]


@pytest.mark.parametrize(
    "command",
    [["-m", "somegrad", "info"], ["-c", "import sys; from somegrad.cli import main; sys.exit(main(['info']))"]],
)
def test_somegrad_info_lists_backends_and_broken_plugins(tmp_path, command):
    (tmp_path / "exploding_plugin.py").write_text("raise RuntimeError('boom at import')\n")
    environment = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(tmp_path), *SOURCES]),
        SOMEGRAD_PLUGINS="somegrad_numpy.plugin,exploding_plugin",
    )
    result = subprocess.run(
        [sys.executable, *command], capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"somegrad {sg.__version__}")
    assert "distributions:" in out and "somegrad-numpy" in out
    assert "numpy      device=cpu    available (1 device)" in out
    assert "plugins that failed to load:\n  exploding_plugin: RuntimeError: boom at import" in out


def test_somegrad_info_ops_report(tmp_path):
    result = run_python(
        "import sys; from somegrad.cli import main; sys.exit(main(['info', '--ops', 'numpy']))",
        tmp_path,
        SOMEGRAD_PLUGINS="somegrad_numpy.plugin",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("native (") and "missing (0): -" in result.stdout


def test_without_any_backend_creating_a_tensor_says_to_install_somegrad_numpy(tmp_path):
    result = run_python(
        """
        import somegrad as sg
        try:
            sg.tensor([1.0])
        except RuntimeError as exc:
            print(exc)
        """,
        tmp_path,
        SOMEGRAD_PLUGINS="",
        # every backend this repository's environments may install
        SOMEGRAD_DISABLE_PLUGINS="numpy,cuda,arraystrict",
    )
    assert result.returncode == 0, result.stderr
    assert "no somegrad backend is installed" in result.stdout and "pip install somegrad-numpy" in result.stdout


def test_importing_somegrad_loads_no_plugin(tmp_path):
    (tmp_path / "exploding_plugin.py").write_text("raise RuntimeError('boom at import')\n")
    result = run_python(
        "import somegrad, sys; print('somegrad_numpy' in sys.modules)",
        tmp_path,
        SOMEGRAD_PLUGINS="somegrad_numpy.plugin,exploding_plugin",
    )
    assert result.returncode == 0 and result.stderr == "" and result.stdout.strip() == "False"


def test_op_registry_lists_a_small_set_of_primitives():
    from somegrad.ops import OPS, PRIMITIVES

    assert "add" in PRIMITIVES and "softmax" not in PRIMITIVES and "softmax" in OPS
    assert len(list(PRIMITIVES)) < len(OPS)
    backend = sg.tensor([1.0])._backend()
    assert set(PRIMITIVES) <= set(backend.kernels)


def test_decompositions_agree_with_fused_kernels():
    from somegrad.ops.dispatch import use_decompositions

    x = sg.tensor(np.random.default_rng(0).standard_normal((3, 4)))
    fused = [x.softmax(-1), x.log_softmax(0), x.logsumexp(1), x.sigmoid(), sg.gelu(x), x.relu(), x.clamp(-0.5, 0.5)]
    with use_decompositions():
        decomposed = [
            x.softmax(-1),
            x.log_softmax(0),
            x.logsumexp(1),
            x.sigmoid(),
            sg.gelu(x),
            x.relu(),
            x.clamp(-0.5, 0.5),
        ]
    for a, b in zip(fused, decomposed):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=2e-7)
