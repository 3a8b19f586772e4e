"""``History``: what ``fit`` records per epoch and per optimizer step, and writing it to disk."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

from somegrad.serialization import write_atomically

__all__ = ["History"]

logger = logging.getLogger("somegrad.train")

HISTORY_SUFFIXES = (".csv", ".json")


class History:
    """Per-epoch results and per-step losses and learning rates of a training run.

    Attributes:
        epochs: one dict per epoch: ``epoch`` (1-based), ``loss``, each metric, ``val_loss`` and
            ``val_<metric>`` with a validation loader, ``lr`` (first group's learning rate during
            the epoch), ``time`` (seconds) and ``samples_per_second``.
        steps: one dict per optimizer step: ``step``, ``epoch``, ``loss``, ``lr``.

    ``history["val_loss"]`` is the list of that value over the epochs (Keras's
    ``history.history["val_loss"]``).
    """

    def __init__(self) -> None:
        self.epochs: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []

    def __getitem__(self, key: str) -> list[Any]:
        if not any(key in record for record in self.epochs):
            known = sorted({k for record in self.epochs for k in record})
            raise KeyError(f"History has no {key!r}; it has {known}")
        return [record.get(key) for record in self.epochs]

    def __contains__(self, key: object) -> bool:
        return any(key in record for record in self.epochs)

    def __len__(self) -> int:
        return len(self.epochs)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.epochs)

    def keys(self) -> list[str]:
        """The recorded names, in the order they first appeared."""
        names: dict[str, None] = {}
        for record in self.epochs:
            names.update(dict.fromkeys(record))
        return list(names)

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "steps": self.steps}

    def __repr__(self) -> str:
        return f"History({len(self.epochs)} epochs, {len(self.steps)} steps, keys={self.keys()})"

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the epochs as CSV (``.csv``), or epochs and steps as JSON (``.json``); atomic."""
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower()
        if suffix == ".csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=self.keys(), lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.epochs)
            text = buffer.getvalue()
        elif suffix == ".json":
            text = json.dumps(self.to_dict(), indent=1)
        else:
            raise ValueError(
                f"History.save: {path}: unknown suffix {suffix!r}, expected one of {', '.join(HISTORY_SUFFIXES)}"
            )

        def write(temporary: str) -> None:
            with open(temporary, "w", encoding="utf-8", newline="") as f:
                f.write(text)

        write_atomically(path, write)

    def plot(self, path: str | os.PathLike[str]) -> bool:
        """Draw losses, metrics and the learning rate into a PNG. Needs matplotlib: without it,
        logs a note and returns ``False``."""
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            logger.info("History.plot: matplotlib is not installed, so no plot was drawn")
            return False
        metric_names = [
            k
            for k in self.keys()
            if k not in ("epoch", "step", "loss", "val_loss", "lr", "time", "samples_per_second")
            and not k.startswith("val_")
        ]
        panels = 2 + bool(metric_names)
        figure = Figure(figsize=(5 * panels, 4))
        FigureCanvasAgg(figure)
        axes = figure.subplots(1, panels, squeeze=False)[0]
        epochs = self["epoch"] if self.epochs else []
        if self.steps:
            # each epoch's step records spread evenly over (epoch - 1, epoch], so that they line
            # up with the per-epoch points however many steps were recorded
            per_epoch: dict[Any, int] = {}
            for record in self.steps:
                per_epoch[record["epoch"]] = per_epoch.get(record["epoch"], 0) + 1
            seen: dict[Any, int] = {}
            positions = []
            for record in self.steps:
                seen[record["epoch"]] = seen.get(record["epoch"], 0) + 1
                positions.append(record["epoch"] - 1 + seen[record["epoch"]] / per_epoch[record["epoch"]])
            axes[0].plot(positions, [s["loss"] for s in self.steps], alpha=0.3, label="loss (steps)")
        for key in ("loss", "val_loss"):
            if key in self:
                axes[0].plot(epochs, self[key], marker="o", label=key)
        axes[0].set(xlabel="epoch", title="loss")
        axes[0].legend()
        axes[1].plot([s["step"] for s in self.steps], [s["lr"] for s in self.steps])
        axes[1].set(xlabel="step", title="learning rate")
        if metric_names:
            for key in metric_names:
                axes[2].plot(epochs, self[key], marker="o", label=key)
                if f"val_{key}" in self:
                    axes[2].plot(epochs, self[f"val_{key}"], marker="o", label=f"val_{key}")
            axes[2].set(xlabel="epoch", title="metrics")
            axes[2].legend()
        figure.tight_layout()

        def write(temporary: str) -> None:
            figure.savefig(temporary, format="png")

        write_atomically(path, write)
        return True
