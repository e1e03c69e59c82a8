"""The architecture registry: names, titles, options with defaults, and the one build entry point.

Importing this module never imports TensorFlow; only build_model and count_params do
(input_problem answers from layer arithmetic alone).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from workbench.core.tf_import import ensure_tensorflow

from . import airnet, report_nets, resnet
from .common import INPUT_SHAPE
from .geometry import Shrink, as_shape, malformed_shape, min_side, size_problem

_DROPOUT = (0.0, 0.99)
_FILTERS = (1, 1024)


@dataclass(frozen=True)
class ArchSpec:
    """One buildable network: `build(num_classes, input_shape=..., **options)` returns an uncompiled keras.Model."""

    name: str
    title: str
    description: str
    build: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)  # option name -> default value
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # inclusive bounds
    report: bool = False  # one of the course report's five networks
    steps: tuple[Shrink, ...] = ()  # what shrinks the image, in order: sets the smallest input
    steps_why: str = ""  # those steps in words, for the sentence refusing too-small images


_SPECS = (
    ArchSpec(
        "toy_resnet",
        "Toy ResNet (report CIFAR-10 model 1)",
        "Keras guide's toy ResNet: ELU convolutions, two residual blocks, bias L2, dropout 0.5. "
        "223,242 params on CIFAR-10; images of 13×13 and up.",
        report_nets.build_toy_resnet,
        {"dropout": 0.5},
        {"dropout": _DROPOUT},
        report=True,
        steps=report_nets.TOY_RESNET_STEPS,
        steps_why=report_nets.TOY_RESNET_WHY,
    ),
    ArchSpec(
        "embedded_cnn",
        "Embedded CNN (report CIFAR-10 model 2)",
        "Calik & Demirci's small CNN as the report describes it: 9x9 then three 5x5 convolutions with 3 filters "
        "each (options). 53,522 params on CIFAR-10; images of 24×24 and up.",
        report_nets.build_embedded_cnn,
        {"conv1_filters": 3, "conv2_filters": 3, "conv3_filters": 3, "conv4_filters": 3},
        {f"conv{i}_filters": _FILTERS for i in range(1, 5)},
        report=True,
        steps=report_nets.EMBEDDED_CNN_STEPS,
        steps_why=report_nets.EMBEDDED_CNN_WHY,
    ),
    ArchSpec(
        "all_conv",
        "All-convolutional net (report CIFAR-10 model 3, CIFAR-100 model 1)",
        "After Springenberg et al.: 5x5/3x3/1x1 convolutions, global average pooling; input and inner dropout "
        "are options (0 = off). 839,352 params on CIFAR-10; images of 27×27 and up.",
        report_nets.build_all_conv,
        {"input_dropout": 0.2, "inner_dropout": 0.5},
        {"input_dropout": _DROPOUT, "inner_dropout": _DROPOUT},
        report=True,
        steps=report_nets.ALL_CONV_STEPS,
        steps_why=report_nets.ALL_CONV_WHY,
    ),
    ArchSpec(
        "toy_resnet_deep",
        "Enlarged toy ResNet (report CIFAR-100 model 2)",
        "Three ReLU residual blocks with activity L2, each adding its own input; two dense layers, dropout 0.5. "
        "340,324 params on CIFAR-100; images of 13×13 and up.",
        report_nets.build_toy_resnet_deep,
        {"dropout": 0.5},
        {"dropout": _DROPOUT},
        report=True,
        steps=report_nets.TOY_RESNET_STEPS,
        steps_why=report_nets.TOY_RESNET_WHY,
    ),
    ArchSpec(
        "simple_cnn",
        "Simple CNN (report CIFAR-100 model 3)",
        "Tutorial convnet: 32/64/128 filters with max pooling, two dense layers, dropout 0.5. "
        "270,372 params on CIFAR-100; images of 22×22 and up.",
        report_nets.build_simple_cnn,
        {"dropout": 0.5},
        {"dropout": _DROPOUT},
        report=True,
        steps=report_nets.SIMPLE_CNN_STEPS,
        steps_why=report_nets.SIMPLE_CNN_WHY,
    ),
    ArchSpec(
        "resnet20",
        "ResNet-20 (modern, batch norm)",
        "He et al.'s CIFAR ResNet-20: batch norm, 3 stages of 3 residual blocks, 16/32/64 filters, ~0.27 M params; "
        "~91 % on CIFAR-10 with augmentation; any image size up to 512×512.",
        resnet.build_resnet20,
        {"width": 16, "blocks_per_stage": 3, "weight_decay": 1e-4, "dropout": 0.0},
        {"width": (4, 256), "blocks_per_stage": (1, 18), "weight_decay": (0.0, 0.1), "dropout": _DROPOUT},
        steps=resnet.RESNET_STEPS,
    ),
    ArchSpec(
        "resnet_wide",
        "Wide ResNet-20 (modern, batch norm)",
        "ResNet-20 at twice the width (32/64/128 filters), ~1.1 M params; stronger on CIFAR-100, slower on CPU; "
        "any image size up to 512×512.",
        resnet.build_resnet_wide,
        {"width": 32, "blocks_per_stage": 3, "weight_decay": 1e-4, "dropout": 0.0},
        {"width": (4, 256), "blocks_per_stage": (1, 18), "weight_decay": (0.0, 0.1), "dropout": _DROPOUT},
        steps=resnet.RESNET_STEPS,
    ),
    ArchSpec(
        "airnet",
        "Airbench-style net (fast training)",
        "After Jordan's airbench and Page's ResNet-9: a 2×2 stem, three conv-pool-BN groups (64/128/256 filters), "
        "global max-pool, scaled linear head; ~1.2 M params. The fast recipe's network: most accuracy per minute "
        "on a CPU or a GPU; images of 9×9 and up.",
        airnet.build_airnet,
        {"width1": 64, "width2": 128, "width3": 256, "weight_decay": 2.5e-4, "whiten": False, "dirac": False,
         "gelu": False, "bn_scale": True, "bn_momentum": airnet.BN_MOMENTUM},
        {"width1": _FILTERS, "width2": _FILTERS, "width3": _FILTERS, "weight_decay": (0.0, 0.1),
         "bn_momentum": (0.0, 0.999)},
        steps=airnet.AIRNET_STEPS,
        steps_why=airnet.AIRNET_WHY,
    ),
)

ARCHITECTURES: dict[str, ArchSpec] = {spec.name: spec for spec in _SPECS}
REPORT_ARCHITECTURES: tuple[str, ...] = tuple(s.name for s in _SPECS if s.report)


def get_arch(name: str) -> ArchSpec:
    """The spec for `name`, or a ValueError naming the known architectures."""
    try:
        return ARCHITECTURES[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}.") from None


def _coerce(arch: str, key: str, default: Any, value: Any) -> Any:
    """Convert one option value to the default's type (strings from the CLI included)."""
    bad = ValueError(f"Option {key!r} of {arch} needs a {type(default).__name__} (got {value!r}).")
    if isinstance(default, bool):
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            return value.strip().lower() in ("true", "1", "yes", "on")
        if isinstance(value, bool):
            return value
        raise bad
    if isinstance(value, bool):  # bool is an int subclass; True as a filter count is a mistake
        raise bad
    try:
        if isinstance(default, int):
            number = float(value)
            if number != int(number):
                raise bad
            return int(number)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError, OverflowError):
        raise bad from None
    return value


def resolve_options(name: str, **options: Any) -> dict[str, Any]:
    """The full option set for `name`: defaults overridden by `options`, checked and converted."""
    spec = get_arch(name)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        known = ", ".join(spec.options) or "none"
        raise ValueError(f"Unknown option {unknown[0]!r} for {name}; its options are: {known}.")
    resolved = dict(spec.options)
    for key, value in options.items():
        value = _coerce(name, key, spec.options[key], value)
        low, high = spec.ranges.get(key, (None, None))
        if low is not None and not (low <= value <= high):
            raise ValueError(f"Option {key!r} of {name} must be between {low} and {high} (got {value}).")
        resolved[key] = value
    return resolved


def _check_classes(num_classes: Any) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"The number of classes must be an integer of at least 2 (got {num_classes!r}).")
    return num_classes


def input_problem(name: str, input_shape: Any) -> str | None:
    """One sentence saying why `name` cannot be built for height×width×channels images, or None.

    Cheap (no TensorFlow): the answer comes from the network's layer arithmetic, the channel
    counts an image can have (1, 3, 4) and the size cap. Unknown names raise ValueError.
    """
    spec = get_arch(name)
    shape = as_shape(input_shape)
    if shape is None:
        return malformed_shape(input_shape)
    return size_problem(name, shape, spec.steps, spec.steps_why)


def min_input_side(name: str) -> int:
    """The smallest image side (pixels, height and width alike) that `name` can be built for."""
    return min_side(get_arch(name).steps)


def _check_input_shape(name: str, input_shape: Any) -> tuple[int, int, int]:
    problem = input_problem(name, input_shape)
    if problem:
        raise ValueError(problem)
    return as_shape(input_shape)  # type: ignore[return-value]


def build_model(
    name: str, num_classes: int, *, input_shape: tuple[int, int, int] = INPUT_SHAPE, **options: Any
) -> Any:
    """Build `name` for `num_classes` classes and height×width×channels images.

    Raw 0-255 pixels in, float32 probabilities out; the model is not compiled. Raises ValueError
    (one sentence) for an unknown name or option, a bad option value, fewer than 2 classes, or an
    input shape the network cannot take (the sentence of `input_problem`).
    """
    spec = get_arch(name)
    num_classes = _check_classes(num_classes)
    input_shape = _check_input_shape(name, input_shape)
    resolved = resolve_options(name, **options)
    ensure_tensorflow()
    return spec.build(num_classes, input_shape=input_shape, **resolved)


@functools.lru_cache(maxsize=128)
def _count(
    name: str, num_classes: int, input_shape: tuple[int, int, int], frozen_options: tuple[tuple[str, Any], ...]
) -> int:
    model = build_model(name, num_classes, input_shape=input_shape, **dict(frozen_options))
    return int(model.count_params())


def count_params(
    name: str, num_classes: int, *, input_shape: tuple[int, int, int] = INPUT_SHAPE, **options: Any
) -> int:
    """Total parameters (trainable and not) of `name` built for this input shape and options; cached.

    Networks with a flattened head grow with the image size; the others do not. Raises what
    build_model raises.
    """
    num_classes = _check_classes(num_classes)
    shape = _check_input_shape(name, input_shape)  # the same checks, in the same order, as build_model
    resolved = resolve_options(name, **options)
    return _count(name, num_classes, shape, tuple(sorted(resolved.items())))


def param_counts_for(num_classes: int, input_shape: tuple[int, int, int] = INPUT_SHAPE) -> dict[str, int | None]:
    """Parameter counts of every architecture at default options; None where it cannot take the shape."""
    return {
        name: None if input_problem(name, input_shape) else count_params(name, num_classes, input_shape=input_shape)
        for name in ARCHITECTURES
    }
