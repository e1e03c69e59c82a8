"""The small mutable record the engine's callbacks share during one ``fit`` call (one thread)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class RunState:
    steps_per_epoch: int
    train_images: int
    batch_size: int
    started: float = field(default_factory=time.monotonic)
    stop_requested: bool = False  # the caller's stop flag was seen
    diverged_at: tuple[int, int] | None = None  # (0-based epoch, 1-based batch) where the loss went bad
    diverged_loss: float = float("nan")
    diverged_what: str = "loss"  # what went non-finite: "loss", "validation loss", "weights" or "outputs"
    write_failed: bool = False  # a checkpoint write failed (e.g. a full disk); the run stops at once
    epochs_completed: int = 0  # absolute: includes epochs of a resumed run
    best_value: float = -math.inf  # best val top-1 (train top-1 without validation)
    best_epoch: int | None = None
    last_saved_epoch: int | None = None  # epoch whose weights the checkpoint holds
    early_stopped: bool = False

    @property
    def interrupted(self) -> bool:
        """True when the epoch in flight did not run to its end and must not be recorded."""
        return self.stop_requested or self.diverged_at is not None or self.write_failed
