"""The pytest plugin of somegrad's conformance suite (loaded through the pytest11 entry point).

It adds `--somegrad-backend NAME` (repeatable; default: every registered backend), the
`backend_name` parametrisation used by `somegrad.testing.conformance` (a backend that cannot
run here is skipped with its reason), the `backend` fixture, and a per-backend op coverage
report at the end of the run. It imports nothing heavy until a test asks for a backend,
since pytest loads it in every run once somegrad is installed.
"""

from __future__ import annotations

import pytest

_used_backends: dict[str, None] = {}


def pytest_addoption(parser):
    group = parser.getgroup("somegrad")
    group.addoption(
        "--somegrad-backend",
        action="append",
        default=[],
        metavar="NAME",
        help="run somegrad's conformance suite against this backend (repeatable; default: all registered)",
    )


def selected_backends(config) -> list[str]:
    """The backends named with --somegrad-backend (a backend's name, or a device type such as
    `cpu` for the backend serving it), or every registered one."""
    names = config.getoption("somegrad_backend", default=None) or []
    names = [n.strip() for option in names for n in option.split(",") if n.strip()]
    from somegrad import backends

    registered = backends.backends()
    if not names:
        return [info.name for info in registered]
    by_name = {info.name: info for info in registered}
    by_device: dict[str, str] = {}
    for info in registered:
        by_device.setdefault(info.device_type, info.name)
    selected = []
    for name in names:
        if name in by_name:
            selected.append(name)
        elif name in by_device:
            selected.append(by_device[name])
        else:
            known = ", ".join(f"{info.name} (device {info.device_type})" for info in registered) or "none"
            raise pytest.UsageError(f"--somegrad-backend {name}: no such backend or device type; registered: {known}")
    return list(dict.fromkeys(selected))


def pytest_generate_tests(metafunc):
    if "backend_name" not in metafunc.fixturenames:
        return
    from somegrad.testing import cases

    names = selected_backends(metafunc.config)
    _used_backends.update(dict.fromkeys(names))
    cases.parametrize(metafunc, names)


@pytest.fixture
def backend(backend_name):
    """The loaded backend under test (the test fails with the reason if it cannot load)."""
    from somegrad import backends

    return backends.get_backend(backend_name)


def pytest_collection_modifyitems(config, items):
    """Run each conformance test once per session: when the suite's own module is collected as
    well as a module that re-exports it (`from somegrad.testing.conformance import *`, as in a
    monorepo that tests both `tests/` and the installed package), keep the re-exported copy."""
    from pathlib import Path

    suite = Path(__file__).resolve().parent / "conformance"

    def key(item):
        return item.originalname if hasattr(item, "originalname") else item.name, item.name

    in_suite = [item for item in items if Path(str(item.path)).resolve().parent == suite]
    if not in_suite or len(in_suite) == len(items):
        return
    elsewhere = {key(item) for item in items if Path(str(item.path)).resolve().parent != suite}
    duplicates = [item for item in in_suite if key(item) in elsewhere]
    if duplicates:
        dropped = set(map(id, duplicates))
        items[:] = [item for item in items if id(item) not in dropped]
        config.hook.pytest_deselected(items=duplicates)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _used_backends:
        return
    from somegrad import backends
    from somegrad.cli import op_coverage

    registry = {info.name: info for info in backends.backends()}
    terminalreporter.section("somegrad op coverage")
    for name in _used_backends:
        info = registry.get(name)
        if info is None or info.backend is None:
            reason = "not registered" if info is None else f"{info.status}: {info.reason}"
            terminalreporter.write_line(f"{name}: not tested ({reason})")
            continue
        report = op_coverage(info.backend)
        native, decomposed, missing = report["native"], report["decomposed"], report["missing"]
        terminalreporter.write_line(
            f"{name} (device {info.device_type}): {len(native)} native, {len(decomposed)} by decomposition, "
            f"{len(missing)} missing"
        )
        if decomposed:
            terminalreporter.write_line(f"  by decomposition: {', '.join(decomposed)}")
        if missing:
            terminalreporter.write_line(f"  MISSING (failures): {', '.join(missing)}")
