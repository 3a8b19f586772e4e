"""Backend plugins: a second device, broken plugins reported clearly, the dispatcher's checks,
`somegrad info`, and running with no backend at all."""

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from plugin_helpers import HOSTILE_PLUGINS, make_plugin, write_hostile_plugins

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


def test_a_second_claimant_of_a_device_type_is_inactive_and_warned_about_once():
    from somegrad_numpy.backend import NumpyBackend

    class Second(NumpyBackend):
        name = "numpy2"

    name = plugins.register_plugin(make_plugin(Second, "numpy2", "cpu"), name="duplicate-cpu")
    try:
        with pytest.warns(RuntimeWarning) as caught:
            (info,) = [i for i in sg.list_backends() if i.name == "numpy2"]
            backends.reset()  # collecting again does not warn again
            sg.list_backends()
        messages = [str(w.message) for w in caught if "numpy2" in str(w.message)]
        assert messages == [
            "somegrad: backend 'numpy2' (plugin 'duplicate-cpu') also claims device type 'cpu', which backend "
            "'numpy' (plugin 'numpy', somegrad's own) serves; it is not used (select it with "
            "SOMEGRAD_BACKENDS=cpu=numpy2)"
        ]
        assert info.status == "inactive" and info.backend is None  # its factory never ran
        assert "device type 'cpu' is served by backend 'numpy'" in info.reason
        assert sg.tensor([1.0])._backend().name == "numpy"
    finally:
        plugins.unregister_plugin(name)


def test_the_user_selects_the_backend_of_a_device_type(monkeypatch):
    from somegrad_numpy.backend import NumpyBackend

    class Second(NumpyBackend):
        name = "numpy2"

    name = plugins.register_plugin(make_plugin(Second, "numpy2", "cpu"), name="second-cpu")
    try:
        backends.select_backend("cpu", "numpy2")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the user chose: nothing to warn about
            assert sg.tensor([1.0])._backend().name == "numpy2"
        (numpy_info,) = [i for i in sg.list_backends() if i.name == "numpy"]
        assert (
            numpy_info.status == "inactive" and "select this one with SOMEGRAD_BACKENDS=cpu=numpy" in numpy_info.reason
        )
        backends.select_backend("cpu", None)
        with pytest.warns(RuntimeWarning, match="backend 'numpy2' .* also claims device type 'cpu'"):
            assert sg.tensor([1.0])._backend().name == "numpy"
        monkeypatch.setenv("SOMEGRAD_BACKENDS", "cpu=numpy2")
        backends.reset()
        assert sg.tensor([1.0])._backend().name == "numpy2"
        monkeypatch.setenv("SOMEGRAD_BACKENDS", "cpu=nosuchbackend")
        backends.reset()
        with pytest.raises(
            RuntimeError,
            match=r"SOMEGRAD_BACKENDS selects backend 'nosuchbackend' for device 'cpu', but no plugin registers a "
            r"backend of that name for it \(registered for 'cpu': \['numpy', 'numpy2'\]\)",
        ):
            sg.tensor([1.0])
    finally:
        backends.select_backend("cpu", None)
        monkeypatch.delenv("SOMEGRAD_BACKENDS", raising=False)
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


# --- hostile plugins, loaded in a fresh interpreter as a user's installation would ---------------

HOSTILE_CHILD = """
import json, sys, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import somegrad as sg
    from somegrad import backends, plugins
    report = {"sum": None}
    try:
        report["sum"] = (sg.tensor([1.0, 2.0]) + sg.tensor([1.0, 1.0])).tolist()
        report["cpu_backend"] = sg.tensor([1.0])._backend().name
    except RuntimeError as exc:
        report["cpu_error"] = str(exc)
    report["backends"] = {i.name: [i.device_type, i.status, i.reason] for i in sg.list_backends()}
    report["errors"] = dict(plugins.plugin_errors)
    for device in sys.argv[1:]:
        try:
            sg.zeros(1, device=device)
        except RuntimeError as exc:
            report["error:" + device] = str(exc)
report["warnings"] = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
print(json.dumps(report))
"""


CONTAINED = [name for name in HOSTILE_PLUGINS if name != "interrupt_at_import_plugin"]


def hostile(folder, plugin_names, *devices, **env):
    """Load the named hostile plugins before somegrad's own (as if discovered first), in a fresh
    interpreter; returns what it saw."""
    write_hostile_plugins(folder, *plugin_names)
    modules = ",".join([*plugin_names, "somegrad_numpy.plugin"])
    result = run_python_args(folder, ["-c", HOSTILE_CHILD, *devices], SOMEGRAD_PLUGINS=modules, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    """Every contained hostile plugin at once (one interpreter for all the tests that read it)."""
    return hostile(tmp_path_factory.mktemp("hostile"), CONTAINED, "impostor", "weird", "exitdev")


def run_python_args(tmp_path, arguments, **env):
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *SOURCES])
    environment.pop("SOMEGRAD_BACKENDS", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120
    )


def test_a_cpu_backend_discovered_first_does_not_take_the_cpu_over(tmp_path, hostile_report):
    """It used to win silently ("first one wins"), its wrong add gave 1 + 1 = 0, and
    somegrad-numpy was listed as broken."""
    report = hostile_report
    assert report["sum"] == [2.0, 3.0] and report["cpu_backend"] == "numpy"
    assert report["backends"]["numpy"][1] == "available"
    assert report["backends"]["wrongcpu"][:2] == ["cpu", "inactive"]
    assert "SOMEGRAD_BACKENDS=cpu=wrongcpu" in report["backends"]["wrongcpu"][2]
    claims = [w for w in report["warnings"] if "wrongcpu" in w]
    assert len(claims) == 1 and "also claims device type 'cpu'" in claims[0]
    # and the user can choose it
    chosen = hostile(tmp_path, ["wrong_cpu_plugin"], SOMEGRAD_BACKENDS="cpu=wrongcpu")
    assert chosen["cpu_backend"] == "wrongcpu" and chosen["sum"] == [0.0, 1.0]
    assert chosen["backends"]["numpy"][1] == "inactive"


def test_a_backend_named_like_an_installed_one_does_not_break_it(hostile_report):
    report = hostile_report
    assert report["sum"] == [2.0, 3.0]
    assert report["backends"]["numpy"][:2] == ["cpu", "available"]
    impostor = report["backends"]["numpy (impostor_plugin)"]
    assert impostor[:2] == ["impostor", "inactive"]
    assert (
        impostor[2]
        == "backend name 'numpy' is already registered by plugin 'somegrad_numpy.plugin'; this registration is ignored"
    )
    assert sum("registers a backend named 'numpy'" in w for w in report["warnings"]) == 1
    assert "no somegrad backend serves device 'impostor'" in report["error:impostor"]


def test_a_cpu_factory_that_raises_does_not_break_the_cpu(tmp_path, hostile_report):
    report = hostile_report
    assert report["sum"] == [2.0, 3.0] and report["cpu_backend"] == "numpy"
    assert report["backends"]["raisingcpu"][1] == "inactive"  # never called
    chosen = hostile(tmp_path, ["raising_cpu_plugin"], SOMEGRAD_BACKENDS="cpu=raisingcpu")
    assert chosen["sum"] is None
    assert chosen["cpu_error"] == (
        "device 'cpu' is not available: backend 'raisingcpu' is broken: RuntimeError: libcpu.so not found"
    )


def test_a_factory_returning_something_else_is_reported_by_name(hostile_report):
    report = hostile_report
    assert report["sum"] == [2.0, 3.0]
    reason = "TypeError: its factory returned int '42', not a somegrad.backends.Backend"
    assert report["backends"]["notabackend"] == ["weird", "broken", reason]
    assert report["error:weird"] == f"device 'weird' is not available: backend 'notabackend' is broken: {reason}"


@pytest.mark.parametrize(
    "plugin, listed",
    [
        ("exit_at_import_plugin", "exit_at_import_plugin: SystemExit: 3"),
        ("exit_at_registration_plugin", "exit_at_registration_plugin: SystemExit: bye from registration"),
    ],
)
def test_a_plugin_calling_sys_exit_is_contained(hostile_report, plugin, listed):
    report = hostile_report
    assert report["sum"] == [2.0, 3.0]
    name, reason = listed.split(": ", 1)
    assert report["errors"][name] == reason
    assert any(f"somegrad plugin {name!r} could not be loaded" in w for w in report["warnings"])


def test_a_factory_calling_sys_exit_is_contained(hostile_report):
    report = hostile_report
    assert report["sum"] == [2.0, 3.0]
    assert report["backends"]["exitfactory"] == ["exitdev", "broken", "SystemExit: 4"]
    assert "backend 'exitfactory' is broken: SystemExit: 4" in report["error:exitdev"]


def test_keyboard_interrupt_in_a_plugin_still_interrupts(tmp_path):
    write_hostile_plugins(tmp_path, "interrupt_at_import_plugin")
    result = run_python_args(
        tmp_path,
        ["-c", "import somegrad as sg; sg.tensor([1.0]); print('not interrupted')"],
        SOMEGRAD_PLUGINS="interrupt_at_import_plugin,somegrad_numpy.plugin",
    )
    assert result.returncode != 0 and "KeyboardInterrupt" in result.stderr and "not interrupted" not in result.stdout


def test_somegrad_info_lists_every_hostile_plugin_by_name_without_a_traceback(tmp_path):
    names = CONTAINED
    write_hostile_plugins(tmp_path, *names)
    result = run_python_args(
        tmp_path, ["-m", "somegrad", "info"], SOMEGRAD_PLUGINS=",".join([*names, "somegrad_numpy.plugin"])
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert "numpy      device=cpu    available (1 device)" in out
    assert "wrongcpu   device=cpu    inactive [plugin wrong_cpu_plugin]: device type 'cpu' is served by" in out
    assert "raisingcpu device=cpu    inactive" in out
    assert "notabackend device=weird  broken [plugin not_a_backend_plugin]: TypeError: its factory returned int" in out
    assert "exitfactory device=exitdev broken [plugin exit_in_factory_plugin]: SystemExit: 4" in out
    assert "numpy (impostor_plugin) device=impostor inactive" in out
    assert "cpu      -> numpy (default; also claimed by wrongcpu, raisingcpu (inactive))" in out
    assert "  exit_at_import_plugin: SystemExit: 3" in out
    assert "  exit_at_registration_plugin: SystemExit: bye from registration" in out
