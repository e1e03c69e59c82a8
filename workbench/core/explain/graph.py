"""The one way to reach any layer's output of any Keras 3 model: plain Functional or Sequential, a base
nested inside a Sequential or another Functional (where keras.io's `Model(model.inputs, layer.output)`
snippet fails with "Graph disconnected"), logits or softmax, batch norm, mixed precision.

Instead of building a sub-model, the model is re-run here operation by operation (`_Runner`): each
Functional's own graph walk (`_run_through_graph`) with every nested model entered recursively, so a
layer's output is the very tensor the next layer consumes (gradients reach it) and nothing is rebuilt.
Layer names are paths: "outer/inner" for a layer inside the nested model "outer".

    layers(model) -> tuple[LayerInfo, ...]      call order, nested models flattened
    last_spatial_layer(model) -> str | None     Grad-CAM's default layer
    penultimate_layer(model) -> str             the features the classifier reads
    tap(model, names) -> Tap                    fn(x) -> ([activations], output), compiled once

TensorFlow is imported inside functions only.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence

# Layers that pass values through unchanged at inference: skipped when looking for the classifier's input.
_IDENTITY_AT_INFERENCE = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity",
})
# Layers that prepare pixels rather than compute features: never Grad-CAM's default layer.
_PREPROCESSING = frozenset({
    "Rescaling", "Normalization", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomCrop", "RandomContrast", "RandomBrightness", "ZeroPadding2D", "Cropping2D",
})
_LISTED = 12  # how many layer names an error sentence lists before saying how many more


class LayerNotFound(ValueError):
    """A layer name the model does not have; str() is one sentence naming the layers it does have."""


@dataclass(frozen=True)
class LayerInfo:
    name: str  # unique path, "outer/inner" for layers inside nested models
    class_name: str  # e.g. "Conv2D"
    output_shape: tuple  # without the batch axis (None where the model leaves a size open)
    spatial: bool  # output is H×W×C with H, W > 1: Grad-CAM and feature maps make sense


@dataclass(frozen=True)
class _Structure:
    """What one symbolic run of the model found: its layers, who feeds whom, where the scores are."""

    infos: tuple[LayerInfo, ...]
    inbound: dict  # path -> tuple of producer paths (None for a model input)
    weighted: frozenset  # paths of layers with trainable weights
    output_path: str | None  # the leaf operation whose output is the model's (first) output
    aliases: dict  # nested model path -> path of the leaf producing its output


# ---- running a model operation by operation -----------------------------------------------------

def _is_model(op) -> bool:
    import keras

    return isinstance(op, keras.Model)


def _is_functional(model) -> bool:
    from keras.src.models.functional import Functional

    return isinstance(model, Functional)


def _is_sequential(model) -> bool:
    import keras

    return isinstance(model, keras.Sequential)


def _with_context(op, training: bool):
    """Calls op as its model would at inference: `training=False` only where the op takes it."""
    from keras.src.models.functional import operation_fn

    return operation_fn(op, training=training)


class _Runner:
    """One run of a model that records each leaf operation's inputs and output (by path)."""

    def __init__(self, keep: Callable[[str], bool]):
        self.keep = keep  # which paths to hold tensors for (all of them when tracing the structure)
        self.records: list[tuple[str, Any, tuple, Any]] = []  # (path, op, input tensors, output)
        self.tensors: dict[str, Any] = {}
        self.models: dict[str, Any] = {}  # nested model path -> its output tensor
        self._count: dict[str, int] = {}

    def run(self, model, x, prefix: str = ""):
        import keras

        if _is_sequential(model) and getattr(model, "_functional", None) is not None:
            return self.run(model._functional, x, prefix)
        if _is_functional(model):
            inputs = keras.tree.flatten(x)
            out = model._run_through_graph(inputs, operation_fn=lambda op: self._wrap(op, prefix))
            flat = keras.tree.flatten(out)
            return flat[0] if len(flat) == 1 else out
        if _is_sequential(model):
            for layer in model.layers:
                x = self._wrap(layer, prefix)(x)
            return x
        return self._wrap(model, prefix, leaf=True)(x)  # a subclassed model: opaque, one leaf

    def _path(self, op, prefix: str) -> str:
        path = f"{prefix}{op.name}"
        n = self._count.get(path, 0)
        self._count[path] = n + 1
        return path if n == 0 else f"{path}#{n}"  # an op called twice gets one path per call

    def _wrap(self, op, prefix: str, leaf: bool = False):
        def call(*args, **kwargs):
            import keras

            path = self._path(op, prefix)
            if _is_model(op) and not leaf and (_is_functional(op) or _is_sequential(op)):
                inner = args[0] if len(args) == 1 else list(args)
                out = self.run(op, inner, prefix=path + "/")
                self.models[path] = out
                return out
            out = _with_context(op, training=False)(*args, **kwargs)
            inputs = tuple(t for t in keras.tree.flatten((args, kwargs)) if _is_tensor(t))
            if isinstance(op, keras.layers.Layer) and self.keep(path):
                out = self._keep(path, out)
            self.records.append((path, op, inputs, out))
            return out

        return call

    def _keep(self, path: str, out):
        """Holds a float32 view of `out`; a half-precision output is passed on through that view
        (a lossless round trip), so gradients with respect to the held tensor reach the outputs."""
        import tensorflow as tf

        if not _is_tensor(out):
            self.tensors[path] = out
            return out
        if out.dtype == tf.float32:
            self.tensors[path] = out
            return out
        wide = tf.cast(out, tf.float32)
        self.tensors[path] = wide
        return tf.cast(wide, out.dtype) if out.dtype.is_floating else out


def _is_tensor(t) -> bool:
    import tensorflow as tf

    return isinstance(t, (tf.Tensor, tf.Variable))


def _input_shape(model) -> tuple:
    shape = model.input_shape
    if isinstance(shape, list):
        shape = shape[0]
    return tuple(shape[1:])


def _input_spec(model):
    import tensorflow as tf

    return tf.TensorSpec((None, *_input_shape(model)), tf.float32)


# ---- the structure, found once per model ------------------------------------------------------

_STRUCTURES: "weakref.WeakKeyDictionary[Any, _Structure]" = weakref.WeakKeyDictionary()


def _keras_only(model) -> None:
    """LayerNotFound (one sentence) for an exported artefact, which has no layers to walk."""
    from workbench.core.modelio.artefacts import not_available

    refusal = not_available(model, "Layer-by-layer work (the layer graph, Grad-CAM, feature maps, the embedding map)")
    if refusal:
        raise LayerNotFound(refusal)


def _structure(model) -> _Structure:
    _keras_only(model)
    try:
        found = _STRUCTURES.get(model)
    except TypeError:
        found = None
    if found is not None:
        return found
    import tensorflow as tf

    runner = _Runner(keep=lambda path: False)
    holder: dict = {}

    def trace(x):
        holder["out"] = runner.run(model, x)
        return tf.zeros(())

    # A trace only: shapes and wiring without computing anything.
    tf.function(trace).get_concrete_function(_input_spec(model))
    import keras

    # Wiring in call order; a layer that returns its input unchanged (Dropout at inference) becomes
    # the producer of that tensor only after its own inbound is read.
    producer: dict[int, str] = {}
    infos, inbound, weighted = [], {}, set()
    for path, op, inputs, out in runner.records:
        inbound[path] = tuple(producer.get(id(t)) for t in inputs)
        for t in _flat_tensors(out):
            producer[id(t)] = path
        if not isinstance(op, keras.layers.Layer):
            continue
        if op.trainable_weights:
            weighted.add(path)
        first = _flat_tensors(out)
        shape = tuple(first[0].shape.as_list()[1:]) if first and first[0].shape.rank is not None else ()
        infos.append(LayerInfo(path, type(op).__name__, shape, _spatial(shape)))
    out_tensors = _flat_tensors(holder.get("out"))
    output_path = producer.get(id(out_tensors[0])) if out_tensors else None
    aliases = {}
    for path, tensor in runner.models.items():
        flat = _flat_tensors(tensor)
        if flat and id(flat[0]) in producer:
            aliases[path] = producer[id(flat[0])]
    found = _Structure(tuple(infos), inbound, frozenset(weighted), output_path, aliases)
    try:
        _STRUCTURES[model] = found
    except TypeError:
        pass
    return found


def _flat_tensors(value) -> list:
    import keras

    if value is None:
        return []
    return [t for t in keras.tree.flatten(value) if _is_tensor(t)]


def _spatial(shape: tuple) -> bool:
    return len(shape) == 3 and all(d is None or d > 1 for d in shape[:2])


# ---- the public questions -------------------------------------------------------------------

def layers(model) -> tuple[LayerInfo, ...]:
    """Every layer in call order, nested models flattened into their layers (paths "outer/inner")."""
    return _structure(model).infos


def last_spatial_layer(model) -> str | None:
    """The deepest layer with an H×W×C output after the first learned layer (pixel scaling and
    augmentation layers before it are not features; dropout, the identity at inference, is never named
    itself); None where the model has none."""
    s = _structure(model)
    started = False
    best = None
    for info in s.infos:
        started = started or info.name in s.weighted
        if started and info.spatial and info.class_name not in _PREPROCESSING | _IDENTITY_AT_INFERENCE:
            best = info.name
    return best


def penultimate_layer(model) -> str:
    """The layer whose output the final classifying layer reads (an embedding's features).

    From the output, steps back over weightless layers that keep the shape (softmax, scaling of the
    logits, dropout) to the classifier, then to its input, skipping layers that are identity at inference.
    """
    s = _structure(model)
    by_path = {i.name: i for i in s.infos}
    classes = {p: c for p, c in ((i.name, i.class_name) for i in s.infos)}
    shapes = {i.name: i.output_shape for i in s.infos}
    path, seen = s.output_path, set()
    while path is not None and path not in s.weighted and path not in seen:
        seen.add(path)
        ins = [p for p in s.inbound.get(path, ()) if p is not None]
        if len(ins) != 1 or (path in shapes and ins[0] in shapes and shapes[path] != shapes[ins[0]]):
            break
        path = ins[0]
    ins = [p for p in s.inbound.get(path, ()) if p is not None] if path else []
    feature = ins[0] if len(ins) == 1 else None
    while feature is not None and classes.get(feature) in _IDENTITY_AT_INFERENCE and feature not in seen:
        seen.add(feature)
        ins = [p for p in s.inbound.get(feature, ()) if p is not None]
        feature = ins[0] if len(ins) == 1 else None
    if feature is None or feature not in by_path:
        raise LayerNotFound(f"{_model_name(model)} has no single layer feeding its classifier "
                            f"({path or 'none found'}), so it has no penultimate layer to read features from.")
    return feature


def _model_name(model) -> str:
    name = getattr(model, "name", None)
    return f"The model {name!r}" if name else "The model"


def resolve(model, name: str) -> str:
    """The path for `name`: a path, a nested model's name (its output layer), or a bare layer name
    that is unique in the model; else LayerNotFound naming the spatial layers."""
    s = _structure(model)
    paths = [i.name for i in s.infos]
    if name in paths:
        return name
    if name in s.aliases:
        return s.aliases[name]
    bare = [p for p in paths if p.rsplit("/", 1)[-1] == name]
    if len(bare) == 1:
        return bare[0]
    if len(bare) > 1:
        raise LayerNotFound(f"{_model_name(model)} has {len(bare)} layers named {name!r} (inside different nested "
                            f"models); use one of the paths {', '.join(bare[:_LISTED])}.")
    spatial = [i.name for i in s.infos if i.spatial]
    if spatial:
        listed = _listing(spatial)
        raise LayerNotFound(f"{_model_name(model)} has no layer named {name!r}; its layers with spatial extent "
                            f"(usable for Grad-CAM and feature maps) are {listed}.")
    raise LayerNotFound(f"{_model_name(model)} has no layer named {name!r}, and none of its layers has spatial "
                        f"extent; its layers are {_listing(paths)}.")


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[-_LISTED:]) if len(names) > _LISTED else ", ".join(names)
    return f"{shown} (the last {_LISTED} of {len(names)})" if len(names) > _LISTED else shown


def layer_info(model, name: str) -> LayerInfo:
    """The LayerInfo for a name `resolve` accepts."""
    path = resolve(model, name)
    return next(i for i in _structure(model).infos if i.name == path)


# ---- tapping a run ------------------------------------------------------------------------------

@dataclass(frozen=True)
class TapResult:
    activations: list  # float32 tensors, one per name asked for
    output: Any  # the model's (first) output, float32
    scores: Any  # the pre-softmax class scores where found (float32), else the output itself
    scores_are_logits: bool  # True when `scores` is the tensor before a softmax the model applies


class Tap:
    """fn(x) -> (list of float32 activations for `names`, float32 model output).

    x: float32 N×H×W×C, preprocessed as the model wants it. Outside a tape the call runs one compiled
    graph (traced once for any batch size). Inside `tf.GradientTape` (eager) or inside the caller's own
    `tf.function` the model is run op by op in the caller's context, so gradients of the output with
    respect to the activations exist. `forward(x)` also gives the pre-softmax scores (`TapResult`).
    """

    def __init__(self, model, names: Sequence[str]):
        import tensorflow as tf

        self.model = model
        self.names = tuple(resolve(model, n) for n in names)
        structure = _structure(model)
        self._output_path = structure.output_path
        self._compiled = tf.function(self._plain, input_signature=[_input_spec(model)], reduce_retracing=True)

    def __call__(self, x):
        import tensorflow as tf

        x = tf.convert_to_tensor(x, tf.float32)
        if not tf.executing_eagerly() or _tape_active():
            result = self.forward(x)
            return result.activations, result.output
        return self._compiled(x)

    def _plain(self, x):
        result = self.forward(x)
        return result.activations, result.output

    def forward(self, x) -> TapResult:
        """One run in the caller's context (eager or traced): activations, output and class scores."""
        import tensorflow as tf

        wanted = set(self.names)
        runner = _Runner(keep=lambda path: path in wanted)
        out = runner.run(self.model, tf.convert_to_tensor(x, tf.float32))
        flat = _flat_tensors(out)
        output = tf.cast(flat[0], tf.float32)
        scores, is_logits = _scores(runner, self._output_path, output)
        return TapResult([runner.tensors[n] for n in self.names], output, scores, is_logits)


def _tape_active() -> bool:
    """Whether a GradientTape is recording (then the compiled graph would hide the intermediates)."""
    try:
        from tensorflow.python.eager import record

        return bool(record.could_possibly_record())
    except Exception:  # internal API moved: assume a tape, which is slower but always correct
        return True


def _scores(runner: _Runner, output_path: str | None, output):
    """The tensor before the model's softmax (its class scores), and whether one was found."""
    import tensorflow as tf

    record = next((r for r in runner.records if r[0] == output_path), None)
    if record is None:
        return output, False
    _path, op, inputs, _out = record
    kind = type(op).__name__
    act = getattr(op, "activation", None)
    act_name = getattr(act, "__name__", "") if act is not None else ""
    if inputs and (kind == "Softmax" or (kind == "Activation" and act_name == "softmax")):
        return _flat2d(tf.cast(inputs[0], tf.float32)), True
    if inputs and act_name == "softmax" and _plain_dense(op):
        x = tf.cast(inputs[0], tf.float32)
        z = tf.linalg.matmul(x, tf.cast(op.kernel, tf.float32)) if x.shape.rank == 2 else \
            tf.tensordot(x, tf.cast(op.kernel, tf.float32), axes=1)
        if op.bias is not None:
            z = z + tf.cast(op.bias, tf.float32)
        return _flat2d(z), True
    return output, False


def _plain_dense(op) -> bool:
    import keras

    return (type(op) is keras.layers.Dense and not getattr(op, "lora_enabled", False)
            and getattr(op, "quantization_mode", None) is None)


def _flat2d(t):
    import tensorflow as tf

    return tf.reshape(t, (tf.shape(t)[0], -1))


def tap(model, names: Sequence[str]) -> Tap:
    """A callable giving the outputs of the layers `names` (paths, nested model names or unique bare
    names) and the model's output; LayerNotFound for a name the model lacks."""
    _keras_only(model)
    if isinstance(names, str):
        names = [names]
    return Tap(model, names)
