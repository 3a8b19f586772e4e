"""Every shell command in docs/writing-a-backend.md runs, and does what the page says.

The fast test runs the commands from the source tree (plugins named in SOMEGRAD_PLUGINS);
the slow one follows the page literally in a fresh virtual environment: it installs the example
backend with pip and runs each command as written."""

import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "writing-a-backend.md"
SOURCES = [
    "packages/core/src",
    "packages/backend-numpy/src",
    "packages/nn/src",
    "packages/train/src",
    "examples/backend-plugin/src",
]


def doc_commands() -> list[str]:
    """The `$ ` lines of the page's console blocks, in order."""
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(), re.S)
    return [line[2:].strip() for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def doc_python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_the_commands_it_walks_through():
    assert doc_commands() == [
        "pip install ./examples/backend-plugin",
        "somegrad info",
        "somegrad info --ops arraystrict",
        "pytest --pyargs somegrad.testing.conformance --somegrad-backend arraystrict",
    ]


def _argv(command: str, python: str) -> list[str]:
    """A documented command as an argv for `python` (console scripts run as modules)."""
    args = shlex.split(command)
    if args[0] == "somegrad":
        return [python, "-m", "somegrad", *args[1:]]
    if args[0] == "pytest":
        return [
            python,
            "-m",
            "pytest",
            "-p",
            "somegrad.testing.plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            *args[1:],
        ]
    if args[0] == "pip":
        return [python, "-m", "pip", *args[1:]]
    raise AssertionError(f"the test does not know how to run {command!r}")


def _check(command: str, result: subprocess.CompletedProcess) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command!r} failed:\n{output[-3000:]}"
    if command == "somegrad info":
        assert re.search(r"arraystrict\s+device=strict\s+available", output), output
    if command.startswith("somegrad info --ops"):
        assert "missing (0)" in output and "decomposed (" in output, output
    if command.startswith("pytest"):
        assert "somegrad op coverage" in output and "arraystrict (device strict)" in output, output[-3000:]


def _source_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / s) for s in SOURCES] + [env.get("PYTHONPATH", "")])
    env["SOMEGRAD_PLUGINS"] = "somegrad_numpy.plugin,somegrad_arraystrict.plugin"
    return env


def _has_array_api_strict() -> bool:
    try:
        import array_api_strict  # noqa: F401
    except ImportError:
        return False
    return True


needs_strict = pytest.mark.skipif(not _has_array_api_strict(), reason="array-api-strict is not installed")


@needs_strict
@pytest.mark.slow
def test_commands_from_the_source_tree():
    for command in doc_commands():
        if command.startswith("pip install"):
            continue  # the source tree stands in for the installed distribution
        result = subprocess.run(
            _argv(command, sys.executable),
            cwd=ROOT,
            env=_source_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        _check(command, result)


@needs_strict
def test_python_snippets_run():
    # The self-contained snippets (the others are excerpts of the example's files).
    snippets = [b for b in doc_python_blocks() if b.startswith(("import somegrad as sg", "from somegrad.ops import"))]
    assert len(snippets) == 2
    for snippet in snippets:
        result = subprocess.run(
            [sys.executable, "-c", snippet],
            cwd=ROOT,
            env=_source_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]


@needs_strict
@pytest.mark.slow
def test_commands_in_a_fresh_environment(tmp_path):
    """Follow the page literally: install with pip into a new environment, then run each command.
    The environment sees this interpreter's site-packages (numpy, pluggy, pytest, hatchling), so
    nothing is downloaded; somegrad itself is installed from the checkout first."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = str(bindir / "python")
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "-q"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SOMEGRAD_PLUGINS")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    needed = "import numpy, pluggy, pytest, hatchling, array_api_strict"
    if subprocess.run([python, "-c", needed], env=env, capture_output=True).returncode:
        pytest.skip(
            "an offline install needs numpy, pluggy, pytest, hatchling and array-api-strict in the base "
            "interpreter's site-packages"
        )
    for package in ("packages/core", "packages/backend-numpy"):
        subprocess.run(
            [python, "-m", "pip", "install", *offline, package],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    for command in doc_commands():
        argv = _argv(command, python)
        if command.startswith("pip install"):
            argv += offline
        if command.startswith("somegrad"):
            argv = [str(bindir / "somegrad"), *shlex.split(command)[1:]]
        result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        _check(command, result)
