"""An airbench-style network (Keller Jordan's "airbench", 2024; after David Page's ResNet-9): the fastest
route to a strong CIFAR model when compute is short.

A 2×2 stem convolution, then three groups of conv → max-pool → BN → ReLU → conv → BN → ReLU that halve the
side and widen, a global max-pool and a linear head whose logits are scaled down (a fixed temperature,
which lets a high learning rate train the head). No residual connections: at this depth they cost time
and add little. airbench94 uses widths 64/256/256 on a GPU; the defaults (64/128/256) are sized for a
laptop CPU, where the cheaper middle group buys more epochs in the same minutes.
"""

from __future__ import annotations

from typing import Any

from .common import INPUT_SHAPE, OUTPUT_LAYER, l2, pixel_input
from .geometry import conv, pool

AIRNET_STEPS = (conv(2), pool(2), pool(2), pool(2))
AIRNET_WHY = "its 2×2 valid stem convolution and three 2×2 max-poolings"
STEM_FILTERS = 24  # airbench's stem: 2×2 patches of 3 channels, 2 × 12 filters
LOGIT_SCALE = 1 / 8  # airbench's 1/9, Page's 0.125: softens the head so a high rate does not blow it up
BN_MOMENTUM = 0.9  # Keras' 0.99 needs ~500 steps to track the weights; a 10-epoch run at batch 512 has 900


def _group(x: Any, filters: int, name: str, weight_decay: float) -> Any:
    import keras

    layers = keras.layers
    kw = dict(padding="same", use_bias=False, kernel_initializer="he_normal", kernel_regularizer=l2(weight_decay))
    x = layers.Conv2D(filters, 3, name=f"{name}_conv1", **kw)(x)
    x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)  # pool before BN: the norm runs on a quarter of the pixels
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn1")(x)
    x = layers.Activation("relu", name=f"{name}_relu1")(x)
    x = layers.Conv2D(filters, 3, name=f"{name}_conv2", **kw)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn2")(x)
    return layers.Activation("relu", name=f"{name}_relu2")(x)


def build_airnet(
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] = INPUT_SHAPE,
    width1: int = 64,
    width2: int = 128,
    width3: int = 256,
    weight_decay: float = 2.5e-4,
) -> Any:
    """Stem, three conv groups of width1/width2/width3 filters, global max-pool, scaled linear head."""
    import keras

    layers = keras.layers
    inputs, x = pixel_input(input_shape)
    x = layers.Conv2D(STEM_FILTERS, 2, padding="valid", kernel_regularizer=l2(weight_decay), name="stem_conv")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for i, filters in enumerate((width1, width2, width3), start=1):
        x = _group(x, filters, f"group{i}", weight_decay)
    x = layers.GlobalMaxPooling2D(name="gmp")(x)
    x = layers.Dense(num_classes, use_bias=False, kernel_regularizer=l2(weight_decay), name="head")(x)
    x = layers.Rescaling(LOGIT_SCALE, name="logits")(x)  # the scaled scores are the logits
    probs = layers.Activation("softmax", dtype="float32", name=OUTPUT_LAYER)(x)
    return keras.Model(inputs, probs, name="airnet")
