"""`somegrad info`: versions of the installed somegrad distributions, and every backend.

somegrad info            # distributions, backends with status and reason, plugin errors
somegrad info --ops numpy  # which ops the backend runs natively, by decomposition, or misses
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys

DISTRIBUTIONS = ("somegrad", "somegrad-numpy", "somegrad-cuda", "somegrad-nn", "somegrad-train")


def _versions():
    rows = []
    for name in DISTRIBUTIONS:
        try:
            rows.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return rows


def op_coverage(backend) -> dict[str, list[str]]:
    """{"native": [...], "decomposed": [...], "missing": [...]} for a loaded backend."""
    from somegrad.ops import OPS

    report: dict[str, list[str]] = {"native": [], "decomposed": [], "missing": []}
    for name, spec in sorted(OPS.items()):
        if name in backend.kernels:
            report["native"].append(name)
        elif spec.decompose is not None:
            report["decomposed"].append(name)
        else:
            report["missing"].append(name)
    return report


def info(out=sys.stdout) -> None:
    import somegrad
    from somegrad import backends, plugins

    print(f"somegrad {somegrad.__version__} (Python {sys.version.split()[0]})", file=out)
    print("\ndistributions:", file=out)
    for name, version in _versions():
        print(f"  {name:<16} {version}", file=out)
    print("\nbackends:", file=out)
    infos = backends.backends()
    if not infos:
        print("  none installed: pip install somegrad-numpy for the CPU", file=out)
    for entry in infos:
        print(_backend_line(entry), file=out)
    owners = {device_type: info.name for device_type, info in sorted(backends._by_device_type.items())}
    if owners:
        choices = backends.selected_backends()
        print("\ndevice types:", file=out)
        for device_type, name in owners.items():
            claimants = [i.name for i in infos if i.device_type == device_type and i.name != name]
            how = f"selected by {choices[device_type][1]}" if choices.get(device_type, ("",))[0] == name else "default"
            also = f"; also claimed by {', '.join(claimants)} (inactive)" if claimants else ""
            print(f"  {device_type:<8} -> {name} ({how}{also})", file=out)
    _comm_backends(out)
    if plugins.plugin_errors:
        print("\nplugins that failed to load:", file=out)
        for name, reason in sorted(plugins.plugin_errors.items()):
            print(f"  {name}: {reason}", file=out)


def _comm_backends(out) -> None:
    """The communication backends of somegrad.distributed and whether each can run here
    (`is_backend_available` loads each one's library: mpi4py, CuPy's NCCL)."""
    from somegrad.distributed import is_backend_available
    from somegrad.distributed.registry import comm_backends

    infos = comm_backends()
    if not infos:
        return
    print("\ncommunication backends (somegrad.distributed):", file=out)
    for info in infos:
        state = "available" if is_backend_available(info.name) else "unavailable"
        print(f"  {info.name:<8} {', '.join(info.device_types):<8} {state}", file=out)


def _backend_line(entry) -> str:
    """One backend's line; a backend whose device_count() raises is reported, not fatal."""
    from somegrad.plugins import contained, describe

    devices = ""
    if entry.backend is not None:
        try:
            count = entry.backend.device_count()
            devices = f" ({count} device{'s' if count != 1 else ''})"
        except contained as exc:
            devices = f" (device_count() failed: {describe(exc)})"
    line = f"  {entry.name:<10} device={entry.device_type:<6} {entry.status}{devices}"
    if entry.plugin and entry.status != "available":
        line += f" [plugin {entry.plugin}]"
    return line + (f": {entry.reason}" if entry.reason else "")


def ops_report(backend_name: str, out=sys.stdout) -> int:
    from somegrad import backends

    backend = backends.get_backend(backend_name)
    report = op_coverage(backend)
    for kind in ("native", "decomposed", "missing"):
        names = report[kind]
        print(f"{kind} ({len(names)}): {', '.join(names) if names else '-'}", file=out)
    return 1 if report["missing"] else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="somegrad", description="somegrad's command line")
    commands = parser.add_subparsers(dest="command")
    info_parser = commands.add_parser("info", help="versions, backends and their status")
    info_parser.add_argument("--ops", metavar="BACKEND", help="list which ops BACKEND runs natively or decomposes")
    args = parser.parse_args(argv)
    if args.command != "info":
        parser.print_help()
        return 0 if args.command is None else 2
    if args.ops:
        try:
            return ops_report(args.ops)
        except RuntimeError as exc:
            print(f"somegrad info: {exc}", file=sys.stderr)
            return 2
    info()
    return 0


if __name__ == "__main__":
    sys.exit(main())
