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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """The inverse of :meth:`to_dict` (a checkpoint's metadata, a ``.json`` file)."""
        history = cls()
        history.epochs = [dict(record) for record in data.get("epochs", [])]
        history.steps = [dict(record) for record in data.get("steps", [])]
        return history

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> History:
        """Read what :meth:`save` wrote: epochs and steps from ``.json``, epochs from ``.csv``
        (numbers parsed back; a CSV holds no steps)."""
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower()
        with open(path, encoding="utf-8", newline="") as f:
            if suffix == ".json":
                return cls.from_dict(json.load(f))
            if suffix == ".csv":
                history = cls()
                history.epochs = [
                    {key: _parse(value) for key, value in row.items() if value != ""} for row in csv.DictReader(f)
                ]
                return history
        raise ValueError(
            f"History.load: {path}: unknown suffix {suffix!r}, expected one of {', '.join(HISTORY_SUFFIXES)}"
        )

    def truncate(self, epochs: int) -> History:
        """Keep the first ``epochs`` epochs and their steps (a run resumed from that epoch's
        checkpoint redoes what came after); returns self."""
        self.epochs = [record for record in self.epochs if record.get("epoch", 0) <= epochs]
        self.steps = [record for record in self.steps if record.get("epoch", 0) <= epochs]
        return self

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
        """Draw losses, metrics and the learning rate (see :meth:`figure`) into a PNG. Needs
        matplotlib: without it, logs a note and returns ``False``."""
        try:
            figure = self.figure()
        except ImportError:
            logger.info("History.plot: matplotlib is not installed, so no plot was drawn")
            return False

        def write(temporary: str) -> None:
            figure.savefig(temporary, format="png")

        write_atomically(path, write)
        return True

    def figure(self) -> Any:
        """A matplotlib Figure: the losses (per-step and per-epoch points on one x axis, the
        optimizer step when the epoch records hold it), the learning rate (only when it changed)
        and the metrics, with one fixed colour per series. Raises ImportError without matplotlib."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        metric_names = [
            k
            for k in self.keys()
            if k not in ("epoch", "step", "loss", "val_loss", "lr", "time", "samples_per_second")
            and not k.startswith("val_")
        ]
        x, xlabel = self._x_axis()
        learning_rates = [s["lr"] for s in self.steps if "lr" in s] or [e["lr"] for e in self.epochs if "lr" in e]
        # a learning rate that never changed (a short run, no schedule) gets no panel of its own
        show_lr = len(set(learning_rates)) > 1
        panels = 1 + show_lr + bool(metric_names)
        figure = Figure(figsize=(5 * panels, 4))
        FigureCanvasAgg(figure)
        axes = list(figure.subplots(1, panels, squeeze=False)[0])
        loss_axes = axes.pop(0)
        colours = _colours(["loss", "val_loss", *metric_names])
        if self.steps and xlabel == "step":
            loss_axes.plot(
                [s["step"] for s in self.steps],
                [s["loss"] for s in self.steps],
                color=colours["loss"],
                alpha=0.3,
                label="loss (steps)",
            )
        for key in ("loss", "val_loss"):
            if key in self:
                loss_axes.plot(x, self[key], marker="o", color=colours[key], label=key)
        loss_axes.set(xlabel=xlabel, title="loss")
        loss_axes.legend()
        if show_lr:
            lr_axes = axes.pop(0)
            if self.steps and xlabel == "step" and "lr" in self.steps[0]:
                lr_axes.plot([s["step"] for s in self.steps], [s["lr"] for s in self.steps], color="tab:gray")
            else:
                lr_axes.plot(x, self["lr"], marker="o", color="tab:gray")
            lr_axes.set(xlabel=xlabel, title="learning rate")
        if metric_names:
            metric_axes = axes.pop(0)
            for key in metric_names:
                metric_axes.plot(x, self[key], marker="o", color=colours[key], label=key)
                if f"val_{key}" in self:
                    metric_axes.plot(
                        x, self[f"val_{key}"], marker="s", linestyle="--", color=colours[key], label=f"val_{key}"
                    )
            metric_axes.set(xlabel=xlabel, title="metrics")
            metric_axes.legend()
        figure.tight_layout()
        return figure

    def _x_axis(self) -> tuple[list[Any], str]:
        """One x axis for every panel: the optimizer step each epoch ended at, when the epoch
        records have it (``fit`` and the GPT example record it), else the epoch number."""
        if self.epochs and all("step" in record for record in self.epochs):
            return [record["step"] for record in self.epochs], "step"
        return [record.get("epoch", i + 1) for i, record in enumerate(self.epochs)], "epoch"


def _colours(names: list[str]) -> dict[str, str]:
    """A fixed colour per series name, the same in every plot of a run (a series' validation
    twin shares its colour, drawn dashed)."""
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def _parse(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
