"""Network builders: the course report's five networks and modern CIFAR ResNets, by name.

Importing this package never imports TensorFlow; building a model does.
"""

from .common import INPUT_SHAPE, OUTPUT_LAYER
from .geometry import IMAGE_CHANNELS, MAX_SIDE, parse_input_shape, shape_text
from .registry import (
    ARCHITECTURES,
    REPORT_ARCHITECTURES,
    ArchSpec,
    build_model,
    count_params,
    get_arch,
    input_problem,
    min_input_side,
    param_counts_for,
    resolve_options,
)
from .summary import LayerRow, layer_table

__all__ = [
    "ARCHITECTURES",
    "IMAGE_CHANNELS",
    "INPUT_SHAPE",
    "MAX_SIDE",
    "OUTPUT_LAYER",
    "REPORT_ARCHITECTURES",
    "ArchSpec",
    "LayerRow",
    "build_model",
    "count_params",
    "get_arch",
    "input_problem",
    "layer_table",
    "min_input_side",
    "param_counts_for",
    "parse_input_shape",
    "resolve_options",
    "shape_text",
]
