"""The numpy backend keeps freed array memory for the next step (somegrad_numpy.memory): a loop
that allocates and frees the same large arrays stops page-faulting once the backend is loaded,
and a user's own malloc settings, or SOMEGRAD_KEEP_FREED_MEMORY=0, leave the allocator alone."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from somegrad_numpy import memory

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="the tuning is for glibc's malloc"
)

# Eight 4 MiB arrays allocated and freed together, as a step's activations are: with glibc's
# defaults the freed 32 MiB go back to the OS each time, and the next round faults every page in.
ROUNDS = """
import resource, numpy as np
import somegrad as sg
sg.zeros(1)  # loads the numpy backend
def round():
    arrays = [np.ones(1 << 20, dtype=np.float32) for _ in range(8)]
    del arrays
round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    round()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 20)
"""


def _faults_per_round(**env) -> int:
    environment = {k: v for k, v in os.environ.items() if k not in memory._USER_SETTINGS}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", ROUNDS], env=environment, capture_output=True, text=True, check=True)
    return int(result.stdout.strip())


@glibc
def test_freed_arrays_are_reused_without_page_faults():
    tuned = _faults_per_round()
    default = _faults_per_round(SOMEGRAD_KEEP_FREED_MEMORY="0")
    pages = 8 * (4 << 20) // 4096
    assert default > pages // 4, f"glibc's defaults faulted only {default} pages a round (expected ~{pages})"
    assert tuned < pages // 50, f"{tuned} page faults a round with the backend loaded (default: {default})"


@pytest.mark.parametrize("setting", ["MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"])
def test_a_users_own_malloc_settings_are_left_alone(monkeypatch, setting):
    monkeypatch.setenv(setting, "131072")
    assert memory._apply() is False


def test_the_tuning_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("SOMEGRAD_KEEP_FREED_MEMORY", "0")
    assert memory._apply() is False
