"""A time budget: fit the schedule's length to the measured speed so the rate anneals by the deadline,
and end the run at the last epoch that fits.

The plan (how many epochs fit) is remade after every batch from the speed measured so far, so a machine
that slows down mid-run shortens the schedule in time for the last epoch to anneal. Speed is measured
after a warm-up (the first steps trace and compile); the time an epoch spends outside its training steps
(validation, saving) is measured at each epoch end and counted in every epoch still to come.
"""

from __future__ import annotations

import math
import time
from typing import Any

from keras.callbacks import Callback

WARMUP_STEPS = 5  # steps left out of the speed measurement: tracing and the first allocations are slow
MEASURE_STEPS = 20  # steps timed before the first plan (fewer when an epoch is shorter)
SAFETY = 1.03  # plan with steps 3 % slower than measured, so the last epoch ends before the deadline


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
        self._per_step: float | None = None  # seconds per training step, last measured
        self._overhead = 0.0  # seconds an epoch spends outside its steps (validation, checkpoints)
        self._prev = (0.0, 0)  # (seconds, steps) of the last epoch's timed steps

    def on_train_begin(self, logs=None) -> None:
        self.start = self.clock()
        self.deadline = self.start + self.seconds

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch, self._step = epoch, 0
        self._epoch_start = self._last_batch = self._timed_from = self.clock()
        first = self._per_step is None
        self._warm = min(WARMUP_STEPS, max(0, self.steps_per_epoch // 4)) if first else 0
        self._min_timed = min(MEASURE_STEPS, self.steps_per_epoch - self._warm) if first else 1

    def _plan(self, epochs: int) -> None:
        epochs = max(self._epoch + 1, min(self.max_epochs, epochs))
        if epochs != self.planned_epochs:
            self.planned_epochs = epochs
            if self.schedule is not None:
                self.schedule.set_total_steps(epochs * self.steps_per_epoch)

    def _epoch_seconds(self, per_step: float) -> float:
        return self.steps_per_epoch * per_step * SAFETY + self._overhead

    def on_train_batch_end(self, batch, logs=None) -> None:
        now = self.clock()
        self._step = min(self.steps_per_epoch, batch + 1)  # batch is the last step run (several per execution)
        self._last_batch = now
        if self._step == self._warm and self._warm > 0:
            self._timed_from = now
            return
        timed = self._step - self._warm
        if timed < self._min_timed or timed <= 0:
            if self._per_step is None:
                return
            per_step = self._per_step
        else:  # this epoch's steps, plus the last epoch's: one slow step does not swing the plan
            seconds, steps = now - self._timed_from + self._prev[0], timed + self._prev[1]
            per_step = seconds / steps
            if self._per_step is None:
                self._per_step = per_step
        if self.planned_epochs is not None and self.planned_epochs <= self._epoch + 1:
            return  # already the last epoch: never stretch it, the rate would climb back up
        to_epoch_end = (self.steps_per_epoch - self._step) * per_step * SAFETY + self._overhead
        more = math.floor((self.deadline - now - to_epoch_end) / max(self._epoch_seconds(per_step), 1e-9))
        self._plan(self._epoch + 1 + max(0, more))

    def on_epoch_end(self, epoch, logs=None) -> None:
        now = self.clock()
        self._overhead = max(0.0, now - self._last_batch)
        timed = self._step - self._warm
        if timed > 0:
            self._prev = (self._last_batch - self._timed_from, timed)
            self._per_step = self._prev[0] / timed
        finished_plan = self.planned_epochs is not None and epoch + 1 >= self.planned_epochs
        more = math.floor((self.deadline - now) / max(self._epoch_seconds(self._per_step or 0.0), 1e-9))
        if finished_plan or more <= 0 or epoch + 1 >= self.max_epochs:
            self.ended_for_budget = True
            self.model.stop_training = True
            return
        self._plan(epoch + 1 + more)
