"""Check the wheels of the somegrad distributions before they are installed anywhere.

    python scripts/check_wheels.py [DIST_DIR]      # default: dist/ (what `hatch build --all` writes)

The distributions share the `somegrad` import package. Only the core ships `somegrad/__init__.py`
(which extends `__path__`); somegrad-nn and somegrad-train ship subpackages of it. If another wheel
also shipped `somegrad/__init__.py`, pip would silently overwrite the core's file on install and
delete it when that wheel is uninstalled. So this script fails unless:

- every first-party distribution has exactly one wheel in DIST_DIR;
- `somegrad/__init__.py` is in the core wheel and in no other;
- no other wheel puts a file directly in `somegrad/` (only in its own subpackages);
- no file is shipped by two wheels;
- every wheel is tagged for Python 3 only (a wheel tagged py2 lost its requires-python).

Exit status 0 when all hold, 1 otherwise, with one line per problem.
"""

from __future__ import annotations

import sys
import zipfile
from collections import defaultdict
from pathlib import Path

CORE = "somegrad"
FIRST_PARTY = ("somegrad", "somegrad_numpy", "somegrad_cuda", "somegrad_nn", "somegrad_train")
NAMESPACE_INIT = "somegrad/__init__.py"


def distribution_name(wheel: Path) -> str:
    """`somegrad_nn-0.1.0-py3-none-any.whl` -> `somegrad_nn` (wheel names are normalised)."""
    return wheel.name.split("-")[0].lower()


def shipped_files(wheel: Path) -> list[str]:
    """The files a wheel installs into site-packages, without its .dist-info metadata."""
    with zipfile.ZipFile(wheel) as archive:
        names = [name for name in archive.namelist() if not name.endswith("/")]
    return [name for name in names if not name.split("/", 1)[0].endswith(".dist-info")]


def check_wheels(wheels: list[Path]) -> list[str]:
    """Return one message per problem found in this set of wheels (empty when all is well)."""
    problems: list[str] = []
    by_distribution: dict[str, list[Path]] = defaultdict(list)
    for wheel in wheels:
        by_distribution[distribution_name(wheel)].append(wheel)

    for name in FIRST_PARTY:
        found = by_distribution.get(name, [])
        if not found:
            problems.append(f"no wheel for {name}")
        elif len(found) > 1:
            listed = ", ".join(sorted(w.name for w in found))
            problems.append(f"several wheels for {name} ({listed}); rebuild with `hatch build --all --clean`")

    owners: dict[str, list[str]] = defaultdict(list)
    for wheel in sorted(wheels):
        name = distribution_name(wheel)
        tag = wheel.name.removesuffix(".whl").split("-")[-3]
        if "py2" in tag.split("."):
            problems.append(f"{wheel.name}: tagged {tag}; set requires-python so it is tagged py3")
        files = shipped_files(wheel)
        for path in files:
            owners[path].append(wheel.name)
        if name == CORE:
            if NAMESPACE_INIT not in files:
                problems.append(f"{wheel.name}: does not ship {NAMESPACE_INIT}")
            continue
        for path in files:
            parts = path.split("/")
            if parts[0] == "somegrad" and len(parts) == 2:
                problems.append(f"{wheel.name}: ships {path}; only the core wheel may put files directly in somegrad/")

    for path, names in sorted(owners.items()):
        if len(names) > 1:
            problems.append(f"{path} is shipped by several wheels: {', '.join(names)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else Path("dist")
    wheels = sorted(directory.glob("*.whl"))
    if not wheels:
        print(f"check_wheels: no wheels in {directory}/; run `hatch build --all` first")
        return 1
    problems = check_wheels(wheels)
    for problem in problems:
        print(f"check_wheels: {problem}")
    if problems:
        return 1
    print(f"check_wheels: {len(wheels)} wheels in {directory}/ are consistent")
    for wheel in wheels:
        print(f"  {wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
