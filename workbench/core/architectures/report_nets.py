"""The course report's five networks, rebuilt exactly (see docs/ARCHITECTURES.md).

Each builder reproduces the report's parameter counts at its default options, with the
report's defects fixed: softmax output, dropout that really sits in the graph, and residual
blocks that add their own input.
"""

from __future__ import annotations

from typing import Any

from .common import INPUT_SHAPE, l2, maybe_dropout, pixel_input, probability_head
from .geometry import conv, pool

# The steps that shrink each network's image, in order (checked against real builds by the tests),
# and what they are in words, for the sentence that refuses too-small images.
TOY_RESNET_STEPS = (conv(3), conv(3), pool(3), conv(3))
TOY_RESNET_WHY = "its two 3×3 valid convolutions, 3×3 max-pooling and last 3×3 valid convolution"
EMBEDDED_CNN_STEPS = (conv(9), pool(2), pool(2), pool(2), pool(2))
EMBEDDED_CNN_WHY = "its 9×9 valid convolution and four 2×2 max-poolings"
ALL_CONV_STEPS = (conv(5), pool(3, 2), conv(5), pool(3, 2), conv(3))
ALL_CONV_WHY = "its 5×5, 5×5 and 3×3 valid convolutions and two 3×3 stride-2 max-poolings"
SIMPLE_CNN_STEPS = (conv(3), pool(2), conv(3), pool(2), conv(3), pool(2))
SIMPLE_CNN_WHY = "its three 3×3 valid convolutions and three 2×2 max-poolings"


def _toy_block(x: Any, index: int, activation: str, conv2_kwargs: dict[str, Any]) -> Any:
    """Two same-padded 64-filter convolutions plus the block's own input."""
    import keras

    y = keras.layers.Conv2D(64, 3, padding="same", activation=activation, name=f"block{index}_conv1")(x)
    y = keras.layers.Conv2D(
        64, 3, padding="same", activation=activation, name=f"block{index}_conv2", **conv2_kwargs
    )(y)
    # The shortcut is this block's input x, never an earlier block's (report defect 4).
    return keras.layers.Add(name=f"block{index}_add")([y, x])


def build_toy_resnet(num_classes: int, *, input_shape: tuple[int, int, int] = INPUT_SHAPE, dropout: float = 0.5) -> Any:
    """Report CIFAR-10 model 1: the Keras guide's toy ResNet with ELU and bias L2."""
    import keras

    inputs, x = pixel_input(input_shape)
    x = keras.layers.Conv2D(32, 3, activation="elu", bias_regularizer=l2(1e-3), name="conv1")(x)
    x = keras.layers.Conv2D(64, 3, activation="elu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(3, name="pool1")(x)
    for index in (1, 2):
        x = _toy_block(x, index, "elu", {"bias_regularizer": l2(1e-4)})
    x = keras.layers.Conv2D(64, 3, activation="elu", bias_regularizer=l2(1e-4), name="conv3")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(256, activation="relu", name="dense1")(x)
    x = maybe_dropout(x, dropout, "dropout")
    return probability_head(inputs, x, num_classes, "toy_resnet")


def build_toy_resnet_deep(
    num_classes: int, *, input_shape: tuple[int, int, int] = INPUT_SHAPE, dropout: float = 0.5
) -> Any:
    """Report CIFAR-100 model 2: three ReLU residual blocks with activity L2, correctly chained."""
    import keras

    inputs, x = pixel_input(input_shape)
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(3, name="pool1")(x)
    for index in (1, 2, 3):
        x = _toy_block(x, index, "relu", {"activity_regularizer": l2(1e-4)})
    x = keras.layers.Conv2D(64, 3, activation="relu", name="conv3")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(256, activation="relu", name="dense1")(x)
    x = keras.layers.Dense(128, activation="relu", name="dense2")(x)
    x = maybe_dropout(x, dropout, "dropout")
    return probability_head(inputs, x, num_classes, "toy_resnet_deep")


def build_embedded_cnn(
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] = INPUT_SHAPE,
    conv1_filters: int = 3,
    conv2_filters: int = 3,
    conv3_filters: int = 3,
    conv4_filters: int = 3,
) -> Any:
    """Report CIFAR-10 model 2 (Calik & Demirci as described): tiny filter counts, now options."""
    import keras

    inputs, x = pixel_input(input_shape)
    x = keras.layers.Conv2D(conv1_filters, 9, activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    for index, filters in enumerate((conv2_filters, conv3_filters, conv4_filters), start=2):
        x = keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name=f"conv{index}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(384, activation="relu", name="dense1")(x)
    x = keras.layers.Dense(128, activation="relu", name="dense2")(x)
    return probability_head(inputs, x, num_classes, "embedded_cnn")


def build_all_conv(
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] = INPUT_SHAPE,
    input_dropout: float = 0.2,
    inner_dropout: float = 0.5,
) -> Any:
    """Report CIFAR-10 model 3 / CIFAR-100 model 1 (after Springenberg et al.); 0 turns a dropout off."""
    import keras

    inputs, x = pixel_input(input_shape)
    x = maybe_dropout(x, input_dropout, "input_dropout")
    x = keras.layers.Conv2D(96, 5, activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = maybe_dropout(x, inner_dropout, "dropout1")
    x = keras.layers.Conv2D(192, 5, activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    x = maybe_dropout(x, inner_dropout, "dropout2")
    x = keras.layers.Conv2D(192, 3, activation="relu", name="conv3")(x)
    x = keras.layers.Conv2D(192, 1, activation="relu", name="conv4")(x)
    x = keras.layers.Conv2D(num_classes, 1, activation="relu", name="conv5")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return probability_head(inputs, x, num_classes, "all_conv")


def build_simple_cnn(num_classes: int, *, input_shape: tuple[int, int, int] = INPUT_SHAPE, dropout: float = 0.5) -> Any:
    """Report CIFAR-100 model 3: the tutorial convnet."""
    import keras

    inputs, x = pixel_input(input_shape)
    for index, filters in enumerate((32, 64, 128), start=1):
        x = keras.layers.Conv2D(filters, 3, activation="relu", name=f"conv{index}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(256, activation="relu", name="dense1")(x)
    x = keras.layers.Dense(128, activation="relu", name="dense2")(x)
    x = maybe_dropout(x, dropout, "dropout")
    return probability_head(inputs, x, num_classes, "simple_cnn")
