"""The differential fuzz suite's settings and its summary.

    hatch run parity:run tests/fuzz -q                          # the CI run (a few thousand cases)
    SOMEGRAD_FUZZ_SCALE=20 hatch run parity:run tests/fuzz -q   # a larger run
    SOMEGRAD_FUZZ_SEED=7 ...                                    # other cases (the default seed is 0)

`--fuzz-scale` and `--fuzz-seed` do the same when tests/fuzz is named on the command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# The test module and this conftest must share one copy of the counts: pytest imports conftest
# files under a name of its own, so they live in fuzz_harness (imported by name by both).
from fuzz_harness import SUMMARY, fuzz_settings  # noqa: E402


def pytest_addoption(parser):
    group = parser.getgroup("somegrad fuzz")
    group.addoption("--fuzz-scale", type=float, default=None, help="multiply the fuzz suite's case counts")
    group.addoption("--fuzz-seed", type=int, default=None, help="the fuzz suite's seed (default 0)")


def pytest_terminal_summary(terminalreporter):
    if not SUMMARY:
        return
    write = terminalreporter.write_line
    seed, scale = fuzz_settings(terminalreporter.config)
    terminalreporter.section(f"differential fuzz against PyTorch (seed {seed}, scale {scale:g})")
    columns = ["cases", "match", "silent", "accepted_silent", "error", "accepted_error", "both_raised", "unclear"]
    write(f"{'family':<20}" + "".join(f"{c:>16}" for c in columns))
    total = dict.fromkeys(columns, 0)
    for family, counts in sorted(SUMMARY.items()):
        write(f"{family:<20}" + "".join(f"{counts.get(c, 0):>16}" for c in columns))
        for c in columns:
            total[c] += counts.get(c, 0)
    write(f"{'total':<20}" + "".join(f"{total[c]:>16}" for c in columns))
    classes: dict[str, int] = {}
    for counts in SUMMARY.values():
        for key, value in counts.items():
            if key.startswith("class:"):
                classes[key[6:]] = classes.get(key[6:], 0) + value
    if classes:
        write("accepted differences by class (tests/fuzz/fuzz_accepted.py says why):")
        for name, count in sorted(classes.items(), key=lambda item: -item[1]):
            write(f"  {count:>6}  {name}")
