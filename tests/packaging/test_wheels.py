"""Build every distribution's wheel, install subsets of them in fresh virtual environments, and
check what each subset can and cannot do.

The five distributions share the `somegrad` import package, so these are the promises to keep:
core + one backend is a complete autograd library; a missing distribution is named in the error
that its absence causes; and installing or uninstalling one distribution never touches another's
files. The editable development environment cannot show any of this (all packages are always
there), so this test installs real wheels, the way a user gets them.

The environments use uv when it is available (hatch provides it) and fall back to venv + pip.
Dependencies from outside the repository (numpy, pluggy, ...) come from the package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {  # distribution -> folder in packages/
    "somegrad": "core",
    "somegrad-numpy": "backend-numpy",
    "somegrad-cuda": "backend-cuda",
    "somegrad-nn": "nn",
    "somegrad-train": "train",
}
EVERYTHING = tuple(PACKAGES)
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 120

# Each optional subpackage of `somegrad` and the distribution that provides it.
OPTIONAL_SUBPACKAGES = {
    "somegrad.nn": "somegrad-nn",
    "somegrad.optim": "somegrad-train",
    "somegrad.data": "somegrad-train",
    "somegrad.train": "somegrad-train",
}


def clean_environ() -> dict[str, str]:
    """The environment without what points Python or the installers at the development env."""
    hidden = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "CONDA_PREFIX"}
    return {key: value for key, value in os.environ.items() if key not in hidden}


def run(command: list[str | Path], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run a command; on failure, fail the test with everything it printed."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        pytest.fail(
            f"command failed with exit status {result.returncode}: {' '.join(map(str, command))}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
    return result


def find_uv() -> str | None:
    # `hatch run` and `hatch test` export the uv they use as HATCH_UV.
    candidate = os.environ.get("HATCH_UV")
    if candidate and Path(candidate).is_file():
        return candidate
    return shutil.which("uv")


class Installer:
    """Builds wheels and makes virtual environments: uv when present, else venv and pip."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.uv = find_uv()

    def build_wheels(self, out: Path) -> None:
        sources = [REPO / "packages" / folder for folder in PACKAGES.values()]
        if self.uv:
            for source in sources:
                run(
                    [self.uv, "build", "--wheel", "--quiet", "--out-dir", out, source],
                    cwd=self.workdir,
                    timeout=INSTALL_TIMEOUT,
                )
        else:
            tools = self.create(self.workdir / "build-tools")
            run(
                [tools, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, *sources],
                cwd=self.workdir,
                timeout=INSTALL_TIMEOUT,
            )

    def create(self, path: Path) -> Path:
        """A fresh virtual environment; returns its python."""
        if self.uv:
            run(
                [self.uv, "venv", "--quiet", "--python", sys.executable, path],
                cwd=self.workdir,
                timeout=INSTALL_TIMEOUT,
            )
        else:
            run([sys.executable, "-m", "venv", path], cwd=self.workdir, timeout=INSTALL_TIMEOUT)
        return path / ("Scripts" if os.name == "nt" else "bin") / "python"

    def install(self, python: Path, wheels: list[Path]) -> None:
        if self.uv:
            command = [self.uv, "pip", "install", "--quiet", "--python", python, *wheels]
        else:
            command = [python, "-m", "pip", "install", "--quiet", *wheels]
        run(command, cwd=self.workdir, timeout=INSTALL_TIMEOUT)

    def uninstall(self, python: Path, distributions: list[str]) -> None:
        if self.uv:
            command = [self.uv, "pip", "uninstall", "--quiet", "--python", python, *distributions]
        else:
            command = [python, "-m", "pip", "uninstall", "--quiet", "--yes", *distributions]
        run(command, cwd=self.workdir, timeout=INSTALL_TIMEOUT)


class Environment:
    """A virtual environment holding some of the wheels."""

    def __init__(self, installer: Installer, path: Path, wheels: dict[str, Path], distributions):
        self.installer = installer
        self.path = path
        self.python = installer.create(path)
        installer.install(self.python, [wheels[name] for name in distributions])

    def script(self, name: str) -> Path:
        return self.python.parent / name

    def run_python(self, code: str) -> str:
        """Run code in an isolated interpreter (-I: no cwd, user site or PYTHON* variables) of
        this environment, from a folder outside the repository; return what it printed."""
        code = textwrap.dedent(code)
        return run([self.python, "-I", "-c", code], cwd=self.path, timeout=RUN_TIMEOUT).stdout

    def uninstall(self, *distributions: str) -> None:
        self.installer.uninstall(self.python, list(distributions))


# Snippets run inside the environments. Each raises (and so fails the test) when a promise breaks.

FROM_THIS_ENVIRONMENT = """
import sys, somegrad
assert somegrad.__file__.startswith(sys.prefix), f"somegrad imported from {somegrad.__file__}"
"""

AUTOGRAD_WORKS = """
import somegrad as sg
x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
(x * x).sum().backward()
assert x.grad.tolist() == [2.0, 4.0, 6.0], x.grad.tolist()
"""


def imports_work(*modules: str) -> str:
    return "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)


def imports_fail_naming_distribution(*modules: str) -> str:
    """`import somegrad.nn` without somegrad-nn must raise ModuleNotFoundError naming somegrad-nn."""
    expected = {module: OPTIONAL_SUBPACKAGES[module] for module in modules}
    return f"""
import importlib
for module, distribution in {expected!r}.items():
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        assert distribution in str(exc), f"import {{module}}: {{exc}} (does not name {{distribution}})"
    else:
        raise AssertionError(f"import {{module}} worked without {{distribution}} installed")
"""


@pytest.fixture(scope="module")
def installer(tmp_path_factory) -> Installer:
    return Installer(tmp_path_factory.mktemp("installer"))


@pytest.fixture(scope="module")
def wheels(installer, tmp_path_factory) -> dict[str, Path]:
    """One wheel per distribution, built once for the whole module."""
    out = tmp_path_factory.mktemp("wheels")
    installer.build_wheels(out)
    built = {path.name.split("-")[0]: path for path in out.glob("*.whl")}
    return {name: built[name.replace("-", "_")] for name in PACKAGES}


@pytest.fixture
def environment(installer, wheels, tmp_path):
    """environment(*distributions) -> a fresh virtual environment with those wheels installed."""

    def make(*distributions: str) -> Environment:
        return Environment(installer, tmp_path / "venv", wheels, distributions)

    return make


def test_wheels_pass_check_wheels(wheels, check_wheels):
    assert check_wheels.check_wheels(list(wheels.values())) == []


def test_core_and_numpy_backend_are_a_complete_autograd_library(environment):
    env = environment("somegrad", "somegrad-numpy")
    env.run_python(FROM_THIS_ENVIRONMENT)
    env.run_python(AUTOGRAD_WORKS)
    env.run_python(imports_fail_naming_distribution(*OPTIONAL_SUBPACKAGES))


def test_core_without_a_backend_says_which_to_install(environment):
    env = environment("somegrad")
    env.run_python(FROM_THIS_ENVIRONMENT)
    env.run_python("""
    import somegrad as sg
    try:
        sg.tensor([1.0])
    except RuntimeError as exc:
        assert "somegrad-numpy" in str(exc), f"the error does not name somegrad-numpy: {exc}"
    else:
        raise AssertionError("sg.tensor() worked with no backend installed")
    """)


def test_nn_without_train(environment):
    env = environment("somegrad", "somegrad-numpy", "somegrad-nn")
    env.run_python(imports_work("somegrad.nn"))
    env.run_python(AUTOGRAD_WORKS)
    env.run_python(imports_fail_naming_distribution("somegrad.optim", "somegrad.data", "somegrad.train"))


def test_everything(environment):
    env = environment(*EVERYTHING)
    env.run_python(FROM_THIS_ENVIRONMENT)
    env.run_python(imports_work(*OPTIONAL_SUBPACKAGES, "somegrad_numpy", "somegrad_cuda"))
    env.run_python(AUTOGRAD_WORKS)
    info = run([env.script("somegrad"), "info"], cwd=env.path, timeout=RUN_TIMEOUT).stdout
    assert "numpy" in info, f"`somegrad info` does not list the numpy backend:\n{info}"


def test_uninstalling_a_portion_leaves_the_rest_intact(environment):
    env = environment(*EVERYTHING)
    init = env.run_python("import somegrad; print(somegrad.__file__)").strip()
    assert init.endswith("__init__.py")

    env.uninstall("somegrad-train")
    env.run_python(imports_work("somegrad.nn"))
    env.run_python(imports_fail_naming_distribution("somegrad.optim", "somegrad.data", "somegrad.train"))

    env.uninstall("somegrad-nn")
    assert Path(init).is_file(), "uninstalling somegrad-nn removed the core's somegrad/__init__.py"
    env.run_python(FROM_THIS_ENVIRONMENT)
    env.run_python(AUTOGRAD_WORKS)
    env.run_python(imports_fail_naming_distribution(*OPTIONAL_SUBPACKAGES))
