"""Mixed precision: `autocast` and `GradScaler`, as `torch.amp`.

with sg.autocast(device_type="cpu", dtype=sg.bfloat16):
    logits, loss = model(idx, targets)       # matmuls in bfloat16, the loss in float32
scaler = sg.amp.GradScaler("cuda")
scaler.scale(loss).backward()
scaler.step(optimizer)                       # skipped when a gradient is inf or NaN
scaler.update()
"""

from somegrad.amp.autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled
from somegrad.amp.grad_scaler import GradScaler
from somegrad.amp.policy import POLICIES

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype", "POLICIES"]
