"""Pieces every network shares: the raw-pixel input, in-model scaling and the probability head.

Keras is imported inside each function so that importing the architectures package stays free
of TensorFlow (the GUI imports the registry just for names and titles).
"""

from __future__ import annotations

from typing import Any

INPUT_SHAPE = (32, 32, 3)  # the default: CIFAR's 32×32 RGB; any dataset passes its own image shape
OUTPUT_LAYER = "probabilities"


def pixel_input(input_shape: tuple[int, int, int] = INPUT_SHAPE) -> tuple[Any, Any]:
    """Return (input tensor, scaled tensor) for height×width×channels images of raw 0-255 pixels.

    The model scales the pixels itself, whatever the channel count (1, 3 or 4).
    """
    import keras

    inputs = keras.Input(tuple(input_shape), name="pixels")
    # Scaling inside the model means a saved file needs no preprocessing script beside it.
    scaled = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    return inputs, scaled


def probability_head(inputs: Any, features: Any, num_classes: int, name: str) -> Any:
    """Finish a network with Dense(C) and a float32 softmax, and wrap it as a keras.Model."""
    import keras

    logits = keras.layers.Dense(num_classes, name="logits")(features)
    # float32 so that mixed precision never hands the loss half-precision probabilities.
    probs = keras.layers.Activation("softmax", dtype="float32", name=OUTPUT_LAYER)(logits)
    return keras.Model(inputs, probs, name=name)


def maybe_dropout(x: Any, rate: float, name: str) -> Any:
    """Apply a real Dropout layer when rate > 0; rate 0 leaves the graph without one."""
    if rate <= 0:
        return x
    import keras

    return keras.layers.Dropout(rate, name=name)(x)


def l2(factor: float) -> Any:
    """An L2 regularizer, or None when the factor is 0."""
    if not factor:
        return None
    import keras

    return keras.regularizers.L2(factor)
