"""A CallbackList that hands batch logs over as they are (tensors), without converting them.

Keras' own list converts every batch's logs to Python floats once any callback listens to batch
ends, which waits for the device each batch. The engine's batch callback converts only the
~10 batches per second it reports, so training keeps Keras' full speed.
"""

from __future__ import annotations

from keras.callbacks import Callback, CallbackList


def _overrides(callback: Callback, method: str) -> bool:
    return getattr(type(callback), method) is not getattr(Callback, method)


class LeanCallbackList(CallbackList):
    """Batch-end logs reach callbacks unconverted; epoch and test logs are converted as usual."""

    def __init__(self, callbacks=None, **kwargs) -> None:
        super().__init__(callbacks, **kwargs)
        # Only callbacks that do something per batch are called per batch.
        self._batch_begin = [c for c in self.callbacks if _overrides(c, "on_train_batch_begin")]
        self._batch_end = [c for c in self.callbacks if _overrides(c, "on_train_batch_end")]
        self._test_batch_end = [c for c in self.callbacks if _overrides(c, "on_test_batch_end")]

    def _configure_async_dispatch(self, callbacks) -> None:
        super()._configure_async_dispatch(callbacks)
        self._async_train = False  # batch ends run inline so the stop flag is honoured at once

    def on_train_batch_begin(self, batch, logs=None) -> None:
        for callback in self._batch_begin:
            callback.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None) -> None:
        for callback in self._batch_end:
            callback.on_train_batch_end(batch, logs)

    def on_test_batch_end(self, batch, logs=None) -> None:
        for callback in self._test_batch_end:  # validation progress counts batches: no logs converted
            callback.on_test_batch_end(batch, logs)
