"""The code on the documentation pages runs as written.

Every ```python block of a page runs, in order, in one fresh interpreter (a later block may use
what an earlier one defined), in a temporary folder (blocks may write files). Blocks fenced as
```py are shown but not run: they need a GPU or a package somegrad does not depend on. A failure
points at the page and the line of the Markdown file.

Run by hand: `python tests/docs/test_snippets.py docs/getting-started.md [FOLDER]`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["index.md", "getting-started.md", "architecture.md", "porting-from-pytorch.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """The page's ```python blocks as (line of the block's first line of code, code)."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in BLOCK.finditer(text)]


def run_page(page: Path, folder: Path) -> None:
    """Execute the page's blocks in order in one namespace, in `folder`; tracebacks name the
    page's lines."""
    os.chdir(folder)
    namespace = {"__name__": "__main__"}
    for line, code in python_blocks(page):
        # Blank lines in front make the compiled line numbers the Markdown file's.
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)


@pytest.mark.parametrize("name", PAGES)
def test_page_has_code(name):
    assert python_blocks(ROOT / "docs" / name), f"no ```python blocks found in docs/{name}"


@pytest.mark.parametrize("name", PAGES)
def test_page_code_runs(name, tmp_path):
    result = subprocess.run(
        [sys.executable, __file__, str(ROOT / "docs" / name), str(tmp_path)],
        cwd=ROOT,  # where a relative PYTHONPATH (running from the source tree) points from
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"docs/{name}: a code block failed\n{result.stderr[-4000:]}"


if __name__ == "__main__":
    run_page(Path(sys.argv[1]).resolve(), Path(sys.argv[2] if len(sys.argv) > 2 else ".").resolve())
