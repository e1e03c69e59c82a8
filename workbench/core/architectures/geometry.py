"""Which image sizes a network can take, from its layer arithmetic alone (no TensorFlow).

Every valid convolution and max-pooling shrinks the image; a network whose last spatial layer
would get less than its window cannot be built (Keras says "Computed output size would be zero
or negative"). Each network lists those steps; the smallest side it takes follows from them.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass
from typing import Any

# At 512×512 resnet_wide's layer outputs already take 1.3 GB per training image (summed from its
# layer shapes) and simple_cnn's flattened head has 126 M parameters; larger is not a "small CNN".
MAX_SIDE = 512
# Grayscale or RGB: what an image import produces and what classify feeds (transparency is flattened
# onto white), so a network is only built for inputs that images can fill; model files agree (inspect).
IMAGE_CHANNELS = (1, 3)
_CHANNEL_WORDS = "1 (grayscale) or 3 (RGB)"


@dataclass(frozen=True)
class Shrink:
    """One step that changes the side of the image: a convolution or a max-pooling."""

    window: int
    stride: int = 1
    same: bool = False  # "same" padding: the side becomes ceil(side / stride), never 0


def conv(window: int) -> Shrink:
    """A stride-1 convolution with "valid" padding."""
    return Shrink(window)


def pool(window: int, stride: int | None = None) -> Shrink:
    """A max-pooling with "valid" padding (stride = window when not given, as in Keras)."""
    return Shrink(window, stride or window)


def halve() -> Shrink:
    """A stride-2 "same"-padded convolution: the side halves, rounding up."""
    return Shrink(3, 2, same=True)


def side_after(steps: tuple[Shrink, ...], side: int) -> int:
    """The side left after `steps`, or 0 when a step finds less than its window."""
    for step in steps:
        if step.same:
            side = -(-side // step.stride)
        elif side < step.window:
            return 0
        else:
            side = (side - step.window) // step.stride + 1
    return side


@functools.lru_cache(maxsize=None)
def min_side(steps: tuple[Shrink, ...]) -> int:
    """The smallest side that leaves at least one pixel after `steps`; MAX_SIDE + 1 when none does."""
    for side in range(1, MAX_SIDE + 1):  # a larger side never leaves less, so the first fit is the least
        if side_after(steps, side) >= 1:
            return side
    return MAX_SIDE + 1


def shape_text(input_shape) -> str:
    """(28, 28, 1) -> "28×28×1"."""
    return "×".join(str(d) for d in input_shape)


def as_shape(input_shape: Any) -> tuple[int, int, int] | None:
    """`input_shape` as three positive Python ints (lists and numpy ints welcome), or None."""
    try:
        dims = tuple(operator.index(d) for d in input_shape if not isinstance(d, bool))
        count = len(input_shape)
    except TypeError:
        return None
    if count != 3 or len(dims) != 3 or min(dims) < 1:
        return None
    return dims  # type: ignore[return-value]


def malformed_shape(input_shape: Any) -> str:
    """The sentence for an input shape that `as_shape` refused."""
    return ("An input shape is three positive whole numbers, height × width × channels "
            f"(e.g. 28×28×1), not {input_shape!r}.")


def size_problem(name: str, input_shape: tuple[int, int, int], steps: tuple[Shrink, ...], why: str) -> str | None:
    """One sentence saying why network `name` (with spatial `steps`) cannot take `input_shape`."""
    height, width, channels = input_shape
    if channels not in IMAGE_CHANNELS:
        return f"{name} takes images with {_CHANNEL_WORDS} channels, not {channels}."
    if max(height, width) > MAX_SIDE:
        return (f"{name} takes images of at most {MAX_SIDE}×{MAX_SIDE} pixels (training on larger ones needs "
                f"gigabytes of memory per image), not {height}×{width}; import them at a smaller size.")
    smallest = min_side(steps)
    if min(height, width) < smallest:
        return (f"{name} needs images of at least {smallest}×{smallest} pixels ({why} leave nothing of "
                f"smaller ones), not {height}×{width}.")
    return None


_SHAPE_TEXT = re.compile(r"\s*([0-9]{1,6})\s*[x×X,]\s*([0-9]{1,6})\s*[x×X,]\s*([0-9]{1,6})\s*")


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """"28x28x1" -> (28, 28, 1); a ValueError sentence for anything else."""
    match = _SHAPE_TEXT.fullmatch(text or "")
    if not match:
        raise ValueError(f"An input shape is written HEIGHTxWIDTHxCHANNELS, e.g. 28x28x1 or 64x64x3 (got {text!r}).")
    shape = as_shape(tuple(int(group) for group in match.groups()))
    if shape is None:
        raise ValueError(malformed_shape(text))
    return shape
