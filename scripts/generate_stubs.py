"""Rewrite the typing stubs generated from the op registry (`--check`: only say which are stale).

python scripts/generate_stubs.py          # after adding or changing an op's declaration
python scripts/generate_stubs.py --check  # exit status 1 when a stub is out of date
"""

import sys

from somegrad.ops.surface import write_stubs

if __name__ == "__main__":
    check = "--check" in sys.argv[1:]
    stale = write_stubs(check=check)
    for path in stale:
        print(("out of date: " if check else "wrote ") + str(path))
    sys.exit(1 if check and stale else 0)
