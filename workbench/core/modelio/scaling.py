"""Finding pixel scaling that a model does itself, from its saved config (any Keras version).

A model that divides by 255 (a Rescaling layer, `inputs / 255.0` recorded as a tf.keras TFOpLambda
or a Keras 3 TrueDivide op, a Normalization layer) must be fed raw 0..255 pixels; scaling them
again outside makes its answers silently wrong.
"""

from __future__ import annotations

from typing import Any

# tf.keras 2.x records `x / c`, `x * c` and friends as TFOpLambda layers named after the tf function.
_TF_DIVIDE = {"math.truediv", "math.divide", "__operators__.truediv", "math.divide_no_nan", "math.floordiv"}
_TF_MULTIPLY = {"math.multiply", "__operators__.mul", "math.scalar_mul", "math.multiply_no_nan"}
# Keras 3 records the same calls as operation layers of keras.src.ops.
_OPS_DIVIDE = {"TrueDivide", "Divide"}
_OPS_MULTIPLY = {"Multiply"}
# Layers that scale by statistics; they expect the pixels as the data they were adapted on (raw).
_STAT_LAYERS = {"Normalization"}
# A layer with any of these settings holds learned weights: scaling after it is not about pixels.
_WEIGHT_KEYS = ("filters", "units", "kernel_size", "depth_multiplier", "pool_size", "output_dim")
_MODEL_CLASSES = {"Sequential", "Functional", "Model"}
# Dividing by at least this much (or multiplying by at most its inverse) shrinks 0..255 towards 0..1.
_MIN_DIVISOR = 2.0


def find_input_scaling(config: Any) -> str | None:
    """A phrase naming the layer that scales pixels near the input ("Rescaling layer 'rescaling'"), or None."""
    if not isinstance(config, dict):
        return None
    return _search(config, depth=0)


def config_layers(config: dict) -> list:
    """The layer configs of a model config, Sequential of any Keras version or Functional."""
    inner = config.get("config")
    if isinstance(inner, list):  # Keras <= 2.1 Sequential
        return inner
    if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
        return inner["layers"]
    return []


def _search(config: dict, depth: int) -> str | None:
    if depth > 8:  # nested models deeper than this are not a pixel front end
        return None
    for layer in config_layers(config):
        if not isinstance(layer, dict):
            continue
        cls = layer.get("class_name")
        cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        name = cfg.get("name") or layer.get("name") or cls
        if cls in _MODEL_CLASSES:
            return _search(layer, depth + 1)  # a base model: its own front end decides
        found = _scaling_of(str(cls), cfg, layer)
        if found:
            return f"{found} layer '{name}'"
        if any(key in cfg for key in _WEIGHT_KEYS):
            return None  # past the front end: later arithmetic is not pixel scaling
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _scaling_of(cls: str, cfg: dict, layer: dict) -> str | None:
    if cls == "Rescaling":
        scale = _number(cfg.get("scale"))
        # A list of per-channel scales counts when every one of them shrinks the range.
        scales = [_number(s) for s in cfg.get("scale")] if isinstance(cfg.get("scale"), list) else [scale]
        if scales and all(s is not None and 0 < abs(s) <= 1 / _MIN_DIVISOR for s in scales):
            return "Rescaling"
        return None
    if cls in _STAT_LAYERS and not cfg.get("invert"):
        return cls
    constant = _constant_argument(layer)
    if constant is None:
        return None
    function = cfg.get("function")
    divides = (cls == "TFOpLambda" and function in _TF_DIVIDE) or cls in _OPS_DIVIDE
    multiplies = (cls == "TFOpLambda" and function in _TF_MULTIPLY) or cls in _OPS_MULTIPLY
    if divides and abs(constant) >= _MIN_DIVISOR:
        return f"division by {constant:g} ({function or cls})"
    if multiplies and 0 < abs(constant) <= 1 / _MIN_DIVISOR:
        return f"multiplication by {constant:g} ({function or cls})"
    return None


def _constant_argument(layer: dict) -> float | None:
    """The one numeric constant a recorded op was called with (`y=255.0` or a plain argument)."""
    for node in layer.get("inbound_nodes") or []:
        if isinstance(node, dict):  # Keras 3: {"args": [tensor, 255.0], "kwargs": {...}}
            values = list(node.get("args") or []) + list((node.get("kwargs") or {}).values())
        elif isinstance(node, list) and len(node) == 4 and isinstance(node[0], str) and isinstance(node[3], dict):
            values = list(node[3].values())  # tf.keras TFOpLambda: [name, node, tensor, {"y": 255.0, ...}]
        elif isinstance(node, list):  # Keras 2: [[name, node, tensor, {"y": 255.0, "name": ...}], ...]
            values = []
            for item in node:
                if isinstance(item, list) and len(item) >= 4 and isinstance(item[3], dict):
                    values.extend(item[3].values())
                elif _number(item) is not None:
                    values.append(item)
        else:
            continue
        numbers = [_number(v) for v in values if _number(v) is not None]
        if len(numbers) == 1:
            return numbers[0]
    return None


def find_front_lambdas(config: Any) -> list[str]:
    """Names of Lambda layers before the first layer with weights (in nested front models too): Python code
    there may scale the pixels, which no config can tell."""
    found: list[str] = []
    if isinstance(config, dict):
        _front_lambdas(config, 0, found)
    return found


def _front_lambdas(config: dict, depth: int, found: list[str]) -> bool:
    """Collects into `found`; True once a layer with weights ends the front end."""
    if depth > 8:
        return True
    for layer in config_layers(config):
        if not isinstance(layer, dict):
            continue
        cls = layer.get("class_name")
        cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        if cls in _MODEL_CLASSES:
            if _front_lambdas(layer, depth + 1, found):
                return True
        elif cls == "Lambda":
            found.append(str(cfg.get("name") or layer.get("name") or "lambda"))
        elif any(key in cfg for key in _WEIGHT_KEYS):
            return True
    return False
