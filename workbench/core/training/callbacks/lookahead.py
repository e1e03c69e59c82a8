"""airbench's lookahead (Jordan 2024, after hlb-cifar10): a slow copy of the weights that the network is pulled
back to every few steps, with a pull that grows toward the end of the run, and that the network takes at each
epoch's end. Short high-rate runs end on a smoothed point of the valley instead of wherever the last step fell.

Every ``EVERY`` steps after ``START`` of the run: slow += (1 - rho) · (fast - slow), then fast = slow, with
rho = 0.95^EVERY · (step / total)³. The copy covers every weight, the batch-norm statistics included. It is not
checkpointed: a resumed run starts a new copy at its first update.
"""

from __future__ import annotations

from typing import Any

from keras.callbacks import Callback

EVERY = 5  # steps between pulls (airbench's every_n_steps)
DECAY_BASE = 0.95  # per-step decay of the slow copy at the end of the run
DECAY_POW = 3.0  # how late in the run the pull grows strong
START = 0.3  # fraction of the run before the slow copy starts (airbench: 3 of 9.9 epochs)


class Lookahead(Callback):
    def __init__(self, schedule: Any | None, planned_steps: int) -> None:
        super().__init__()
        self.schedule = schedule  # a fitted schedule: its total_steps follows a time budget's plan
        self.planned_steps = planned_steps
        self._slow: list[Any] | None = None

    def _total(self) -> float:
        total = getattr(self.schedule, "total_steps", None)
        return float(total.numpy()) if total is not None else float(self.planned_steps)

    def _variables(self) -> list[Any]:
        return [v for v in self.model.weights if "float" in str(v.dtype)]

    def on_train_batch_end(self, batch, logs=None) -> None:
        import tensorflow as tf

        step = int(self.model.optimizer.iterations.numpy())
        total = max(1.0, self._total())
        if step % EVERY or step < START * total:
            return
        variables = self._variables()
        if self._slow is None:
            self._slow = [tf.Variable(v.value, trainable=False) for v in variables]
            return
        rho = DECAY_BASE**EVERY * min(1.0, step / total) ** DECAY_POW
        _pull(variables, self._slow, rho)

    def on_test_begin(self, logs=None) -> None:
        self._take_slow()  # validation sees the slow weights, as the saved model will

    def on_epoch_end(self, epoch, logs=None) -> None:
        self._take_slow()

    def _take_slow(self) -> None:
        if self._slow is not None:
            for fast, slow in zip(self._variables(), self._slow):
                fast.assign(slow)


def _pull(fast: list[Any], slow: list[Any], rho: float) -> None:
    # Eager assigns: ~80 small ops every 5 steps cost milliseconds next to seconds of training.
    for f, s in zip(fast, slow):
        s.assign(s + (1.0 - rho) * (f.value - s))
        f.assign(s)
