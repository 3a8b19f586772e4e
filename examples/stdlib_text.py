"""The examples' default text: the Python standard library's own source files.

Every Python installation has them, so the examples train on real code with no download. Files are
read in sorted path order, so the same interpreter always gives the same text.
"""

import os
import sysconfig
from pathlib import Path

SKIPPED_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def python_files(root: Path) -> list[Path]:
    """The *.py files under `root` in sorted order, skipping tests and installed packages."""
    files = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_DIRS]
        files += [
            Path(folder, name) for name in names if name.endswith(".py") and not name.startswith("_sysconfigdata")
        ]  # generated: a dict of build paths
    return sorted(files, key=lambda path: path.relative_to(root).parts)


def read_text(path: Path | None = None, max_chars: int = 2_000_000) -> str:
    """Up to `max_chars` characters of text: a file, every file under a folder (for the stdlib,
    its *.py files; for another folder, every file that decodes as UTF-8), joined in sorted order.

    Raises SystemExit with a readable message when nothing can be read.
    """
    if path is None:
        files = python_files(stdlib_dir())
    else:
        path = Path(path)
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
        else:
            raise SystemExit(f"error: corpus {str(path)!r} is not a file or folder")
    parts, total = [], 0
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            if path is not None and path.is_file():
                raise SystemExit(f"error: cannot read corpus {str(path)!r}: {error}") from None
            continue  # binary or unreadable files inside a folder are skipped
        parts.append(text[: max_chars - total])
        total += len(parts[-1])
        if total >= max_chars:
            break
    text = "".join(parts)
    if len(text) < 100:
        where = path if path is not None else stdlib_dir()
        raise SystemExit(f"error: corpus {str(where)!r} has too little text ({len(text)} chars)")
    return text


def identifiers(max_words: int = 50_000) -> list[str]:
    """Distinct lower-case identifiers (letters and underscores, 3 to 16 characters long) found in
    the stdlib source, in order of first appearance."""
    import re

    seen = {}
    for word in re.findall(r"\b[a-z_]{3,16}\b", read_text(max_chars=4_000_000)):
        seen.setdefault(word, None)
        if len(seen) >= max_words:
            break
    return list(seen)
