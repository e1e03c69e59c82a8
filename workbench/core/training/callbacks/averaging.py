"""Weight averaging (EMA): validation sees the averaged weights, training keeps the raw ones.

Keras keeps the average in the optimizer (``use_ema``) and copies it into the model when ``fit`` ends,
so the saved model is the average. Checkpoints are taken while swapped (the model part holds the
average, the optimizer's average slots the raw weights), so the best model is the averaged one too and
a resume swaps once after loading to get back to training on the raw weights.
"""

from __future__ import annotations

from typing import Any

from keras.callbacks import Callback, SwapEMAWeights


def swap_average(model: Any) -> None:
    """Exchange the model's trainable weights with the optimizer's averages (its own inverse)."""
    swapper = SwapEMAWeights()
    swapper.set_model(model)
    swapper._swap_variables()  # Keras' strategy-aware swap, without creating variables


class ValidateOnAverage(Callback):
    def on_test_begin(self, logs=None) -> None:
        swap_average(self.model)

    def on_test_end(self, logs=None) -> None:
        swap_average(self.model)


def averaged_snapshot(model: Any) -> Any:
    """The checkpoint arrays taken with the average swapped in (see the module's docstring)."""
    from workbench.core.training.checkpoint import snapshot

    swap_average(model)
    try:
        return snapshot(model)
    finally:
        swap_average(model)
