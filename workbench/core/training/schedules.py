"""Learning-rate schedules whose length can be changed during a run (a time budget sets it once the
speed is measured): one-cycle and warm-up + cosine, both annealing to zero at the last step, and airbench's
triangle, which ends at 7 % of the peak (its lookahead average does the last settling)."""

from __future__ import annotations

import math
from typing import Any

ONE_CYCLE_PEAK_AT = 0.25  # fraction of the run spent climbing (airbench and fastai use ~0.2-0.3)
ONE_CYCLE_START = 0.04  # the climb starts at this fraction of the peak rate (fastai's div_factor 25)
TRIANGLE = (0.2, 0.23, 0.07)  # airbench94's (start, peak at this fraction of the run, end) as fractions of the peak
WARMUP_FRACTION = 0.05  # warm-up + cosine: linear warm-up over this fraction (Goyal et al. use ~5 epochs of 90)


def shape(name: str, progress: float) -> float:
    """The multiplier of the peak rate at ``progress`` in [0, 1] of the run (plain Python, for tests and plots)."""
    p = min(max(progress, 0.0), 1.0)
    if name == "one_cycle":
        if p < ONE_CYCLE_PEAK_AT:
            return ONE_CYCLE_START + (1 - ONE_CYCLE_START) * p / ONE_CYCLE_PEAK_AT
        return 1.0 - (p - ONE_CYCLE_PEAK_AT) / (1 - ONE_CYCLE_PEAK_AT)
    if name == "triangle":
        start, peak_at, end = TRIANGLE
        if p < peak_at:
            return start + (1 - start) * p / peak_at
        return 1.0 - (1 - end) * (p - peak_at) / (1 - peak_at)
    if p < WARMUP_FRACTION:
        return p / WARMUP_FRACTION
    return 0.5 * (1 + math.cos(math.pi * (p - WARMUP_FRACTION) / (1 - WARMUP_FRACTION)))


def make_fitted_schedule(name: str, peak: float, total_steps: int) -> Any:
    """A Keras schedule for ``name`` ("one_cycle", "triangle" or "warmup_cosine") whose ``total_steps`` variable can be
    reassigned while training; the rate is ``peak * shape(step / total)`` and 0 past the end."""
    import keras
    import tensorflow as tf

    class FittedSchedule(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self) -> None:
            self.name, self.peak = name, float(peak)
            self.total_steps = tf.Variable(float(max(1, total_steps)), trainable=False, dtype=tf.float32)

        def __call__(self, step: Any) -> Any:
            # Keras applies the rate of step s to the update that makes the step count s + 1.
            p = tf.clip_by_value((tf.cast(step, tf.float32) + 1.0) / self.total_steps, 0.0, 1.0)
            if self.name == "one_cycle":
                up = ONE_CYCLE_START + (1 - ONE_CYCLE_START) * p / ONE_CYCLE_PEAK_AT
                down = 1.0 - (p - ONE_CYCLE_PEAK_AT) / (1 - ONE_CYCLE_PEAK_AT)
                m = tf.where(p < ONE_CYCLE_PEAK_AT, up, down)
            elif self.name == "triangle":
                start, peak_at, end = TRIANGLE
                up = start + (1 - start) * p / peak_at
                down = 1.0 - (1 - end) * (p - peak_at) / (1 - peak_at)
                m = tf.where(p < peak_at, up, down)
            else:
                warm = p / WARMUP_FRACTION
                cos = 0.5 * (1 + tf.cos(math.pi * (p - WARMUP_FRACTION) / (1 - WARMUP_FRACTION)))
                m = tf.where(p < WARMUP_FRACTION, warm, cos)
            return self.peak * m

        def set_total_steps(self, steps: int) -> None:
            self.total_steps.assign(float(max(1, steps)))

        def get_config(self) -> dict[str, Any]:
            return {"name": self.name, "peak": self.peak, "total_steps": int(self.total_steps.numpy())}

    return FittedSchedule()
