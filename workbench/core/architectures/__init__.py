"""Network builders: the course report's five networks and modern CIFAR ResNets, by name.

Importing this package never imports TensorFlow; building a model does.
"""

from .common import INPUT_SHAPE, OUTPUT_LAYER
from .registry import (
    ARCHITECTURES,
    REPORT_ARCHITECTURES,
    ArchSpec,
    build_model,
    count_params,
    get_arch,
    param_counts_for,
    resolve_options,
)
from .summary import LayerRow, layer_table

__all__ = [
    "ARCHITECTURES",
    "INPUT_SHAPE",
    "OUTPUT_LAYER",
    "REPORT_ARCHITECTURES",
    "ArchSpec",
    "LayerRow",
    "build_model",
    "count_params",
    "get_arch",
    "layer_table",
    "param_counts_for",
    "resolve_options",
]
