"""Throttled FinishingProgress reports for the work after an epoch's last batch (validation, the final test,
saving): a phase's first and last report always go out, others at most every ``interval`` seconds."""

from __future__ import annotations

import time
from typing import Any, Callable

from workbench.core.training.events import FinishingProgress

PROGRESS_INTERVAL_S = 0.1  # BatchProgress and FinishingProgress at most ~10 per second


class PhaseProgress:
    """``begin(phase, total)`` then ``update(done)`` calls; reports go to ``emit``."""

    def __init__(self, emit: Callable[[Any], None], started: float, interval: float = PROGRESS_INTERVAL_S) -> None:
        self.emit = emit
        self.started = started  # time.monotonic() when the run started
        self.interval = interval
        self.phase = ""
        self.total = 0
        self._begun = 0.0
        self._last = 0.0

    def begin(self, phase: str, total: int, done: int = 0) -> None:
        self.phase, self.total = phase, max(0, int(total))
        self._begun = time.monotonic()
        self._report(done)

    def update(self, done: int) -> None:
        done = min(int(done), self.total)
        if done >= self.total or time.monotonic() - self._last >= self.interval:
            self._report(done)

    def _report(self, done: int) -> None:
        now = self._last = time.monotonic()
        self.emit(FinishingProgress(phase=self.phase, done=min(done, self.total), total=self.total,
                                    seconds=now - self._begun, elapsed=now - self.started))
