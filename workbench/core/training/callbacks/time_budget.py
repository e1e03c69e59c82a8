"""A time budget: fit the schedule's length to the measured speed so the rate anneals by the deadline, and
end the run at the step the plan reaches, inside an epoch if that is where the minutes run out.

The plan (how many steps fit) is remade after every batch from the speed measured so far, so a machine that
slows down mid-run shortens the schedule in time to anneal. Speed is measured after a warm-up (the first
steps trace and compile); the time each epoch spends outside its training steps (validation, saving) is
measured at each epoch end and reserved for every epoch end still to come, the last one included. Near the
end the plan is frozen, so the rate never climbs back up; it can still be cut short if the machine stalls.
"""

from __future__ import annotations

import math
import time
from typing import Any

from keras.callbacks import Callback

WARMUP_STEPS = 5  # steps left out of the speed measurement: tracing and the first allocations are slow
MEASURE_STEPS = 20  # steps timed before the first plan (fewer when an epoch is shorter)
SAFETY = 1.02  # plan with steps 2 % slower than measured, so the last step ends before the deadline
FREEZE_AT = 0.9  # fraction of the plan after which it may only shrink (the rate would climb back up)


class TimeBudget(Callback):
    def __init__(self, seconds: float, steps_per_epoch: int, max_epochs: int, schedule: Any | None,
                 clock: Any = time.monotonic) -> None:
        super().__init__()
        self.seconds, self.steps_per_epoch, self.max_epochs = seconds, steps_per_epoch, max_epochs
        self.schedule = schedule if hasattr(schedule, "set_total_steps") else None
        self.clock = clock
        self.planned_steps: int | None = None  # absolute step count the schedule now ends at
        self.ended_for_budget = False
        self._epoch = 0
        self._step = 0  # steps run in the current epoch
        self._per_step: float | None = None  # seconds per training step, last measured
        self._overhead = 0.0  # seconds an epoch spends outside its steps (validation, checkpoints)
        self._prev = (0.0, 0)  # (seconds, steps) of the last epoch's timed steps
        self._stride = 1  # steps per execution, as seen from the batch numbers

    @property
    def planned_epochs(self) -> int | None:
        """Epochs the plan touches (the last may be partial)."""
        return None if self.planned_steps is None else math.ceil(self.planned_steps / self.steps_per_epoch)

    def on_train_begin(self, logs=None) -> None:
        self.start = self.clock()
        self.deadline = self.start + self.seconds

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch, self._step = epoch, 0
        self._epoch_start = self._last_batch = self._timed_from = self.clock()
        first = self._per_step is None
        self._warm = min(WARMUP_STEPS, max(0, self.steps_per_epoch // 4)) if first else 0
        self._min_timed = min(MEASURE_STEPS, self.steps_per_epoch - self._warm) if first else 1

    def _steps_that_fit(self, seconds: float, per_step: float) -> int:
        """Training steps that fit in ``seconds`` with every epoch end they cross (their overhead) paid.

        Counted epoch by epoch, not by iterating "steps ↔ epoch ends": with short epochs and a slow epoch end
        that iteration swings between all and nothing (a 15 s budget once ended after 2 s)."""
        cost, spe, overhead = per_step * SAFETY, self.steps_per_epoch, self._overhead
        left = spe - self._step  # steps still to run in this epoch; its end is paid whatever we run
        if seconds < left * cost + overhead:
            return int(max(0.0, min(left, (seconds - overhead) / cost)))
        seconds -= left * cost + overhead
        whole = int(seconds // (spe * cost + overhead))  # whole epochs after this one, each with its end
        seconds -= whole * (spe * cost + overhead)
        part = int(max(0.0, min(spe - 1, (seconds - overhead) / cost)))  # and part of one more
        return left + whole * spe + part

    def _absolute_step(self) -> int:
        return self._epoch * self.steps_per_epoch + self._step

    def _replan(self, now: float, per_step: float) -> None:
        done = self._absolute_step()
        fit = self._steps_that_fit(self.deadline - now, per_step)
        fit -= fit % self._stride  # several steps per execution: the run can only stop between executions
        total = min(self.max_epochs * self.steps_per_epoch, done + fit)
        if self.planned_steps is not None and done >= FREEZE_AT * self.planned_steps:
            total = min(total, self.planned_steps)  # frozen: only a stall may cut it short
        total = max(total, done)
        if total != self.planned_steps:
            self.planned_steps = total
            if self.schedule is not None:
                self.schedule.set_total_steps(total)

    def on_train_batch_end(self, batch, logs=None) -> None:
        now = self.clock()
        step = min(self.steps_per_epoch, batch + 1)  # batch is the last step run (several per execution)
        if step - self._step > self._stride:
            self._stride = step - self._step
        self._step = step
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
        self._replan(now, per_step)
        if self._absolute_step() >= self.planned_steps:
            self.ended_for_budget = True
            self.model.stop_training = True  # Keras ends the epoch here, validates it and ends the run

    def on_epoch_end(self, epoch, logs=None) -> None:
        now = self.clock()
        self._overhead = max(0.0, now - self._last_batch)
        timed = self._step - self._warm
        if timed > 0:
            self._prev = (self._last_batch - self._timed_from, timed)
            self._per_step = self._prev[0] / timed
        if self.model.stop_training:
            return
        if epoch + 1 >= self.max_epochs or now >= self.deadline:
            self.ended_for_budget = True
            self.model.stop_training = True
