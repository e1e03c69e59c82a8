"""Progress of a ``model.evaluate`` pass as FinishingProgress (the final test without test-time flip)."""

from __future__ import annotations

from keras.callbacks import Callback

from workbench.core.training.phase_progress import PhaseProgress


class EvaluationProgress(Callback):
    def __init__(self, progress: PhaseProgress, batch_size: int, total: int) -> None:
        super().__init__()
        self.progress, self.batch_size, self.total = progress, batch_size, total

    def on_test_batch_end(self, batch, logs=None) -> None:
        self.progress.update(min((batch + 1) * self.batch_size, self.total))
