"""The progress bar of the training loops: tqdm, shown only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Wrap an iterable of batches in a tqdm bar with loss, learning rate and throughput.

    Shown when ``enabled`` and the output is a terminal (``force=True`` skips that check, for
    logs and tests). Otherwise iterating costs nothing extra.
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
    ) -> None:
        self.iterable = iterable
        stream = file if file is not None else sys.stderr
        self.active = bool(enabled) and (force or _is_terminal(stream))
        self.bar = None
        if self.active:
            from tqdm import tqdm

            self.bar = tqdm(iterable, total=total, desc=desc, file=stream, leave=True, dynamic_ncols=True)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.bar if self.bar is not None else self.iterable)

    def update(self, loss: float, lr: float, samples_per_second: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix(
                loss=f"{loss:.4g}",
                lr=f"{lr:.3g}",
                samples_s=f"{samples_per_second:.4g}",
                refresh=False,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
