"""The architecture registry: names, titles, options with defaults, and the one build entry point.

Importing this module never imports TensorFlow; only build_model and count_params do.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from workbench.core.tf_import import ensure_tensorflow

from . import report_nets, resnet

_DROPOUT = (0.0, 0.99)
_FILTERS = (1, 1024)


@dataclass(frozen=True)
class ArchSpec:
    """One buildable network: `build(num_classes, **options)` returns an uncompiled keras.Model."""

    name: str
    title: str
    description: str
    build: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)  # option name -> default value
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # inclusive bounds
    report: bool = False  # one of the course report's five networks


_SPECS = (
    ArchSpec(
        "toy_resnet",
        "Toy ResNet (report CIFAR-10 model 1)",
        "Keras guide's toy ResNet: ELU convolutions, two residual blocks, bias L2, dropout 0.5. 223,242 params at 10 classes.",
        report_nets.build_toy_resnet,
        {"dropout": 0.5},
        {"dropout": _DROPOUT},
        report=True,
    ),
    ArchSpec(
        "embedded_cnn",
        "Embedded CNN (report CIFAR-10 model 2)",
        "Calik & Demirci's small CNN as the report describes it: 9x9 then three 5x5 convolutions with 3 filters each (options). 53,522 params at 10 classes.",
        report_nets.build_embedded_cnn,
        {"conv1_filters": 3, "conv2_filters": 3, "conv3_filters": 3, "conv4_filters": 3},
        {f"conv{i}_filters": _FILTERS for i in range(1, 5)},
        report=True,
    ),
    ArchSpec(
        "all_conv",
        "All-convolutional net (report CIFAR-10 model 3, CIFAR-100 model 1)",
        "After Springenberg et al.: 5x5/3x3/1x1 convolutions, global average pooling; input and inner dropout are options (0 = off). 839,352 params at 10 classes.",
        report_nets.build_all_conv,
        {"input_dropout": 0.2, "inner_dropout": 0.5},
        {"input_dropout": _DROPOUT, "inner_dropout": _DROPOUT},
        report=True,
    ),
    ArchSpec(
        "toy_resnet_deep",
        "Enlarged toy ResNet (report CIFAR-100 model 2)",
        "Three ReLU residual blocks with activity L2, each adding its own input; two dense layers, dropout 0.5. 340,324 params at 100 classes.",
        report_nets.build_toy_resnet_deep,
        {"dropout": 0.5},
        {"dropout": _DROPOUT},
        report=True,
    ),
    ArchSpec(
        "simple_cnn",
        "Simple CNN (report CIFAR-100 model 3)",
        "Tutorial convnet: 32/64/128 filters with max pooling, two dense layers, dropout 0.5. 270,372 params at 100 classes.",
        report_nets.build_simple_cnn,
        {"dropout": 0.5},
        {"dropout": _DROPOUT},
        report=True,
    ),
    ArchSpec(
        "resnet20",
        "ResNet-20 (modern, batch norm)",
        "He et al.'s CIFAR ResNet-20: batch norm, 3 stages of 3 residual blocks, 16/32/64 filters, ~0.27 M params; ~91 % on CIFAR-10 with augmentation.",
        resnet.build_resnet20,
        {"width": 16, "blocks_per_stage": 3, "weight_decay": 1e-4, "dropout": 0.0},
        {"width": (4, 256), "blocks_per_stage": (1, 18), "weight_decay": (0.0, 0.1), "dropout": _DROPOUT},
    ),
    ArchSpec(
        "resnet_wide",
        "Wide ResNet-20 (modern, batch norm)",
        "ResNet-20 at twice the width (32/64/128 filters), ~1.1 M params; stronger on CIFAR-100, slower on CPU.",
        resnet.build_resnet_wide,
        {"width": 32, "blocks_per_stage": 3, "weight_decay": 1e-4, "dropout": 0.0},
        {"width": (4, 256), "blocks_per_stage": (1, 18), "weight_decay": (0.0, 0.1), "dropout": _DROPOUT},
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


def build_model(name: str, num_classes: int, **options: Any) -> Any:
    """Build `name` for `num_classes` classes: raw 0-255 pixels in, float32 probabilities out.

    The model is not compiled. Raises ValueError (one sentence) for an unknown name or option,
    a bad option value, or fewer than 2 classes.
    """
    spec = get_arch(name)
    num_classes = _check_classes(num_classes)
    ensure_tensorflow()
    return spec.build(num_classes, **resolve_options(name, **options))


@functools.lru_cache(maxsize=128)
def _count(name: str, num_classes: int, frozen_options: tuple[tuple[str, Any], ...]) -> int:
    model = build_model(name, num_classes, **dict(frozen_options))
    return int(model.count_params())


def count_params(name: str, num_classes: int, **options: Any) -> int:
    """Total parameters (trainable and not) of `name` built with these options; cached."""
    resolved = resolve_options(name, **options)
    return _count(name, _check_classes(num_classes), tuple(sorted(resolved.items())))


def param_counts_for(num_classes: int) -> dict[str, int]:
    """Parameter counts of every registered architecture at default options (builds each once)."""
    return {name: count_params(name, num_classes) for name in ARCHITECTURES}
