"""Progress of the training loops, shown wherever the loop runs.

* a terminal: a tqdm bar (loss, learning rate, samples/s) on stderr;
* a Jupyter notebook: tqdm's notebook bar (``tqdm.auto``: a widget, or a text bar in the cell
  where ipywidgets is missing);
* anything else (a pipe, a log file, CI): plain lines every ``interval`` seconds and one at the
  end, ``epoch 1/3  40/100 batches  loss 0.4312  lr 0.001  812 samples/s  3.1s``.

Only rank 0 of a data-parallel run shows anything.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from .ranks import is_main_process

__all__ = ["ProgressBar", "in_notebook"]


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (an IPython shell that talks to a notebook)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too old or broken to ask
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class ProgressBar:
    """Wrap an iterable of batches and report loss, learning rate and throughput.

    Args:
        total: the number of batches, when known (``len(loader)``).
        desc: the prefix, e.g. ``"epoch 2/10"``.
        enabled: ``False`` shows nothing (and costs nothing).
        file: the stream (default ``sys.stderr``).
        force: a tqdm bar even when ``file`` is not a terminal.
        interval: seconds between plain lines when the output is not a terminal.

    ``kind`` says what is shown: ``"terminal"``, ``"notebook"``, ``"lines"`` or ``None``.
    """

    def __init__(
        self,
        iterable: Iterable[Any],
        *,
        total: int | None,
        desc: str,
        enabled: bool = True,
        file: TextIO | None = None,
        force: bool = False,
        interval: float = 10.0,
    ) -> None:
        self.iterable = iterable
        self.total = total
        self.desc = desc
        self.stream = file if file is not None else sys.stderr
        self.interval = interval
        self.bar = None
        self.kind: str | None = None
        if enabled and is_main_process():
            if force or _is_terminal(self.stream):
                self.kind = "terminal"
            elif file is None and in_notebook():
                self.kind = "notebook"
            else:
                self.kind = "lines"
        if self.kind == "terminal":
            from tqdm import tqdm

            self.bar = tqdm(iterable, total=total, desc=desc, file=self.stream, leave=True, dynamic_ncols=True)
        elif self.kind == "notebook":
            from tqdm.auto import tqdm

            self.bar = tqdm(iterable, total=total, desc=desc, leave=True)
        self.count = 0
        self.postfix = ""
        self.started = self.last_line = time.perf_counter()

    def __iter__(self) -> Iterator[Any]:
        if self.kind != "lines":
            yield from self.bar if self.bar is not None else self.iterable
            return
        for item in self.iterable:
            yield item
            self.count += 1

    def update(self, loss: float, lr: float, samples_per_second: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix(
                loss=f"{loss:.4g}",
                lr=f"{lr:.3g}",
                samples_s=f"{samples_per_second:.4g}",
                refresh=False,
            )
        elif self.kind == "lines":
            self.postfix = f"loss {loss:.4g}  lr {lr:.3g}  {samples_per_second:.4g} samples/s"
            now = time.perf_counter()
            # `update` runs before the iterator counts the batch just finished
            if now - self.last_line >= self.interval:
                self.last_line = now
                self._line(self.count + 1)

    def _line(self, done: int) -> None:
        of = f"/{self.total}" if self.total is not None else ""
        parts = [self.desc, f"{done}{of} batches"]
        if self.postfix:
            parts.append(self.postfix)
        parts.append(f"{time.perf_counter() - self.started:.1f}s")
        print("  ".join(parts), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.kind == "lines" and self.count:
            self._line(self.count)
            self.kind = None  # closed: a second close writes nothing


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
