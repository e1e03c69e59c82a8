"""An airbench-style network (Keller Jordan's "airbench", 2024; after David Page's ResNet-9): the fastest
route to a strong CIFAR model when compute is short.

A 2×2 stem convolution, then three groups of conv → max-pool → BN → activation → conv → BN → activation
that halve the side and widen, a global max-pool and a linear head whose logits are scaled down (a fixed
temperature, which lets a high learning rate train the head). No residual connections: at this depth they
cost time and add little.

Options bring airbench94's pieces over one by one (the `fast` recipe turns them all on; the README's
ablation measures each): ``whiten`` makes the stem a frozen patch-whitening layer that training sets from
the training images' 2×2 patch covariance (architectures/whitening.py); ``dirac`` starts every group
convolution as the identity on its first input channels (an implicit residual); ``bn_scale=False`` drops
batch norm's learned scale (airbench learns only the shift); ``bn_momentum`` is Keras' momentum of the
running statistics (airbench's 0.6 in PyTorch's terms is 0.4 here); ``gelu`` replaces ReLU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .common import INPUT_SHAPE, OUTPUT_LAYER, l2, pixel_input
from .geometry import conv, pool

AIRNET_STEPS = (conv(2), pool(2), pool(2), pool(2))
AIRNET_WHY = "its 2×2 valid stem convolution and three 2×2 max-poolings"
STEM_FILTERS = 24  # airbench's stem: 2×2 patches of 3 channels, 2 × 12 filters (each whitened direction and its negative)
WHITEN_LAYER = "whiten"  # the stem's name when it is a frozen whitening layer: training initialises it from the data
LOGIT_SCALE = 1 / 8  # airbench's 1/9, Page's 0.125: softens the head so a high rate does not blow it up
BN_MOMENTUM = 0.9  # Keras' 0.99 needs ~500 steps to track the weights; a 10-epoch run at batch 512 has 900
BN_EPSILON = 1e-5  # PyTorch's default; Keras' 1e-3 is large next to the small variances a whitened input gives


def _group(x: Any, filters: int, name: str, weight_decay: float, act: str, bn: dict[str, Any]) -> Any:
    import keras

    layers = keras.layers
    kw = dict(padding="same", use_bias=False, kernel_initializer="he_normal", kernel_regularizer=l2(weight_decay))
    x = layers.Conv2D(filters, 3, name=f"{name}_conv1", **kw)(x)
    x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)  # pool before BN: the norm runs on a quarter of the pixels
    x = layers.BatchNormalization(name=f"{name}_bn1", **bn)(x)
    x = layers.Activation(act, name=f"{name}_{act}1")(x)
    x = layers.Conv2D(filters, 3, name=f"{name}_conv2", **kw)(x)
    x = layers.BatchNormalization(name=f"{name}_bn2", **bn)(x)
    return layers.Activation(act, name=f"{name}_{act}2")(x)


def dirac_init(model: Any) -> None:
    """Start each group convolution as the identity on its first input channels (airbench's ``dirac_``): output
    filter i copies input channel i for i < min(in, out); the other filters keep their random start."""
    for layer in model.layers:
        if not (layer.name.startswith("group") and "_conv" in layer.name):
            continue
        kernel = np.array(layer.kernel.numpy())
        kh, kw, c_in, c_out = kernel.shape
        n = min(c_in, c_out)
        kernel[:, :, :, :n] = 0.0
        kernel[kh // 2, kw // 2, np.arange(n), np.arange(n)] = 1.0
        layer.kernel.assign(kernel)


def build_airnet(
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] = INPUT_SHAPE,
    width1: int = 64,
    width2: int = 128,
    width3: int = 256,
    weight_decay: float = 2.5e-4,
    whiten: bool = False,
    dirac: bool = False,
    gelu: bool = False,
    bn_scale: bool = True,
    bn_momentum: float = BN_MOMENTUM,
) -> Any:
    """Stem, three conv groups of width1/width2/width3 filters, global max-pool, scaled linear head."""
    import keras

    layers = keras.layers
    act = "gelu" if gelu else "relu"
    bn = {"momentum": bn_momentum, "epsilon": BN_EPSILON, "scale": bn_scale}
    inputs, x = pixel_input(input_shape)
    if whiten:  # frozen: its weights come from the training images, never from the gradient
        x = layers.Conv2D(STEM_FILTERS, 2, padding="valid", trainable=False, name=WHITEN_LAYER)(x)
    else:
        x = layers.Conv2D(STEM_FILTERS, 2, padding="valid", kernel_regularizer=l2(weight_decay), name="stem_conv")(x)
    x = layers.Activation(act, name=f"stem_{act}")(x)
    for i, filters in enumerate((width1, width2, width3), start=1):
        x = _group(x, filters, f"group{i}", weight_decay, act, bn)
    x = layers.GlobalMaxPooling2D(name="gmp")(x)
    x = layers.Dense(num_classes, use_bias=False, kernel_regularizer=l2(weight_decay), name="head")(x)
    x = layers.Rescaling(LOGIT_SCALE, name="logits")(x)  # the scaled scores are the logits
    probs = layers.Activation("softmax", dtype="float32", name=OUTPUT_LAYER)(x)
    model = keras.Model(inputs, probs, name="airnet")
    if dirac:
        dirac_init(model)
    return model
