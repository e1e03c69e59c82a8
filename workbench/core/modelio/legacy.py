"""Turning model configs written by older Keras (tf.keras 1.x/2.x, standalone Keras 2.x) into Keras 3 ones.

Everything works on an in-memory copy of the JSON config; the user's file is never touched. Each
fixer handles a *kind* of difference, not one file:
- Sequential configs stored as a bare layer list (Keras <= 2.1);
- the input shape recorded as `batch_input_shape` on a Sequential's first layer (Keras 3 wants an
  InputLayer with `batch_shape`), and InputLayer keys Keras 3 dropped (`ragged`);
- `dtype` keys inside initializer / regularizer / constraint configs (TF-1.x era);
- dtype policies stored as `{"class_name": "Policy", ...}`;
- renamed classes (`Convolution2D`, `CuDNNLSTM`, `BatchNormalizationV1`, ...) and foreign module paths;
- one-element `axis` lists, LeakyReLU's `alpha`, empty `activity_regularizer`s;
- Keras 2 Lambda layers (bytecode as a list) into Keras 3's form, which safe mode then refuses;
- any other keyword the Keras 3 layer class no longer accepts (`time_major`, `implementation`, ...),
  dropped with a note so the user can see what changed;
- node numbers of nested Sequential models (Keras 2 gave them a node of their own);
- tf.* calls recorded as TFOpLambda layers (x / 255, tf.nn.relu, a + b) as built-in Keras layers;
- Keras 3 operations with a constant recorded as layers (`x / 255` as TrueDivide), which Keras' own
  .h5 reader cannot rebuild, as Rescaling layers.

`assign_h5_weights` then loads weights stored in the Keras 2 HDF5 layout by layer name (or order),
checking every shape before assigning anything.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

CLASS_RENAMES = {
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution3D": "Conv3D",
    "Deconvolution2D": "Conv2DTranspose",
    "Deconvolution3D": "Conv3DTranspose",
    "SeparableConvolution2D": "SeparableConv2D",
    "AtrousConvolution2D": "Conv2D",
    "CuDNNLSTM": "LSTM",
    "CuDNNGRU": "GRU",
    "BatchNormalizationV1": "BatchNormalization",
    "BatchNormalizationV2": "BatchNormalization",
    "SyncBatchNormalization": "BatchNormalization",
    "LSTMV1": "LSTM",
    "GRUV1": "GRU",
    "LSTMCellV1": "LSTMCell",
    "GRUCellV1": "GRUCell",
    "DenseFeatures": None,  # feature columns have no Keras 3 equivalent
    "Merge": None,  # Keras 1 merge layer
    "TFOpLambda": None,  # tf.* calls recorded as layers by tf.keras
    "SlicingOpLambda": None,
    "TensorFlowOpLayer": None,
}
MODEL_CLASSES = {"Sequential", "Functional", "Model"}
LAMBDA_DEP_ARGS = ("module", "function_type", "output_shape_type", "output_shape_module")
# Keys that hold nested initializer / regularizer / constraint objects.
_OBJECT_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
# Settings Keras 3 dropped that only ever changed speed or bookkeeping, never results.
_SILENT_KWARGS = {"implementation", "fused", "optional", "batch_input_shape", "batch_shape", "batch_size",
                  "reset_after_cudnn", "unroll_cudnn"}
_BASE_LAYER_KWARGS = {"name", "trainable", "dtype", "autocast", "activity_regularizer", "input_shape", "input_dim"}


class LegacyConfigError(ValueError):
    """A config that cannot be made loadable; the message names the layer and the setting."""


def fix_model_config(config: dict) -> tuple[dict, list[str]]:
    """A fixed deep copy of a Keras model config plus notes on every change that matters to a user."""
    fixer = _Fixer()
    fixed = fixer.fix_object(copy.deepcopy(config), top=True)
    return fixed, fixer.notes


def _policy_name(value: Any) -> Any:
    if isinstance(value, dict) and value.get("class_name") in ("Policy", "DTypePolicy", "PolicyV1",
                                                                "FloatDTypePolicy", "QuantizedDTypePolicy"):
        name = (value.get("config") or {}).get("name", "float32")
        if value.get("class_name") == "DTypePolicy" and str(value.get("module", "")).startswith("keras"):
            return value  # already Keras 3's own form
        return name
    return value


class _Fixer:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self._mixed_noted = False
        self._slash_noted = False

    # -- generic objects --------------------------------------------------------------------

    def fix_object(self, obj: Any, top: bool = False) -> Any:
        if not isinstance(obj, dict) or "class_name" not in obj:
            return obj
        cls = obj.get("class_name")
        if cls in MODEL_CLASSES:
            return self.fix_model(obj)
        return self.fix_layer(obj)

    def fix_model(self, obj: dict) -> dict:
        cls = obj["class_name"]
        cfg = obj.get("config")
        if isinstance(cfg, list):  # Keras <= 2.1 Sequential: the config is the layer list
            cfg = {"name": obj.get("name") or "sequential", "layers": cfg}
        if not isinstance(cfg, dict):
            raise LegacyConfigError(f"The {cls} model config is neither a dictionary nor a layer list.")
        obj["config"] = cfg
        _drop_foreign_module(obj)
        self._rename_slashes(cfg)
        if "dtype" in cfg:
            cfg["dtype"] = self._dtype(cfg["dtype"])
        if cls == "Sequential":
            self._sequential_input(cfg)  # before the layer fixers drop batch_input_shape keys
        else:
            for layer in cfg.get("layers") or []:
                if layer.get("class_name") in ("TFOpLambda", "SlicingOpLambda"):
                    _replace_tf_op(layer)
                elif layer.get("class_name") in _KERAS3_CONSTANT_OPS:
                    _replace_keras3_op(layer)
        cfg["layers"] = [self.fix_object(layer) for layer in cfg.get("layers") or []]
        if cls != "Sequential":
            self._renumber_nested_sequential_nodes(cfg)
        for key in ("input_layers", "output_layers"):
            value = cfg.get(key)
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
                cfg[key] = value[0]  # Keras 3 treats a one-element list as a list input, not a tensor
        if cls == "Model":
            obj["class_name"] = "Functional"
        return obj

    def _rename_slashes(self, cfg: dict) -> None:
        """Keras 3 refuses '/' in layer names, which tf.keras allowed (DenseNet's 'conv1/conv'): each becomes
        '_' (see `keras3_layer_name`), in the layers and in every reference to them."""
        renamed: dict[str, str] = {}
        for layer in cfg.get("layers") or []:
            lcfg = layer.get("config") if isinstance(layer, dict) else None
            name = lcfg.get("name") if isinstance(lcfg, dict) else None
            if isinstance(name, str) and "/" in name:
                renamed[name] = keras3_layer_name(name)
                lcfg["name"] = renamed[name]
                if isinstance(layer.get("name"), str):
                    layer["name"] = renamed[name]
        if not renamed:
            return

        def walk(obj: Any) -> Any:
            if isinstance(obj, str):
                return renamed.get(obj, obj)
            if isinstance(obj, list):
                return [walk(v) for v in obj]
            if isinstance(obj, dict):
                return {k: walk(v) for k, v in obj.items()}
            return obj

        for layer in cfg.get("layers") or []:
            if isinstance(layer, dict) and "inbound_nodes" in layer:
                layer["inbound_nodes"] = walk(layer["inbound_nodes"])
        for key in ("input_layers", "output_layers"):
            if key in cfg:
                cfg[key] = walk(cfg[key])
        if not self._slash_noted:
            self._slash_noted = True
            self.notes.append("Layer names with '/' (not allowed in Keras 3) were read with '_' instead.")

    def _sequential_input(self, cfg: dict) -> None:
        layers = cfg["layers"] = list(cfg.get("layers") or [])
        if not layers or layers[0].get("class_name") == "InputLayer":
            if layers:
                for later in layers[1:]:
                    _pop_input_shape(later.get("config", {}))
            return
        first = layers[0].get("config", {})
        shape = _pop_input_shape(first)
        if shape is None and cfg.get("build_input_shape"):
            shape = list(cfg["build_input_shape"])
        for later in layers[1:]:
            _pop_input_shape(later.get("config", {}))
        if shape is None:
            return  # Keras builds it on first call; the loader reports if it cannot
        dtype = first.get("dtype") if isinstance(first.get("dtype"), str) else "float32"
        names = {layer.get("config", {}).get("name") for layer in layers}
        name = "input_layer"
        while name in names:
            name += "_0"
        # Keras 3 Sequential models start with an explicit InputLayer.
        layers.insert(0, {"class_name": "InputLayer", "module": "keras.layers",
                          "config": {"batch_shape": list(shape), "dtype": dtype, "name": name}})

    def _renumber_nested_sequential_nodes(self, cfg: dict) -> None:
        # A Keras 2 Sequential with an input shape owned node 0 itself, so calls on it started at node 1;
        # Keras 3 Sequentials have no such node (nested Functionals are compensated by Keras itself).
        nested = {
            layer.get("name") or layer["config"].get("name")
            for layer in cfg["layers"]
            if layer.get("class_name") == "Sequential"
            and (layer["config"].get("layers") or [{}])[0].get("class_name") == "InputLayer"
        }
        if not nested:
            return

        def renumber(ref: Any) -> None:
            if isinstance(ref, list) and len(ref) >= 3 and ref[0] in nested and isinstance(ref[1], int) and ref[1] > 0:
                ref[1] -= 1

        for layer in cfg["layers"]:
            for node in layer.get("inbound_nodes") or []:
                if isinstance(node, list):  # the Keras 2 list form only
                    for ref in node:
                        renumber(ref)
        for key in ("input_layers", "output_layers"):
            refs = cfg.get(key) or []
            for ref in (refs if refs and isinstance(refs[0], list) else [refs]):
                renumber(ref)

    def _dtype(self, value: Any) -> Any:
        name = _policy_name(value)
        if isinstance(name, str) and name.startswith("mixed_"):
            if not self._mixed_noted:
                self.notes.append(f"The model was saved with the {name} policy; it runs here in float32.")
                self._mixed_noted = True
            return "float32"
        return name

    # -- layers -------------------------------------------------------------------------------

    def fix_layer(self, obj: dict) -> dict:
        cls = obj.get("class_name")
        cfg = obj.get("config")
        if not isinstance(cfg, dict):
            return obj
        name = cfg.get("name") or obj.get("name") or cls
        if cls in CLASS_RENAMES:
            new = CLASS_RENAMES[cls]
            if new is None:
                raise LegacyConfigError(
                    f"Layer '{name}' is a {cls}, which has no equivalent in Keras 3, so this model cannot be loaded."
                )
            if cls == "CuDNNGRU":
                cfg.setdefault("reset_after", True)  # CuDNN GRUs always used the reset-after variant
            obj["class_name"] = cls = new
        _drop_foreign_module(obj)
        if "dtype" in cfg:
            cfg["dtype"] = self._dtype(cfg["dtype"])
        for key in list(cfg):
            value = cfg[key]
            if key.endswith(_OBJECT_SUFFIXES) and isinstance(value, dict):
                cfg[key] = self.fix_component(value)
            elif isinstance(value, dict) and "class_name" in value and "config" in value:
                cfg[key] = self.fix_object(value)  # wrapped layers (TimeDistributed, Bidirectional, RNN cells)
            elif isinstance(value, list) and value and all(isinstance(v, dict) and "class_name" in v for v in value):
                cfg[key] = [self.fix_object(v) for v in value]  # StackedRNNCells etc.
        ar = cfg.get("activity_regularizer")
        if isinstance(ar, dict) and ar.get("class_name") == "L1L2":
            c = ar.get("config") or {}
            if not c.get("l1") and not c.get("l2"):
                cfg["activity_regularizer"] = None  # old Keras stored "no regularizer" as a zero L1L2
        axis = cfg.get("axis")
        if isinstance(axis, list) and len(axis) == 1 and cls != "LayerNormalization":
            cfg["axis"] = int(axis[0])
        if cls == "InputLayer":
            if "batch_input_shape" in cfg:
                cfg["batch_shape"] = cfg.pop("batch_input_shape")
            if cfg.pop("ragged", False):
                raise LegacyConfigError(f"Input '{name}' takes ragged tensors, which Keras 3 does not support.")
        if cls == "LeakyReLU" and "alpha" in cfg:
            cfg["negative_slope"] = cfg.pop("alpha")
        if cls == "Lambda":
            self._lambda(cfg)
        self._drop_unknown_kwargs(cls, name, cfg)
        return obj

    def fix_component(self, obj: dict) -> dict:
        """Initializers, regularizers, constraints: drop the TF-1.x `dtype` key and foreign modules."""
        cfg = obj.get("config")
        if isinstance(cfg, dict):
            cfg.pop("dtype", None)
            if obj.get("class_name") == "VarianceScaling" and cfg.get("distribution") == "normal":
                cfg["distribution"] = "truncated_normal"  # tf.keras' "normal" was a truncated normal
        _drop_foreign_module(obj)
        return obj

    def _lambda(self, cfg: dict) -> None:
        for key in LAMBDA_DEP_ARGS:
            cfg.pop(key, None)
        for key in ("function", "output_shape"):
            value = cfg.get(key)
            if isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str) and (
                key == "function" or not all(isinstance(v, (int, type(None))) for v in value)
            ):
                # Keras 2 stores bytecode as [code, defaults, closure]; Keras 3 wraps it in "__lambda__".
                cfg[key] = {"class_name": "__lambda__",
                            "config": {"code": value[0], "defaults": value[1], "closure": value[2]}}

    def _drop_unknown_kwargs(self, cls: str, name: str, cfg: dict) -> None:
        accepted = _accepted_kwargs(cls)
        if accepted is None:
            return
        for key in [k for k in cfg if k not in accepted]:
            value = cfg.pop(key)
            if key == "time_major" and value:
                raise LegacyConfigError(
                    f"Layer '{name}' ({cls}) takes time-major inputs (time_major=True), which Keras 3 does not support."
                )
            if key in _SILENT_KWARGS or value in (None, False, [], {}, "", 1):
                continue  # speed-only or default-valued settings: nothing the user needs to hear about
            self.notes.append(f"Layer '{name}' ({cls}): ignored the old setting {key}={value!r}.")


_accepted_cache: dict[str, set[str] | None] = {}


def _accepted_kwargs(cls_name: str) -> set[str] | None:
    """Keyword names a Keras 3 layer class accepts, or None where it is not a built-in layer."""
    if cls_name in _accepted_cache:
        return _accepted_cache[cls_name]
    import keras

    layer_cls = getattr(keras.layers, cls_name, None)
    result: set[str] | None = None
    if isinstance(layer_cls, type) and issubclass(layer_cls, keras.layers.Layer):
        names: set[str] = set(_BASE_LAYER_KWARGS)
        for klass in layer_cls.__mro__:
            if klass is keras.layers.Layer:
                break
            if not issubclass(klass, keras.layers.Layer) or "__init__" not in vars(klass):
                continue  # mixins and classes that inherit their __init__ add nothing new
            try:
                params = inspect.signature(klass.__init__).parameters.values()
            except (TypeError, ValueError):
                return None
            names.update(p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
            if not any(p.kind == p.VAR_KEYWORD for p in inspect.signature(klass.__init__).parameters.values()):
                break  # no **kwargs: nothing reaches the parent classes
        names.discard("self")
        result = names
    _accepted_cache[cls_name] = result
    return result


def _pop_input_shape(cfg: dict) -> list | None:
    shape = None
    for key in ("batch_input_shape", "batch_shape"):
        if key in cfg:
            shape = cfg.pop(key)
    if "input_shape" in cfg:
        value = cfg.pop("input_shape")
        shape = shape or ([None, *value] if value else None)
    if "input_dim" in cfg:
        value = cfg.pop("input_dim")
        shape = shape or ([None, value] if value else None)
    cfg.pop("batch_size", None)
    return shape


def _drop_foreign_module(obj: dict) -> None:
    # tf.keras module paths ("keras.src.engine...", "tensorflow.python.keras...") mislead Keras 3;
    # without a module Keras 3 looks a built-in class up by its name.
    module = obj.get("module")
    if module is None:
        return
    module = str(module)
    if not module.startswith("keras.") or module.startswith("keras.src."):
        obj.pop("module", None)
        if obj.get("registered_name") in (None, obj.get("class_name")):
            obj.pop("registered_name", None)


# ---- weights in the Keras 2 HDF5 layout ------------------------------------------------------------
# model_weights/<layer>/<weight name> (full models) or <layer>/<weight name> at the root (save_weights),
# each layer group listing its datasets, in order, in the `weight_names` attribute.

def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def keras3_layer_name(name: str) -> str:
    """A tf.keras layer name as the converted model calls it (Keras 3 refuses '/' in names)."""
    return name.replace("/", "_")


def read_h5_layer_weights(group) -> dict[str, list]:
    """{layer name: [numpy arrays in saved order]} for every layer that holds weights."""
    import numpy as np

    out: dict[str, list] = {}
    for raw in group.attrs.get("layer_names", ()):
        name = _text(raw)
        if name not in group:
            continue
        g = group[name]
        names = [_text(n) for n in g.attrs.get("weight_names", ())]
        if names:
            out[name] = [np.asarray(g[n]) for n in names]
    return out


def _layer_variables(layer) -> list:
    # Keras 2 saved trainable weights first, then the rest (also for nested models).
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def assign_h5_weights(model, group) -> list[str]:
    """Loads Keras-2-layout weights into `model` by layer name (or, failing that, by layer order).

    Checks every count and shape before assigning anything, so a mismatch leaves the model untouched.
    Returns notes; raises LegacyConfigError naming the layer when the weights do not fit.
    """
    saved = read_h5_layer_weights(group)
    renamed = {keras3_layer_name(n): v for n, v in saved.items()}
    if len(renamed) == len(saved):  # the converted config's names (no two collide)
        saved = renamed
    layers = [layer for layer in model.layers if _layer_variables(layer)]
    notes: list[str] = []
    names = [layer.name for layer in layers]
    if all(n in saved for n in names):
        pairs = [(layer, layer.name, saved[layer.name]) for layer in layers]
        extra = [n for n in saved if n not in set(names)]
        if extra:
            notes.append(f"The file also holds weights for layers the model lacks: {', '.join(extra[:5])}.")
    elif len(saved) == len(layers):
        pairs = [(layer, saved_name, arrays) for layer, (saved_name, arrays) in zip(layers, saved.items())]
        notes.append("Layer names differ from the file's, so weights were matched by layer order.")
    else:
        missing = [n for n in names if n not in saved]
        raise LegacyConfigError(
            f"The weights do not fit this architecture: it has {len(layers)} layers with weights, the file has "
            f"{len(saved)}, and the file has nothing for {', '.join(missing[:5])}."
        )
    for layer, saved_name, arrays in pairs:
        variables = _layer_variables(layer)
        if len(variables) != len(arrays):
            raise LegacyConfigError(
                f"Layer '{layer.name}' has {len(variables)} weights but the file holds {len(arrays)} for '{saved_name}'."
            )
        for var, arr in zip(variables, arrays):
            if tuple(var.shape) != tuple(arr.shape):
                raise LegacyConfigError(
                    f"Layer '{layer.name}': the file's weight of shape {tuple(arr.shape)} does not fit the "
                    f"architecture's {tuple(var.shape)} ({var.name})."
                )
    for layer, _, arrays in pairs:
        for var, arr in zip(_layer_variables(layer), arrays):
            var.assign(arr.astype(var.dtype) if str(arr.dtype) != str(var.dtype) else arr)
    _finalize_adapted_layers(model)
    return notes


def _finalize_adapted_layers(model) -> None:
    """An adapted Normalization computes with copies its `finalize_state` makes of its variables: Keras' own
    loader calls it after loading (`load_own_variables`), so must we, or it keeps normalizing with mean 0
    and variance 1. (Discretization's finalize_state would recompute its bins from nothing: not called.)"""
    import keras

    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Normalization) and layer.built:
            layer.finalize_state()


# ---- tf.* calls that tf.keras recorded as TFOpLambda layers --------------------------------------------
# Only the common, exactly expressible ones: arithmetic with a constant or a second tensor, activations.
_TF_ACTIVATIONS = {
    "nn.relu": "relu", "nn.relu6": "relu6", "nn.softmax": "softmax", "math.softmax": "softmax",
    "math.sigmoid": "sigmoid", "nn.sigmoid": "sigmoid", "math.tanh": "tanh", "nn.tanh": "tanh",
    "nn.elu": "elu", "nn.selu": "selu", "nn.gelu": "gelu", "nn.silu": "silu", "nn.swish": "silu",
    "math.exp": "exponential", "nn.softplus": "softplus", "math.softplus": "softplus",
}
_TF_BINARY = {"math.add": "Add", "__operators__.add": "Add", "math.subtract": "Subtract",
              "math.multiply": "Multiply"}


def _replace_tf_op(layer: dict) -> None:
    """Rewrites a TFOpLambda layer as built-in layers in place; leaves it unchanged when it cannot."""
    cfg = layer.get("config") or {}
    fn = cfg.get("function")
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) != 1 or not isinstance(nodes[0], list) or len(nodes[0]) != 4 or not isinstance(nodes[0][0], str):
        return  # shared or unusual calls: left for the clear "no equivalent" error
    src, node_index, tensor_index, kwargs = nodes[0]
    kwargs = {k: v for k, v in (kwargs or {}).items() if k != "name" and v is not None}
    ref = [src, node_index, tensor_index, {}]
    base = {"name": cfg.get("name"), "trainable": cfg.get("trainable", True), "dtype": "float32"}
    y = kwargs.pop("y", None)
    if fn in _TF_ACTIVATIONS and not kwargs and y is None:
        layer.update(class_name="Activation", config={**base, "activation": _TF_ACTIVATIONS[fn]},
                     inbound_nodes=[[ref]])
    elif isinstance(y, (int, float)) and not kwargs and fn in ("math.truediv", "math.multiply", "math.add",
                                                               "__operators__.add", "math.subtract"):
        scale, offset = {"math.truediv": (1.0 / y, 0.0), "math.multiply": (float(y), 0.0),
                         "math.subtract": (1.0, -float(y))}.get(fn, (1.0, float(y)))
        layer.update(class_name="Rescaling", config={**base, "scale": scale, "offset": offset},
                     inbound_nodes=[[ref]])
    elif isinstance(y, list) and len(y) == 3 and isinstance(y[0], str) and fn in _TF_BINARY and not kwargs:
        layer.update(class_name=_TF_BINARY[fn], config=base, inbound_nodes=[[ref, [*y, {}]]])
    layer.pop("module", None)
    layer.pop("registered_name", None)


# ---- Keras 3 operations recorded as layers (keras.src.ops.numpy) -------------------------------------
# `x / 255.0` in a Keras 3 functional model is stored as a TrueDivide "layer" with the constant in its
# node's args; Keras' legacy .h5 reader cannot rebuild those, a Rescaling layer computes the same.
_KERAS3_CONSTANT_OPS = {
    "TrueDivide": lambda c: (1.0 / c, 0.0), "Divide": lambda c: (1.0 / c, 0.0),
    "Multiply": lambda c: (c, 0.0), "Add": lambda c: (1.0, c), "Subtract": lambda c: (1.0, -c),
}


def _replace_keras3_op(layer: dict) -> None:
    """Rewrites `tensor <op> constant` as a Rescaling layer in place; leaves anything else unchanged."""
    fn = _KERAS3_CONSTANT_OPS.get(layer.get("class_name"))
    nodes = layer.get("inbound_nodes") or []
    if fn is None or len(nodes) != 1 or not isinstance(nodes[0], dict):
        return
    args, kwargs = list(nodes[0].get("args") or []), nodes[0].get("kwargs") or {}
    if len(args) != 2 or kwargs or not isinstance(args[0], dict) or isinstance(args[1], bool) \
            or not isinstance(args[1], (int, float)) or (args[1] == 0 and layer["class_name"] in ("TrueDivide", "Divide")):
        return  # the constant must come second: 255 / x is not a rescaling
    scale, offset = fn(float(args[1]))
    name = (layer.get("config") or {}).get("name") or layer.get("name")
    layer.update(class_name="Rescaling", module="keras.layers", registered_name=None,
                 config={"name": name, "trainable": True, "dtype": "float32", "scale": scale, "offset": offset},
                 inbound_nodes=[{"args": [args[0]], "kwargs": {}}])
