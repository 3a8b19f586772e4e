"""Training loops, callbacks and checkpoints (``somegrad.train``).

from somegrad.train import fit, EarlyStopping, ModelCheckpoint
history = fit(model, train_loader, F.cross_entropy, opt, epochs=10, val_loader=val_loader,
              metrics=["accuracy"], callbacks=[EarlyStopping(patience=3)],
              history_path="run/history.csv")
"""

from somegrad.train.callbacks import (
    Callback,
    EarlyStopping,
    EpochLogger,
    ModelCheckpoint,
    TrainingState,
)
from somegrad.train.checkpoint import load_checkpoint, save_checkpoint
from somegrad.train.history import History
from somegrad.train.loop import evaluate, fit, train_one_epoch
from somegrad.train.metrics import accuracy, top_k_accuracy

__all__ = [
    "fit",
    "train_one_epoch",
    "evaluate",
    "History",
    "Callback",
    "TrainingState",
    "EarlyStopping",
    "ModelCheckpoint",
    "EpochLogger",
    "save_checkpoint",
    "load_checkpoint",
    "accuracy",
    "top_k_accuracy",
]
