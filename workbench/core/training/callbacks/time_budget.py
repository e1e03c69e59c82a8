"""A time budget: fit the schedule's length to the measured speed so the rate anneals by the deadline,
and end the run at the last epoch that fits.

The speed is measured over steps after a warm-up (the first steps trace and compile), giving a first plan
mid-epoch; every epoch end re-plans from the last epoch's wall time (validation included). The run ends at
an epoch boundary, the schedule's last step falling on the last epoch's last step.
"""

from __future__ import annotations

import math
import time
from typing import Any

from keras.callbacks import Callback

WARMUP_STEPS = 5  # steps left out of the speed measurement: tracing and the first allocations are slow
MEASURE_STEPS = 20  # steps timed for the first plan (fewer when an epoch is shorter)
SAFETY = 1.03  # plan with epochs 3 % slower than measured, so the last one ends before the deadline


class TimeBudget(Callback):
    def __init__(self, seconds: float, steps_per_epoch: int, max_epochs: int, schedule: Any | None,
                 clock: Any = time.monotonic) -> None:
        super().__init__()
        self.seconds, self.steps_per_epoch, self.max_epochs = seconds, steps_per_epoch, max_epochs
        self.schedule = schedule if hasattr(schedule, "set_total_steps") else None
        self.clock = clock
        self.planned_epochs: int | None = None  # absolute epoch count the schedule now ends at
        self.ended_for_budget = False
        self._epoch = 0

    def on_train_begin(self, logs=None) -> None:
        self.start = self.clock()
        self.deadline = self.start + self.seconds

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch, self._epoch_start, self._step = epoch, self.clock(), 0

    def _plan(self, epochs: int) -> None:
        self.planned_epochs = max(self._epoch + 1, min(self.max_epochs, epochs))
        if self.schedule is not None:
            self.schedule.set_total_steps(self.planned_epochs * self.steps_per_epoch)

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self.planned_epochs is not None:
            return
        self._step += 1
        warm = min(WARMUP_STEPS, max(0, self.steps_per_epoch // 4))
        end = min(warm + MEASURE_STEPS, self.steps_per_epoch)
        if self._step == warm:
            self._warm_time = self.clock()
        elif self._step == end and end > warm:
            per_step = (self.clock() - self._warm_time) / (end - warm) * SAFETY
            now = self.clock()
            left_in_epoch = (self.steps_per_epoch - self._step) * per_step
            more = math.floor((self.deadline - now - left_in_epoch) / (per_step * self.steps_per_epoch))
            self._plan(self._epoch + 1 + max(0, more))

    def on_epoch_end(self, epoch, logs=None) -> None:
        now = self.clock()
        epoch_seconds = (now - self._epoch_start) * SAFETY
        more = math.floor((self.deadline - now) / max(epoch_seconds, 1e-9))
        finished_plan = self.planned_epochs is not None and epoch + 1 >= self.planned_epochs
        # Past the schedule's end the rate is zero: never stretch a finished plan, the rate would jump back up.
        if finished_plan or more <= 0 or epoch + 1 >= self.max_epochs:
            self.ended_for_budget = True
            self.model.stop_training = True
            return
        self._plan(epoch + 1 + more)
