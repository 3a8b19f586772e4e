"""The PyTorch parity tests of the ported API: see `harness.py`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
