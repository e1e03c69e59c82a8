"""Loading any saved Keras classifier (.h5 from Keras 2 or 3, .keras, weights-only files) for prediction.

`load_any_model(path)` inspects the file first (h5py only), refuses Lambda layers holding Python
code unless `trust=True`, loads Keras 3 files with Keras itself (safe mode) and older files through
the config fixers in `legacy.py` plus a name-matched weight loader, then works out class names,
preprocessing and whether the model outputs logits. The result is a `LoadedModel` whose
`predict_proba(uint8 images)` always returns probabilities.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from workbench.core.tf_import import ensure_tensorflow

from .inspect import FULL_MODEL, KERAS3_WEIGHTS, ModelFileInfo, ModelInspectError, find_code_lambdas, inspect_model_file
from .legacy import LegacyConfigError, assign_h5_weights, fix_model_config
from .preprocessing import (
    DEFAULT_FOREIGN,
    RAW_0_255,
    PreprocessingError,
    PreprocessingSpec,
    preprocessing_from,
    remembered_choices,
    remembered_preprocessing,
)
from .quiet import quiet_keras_logs

DEFAULT_BATCH_SIZE = 256
# Which dataset's class names a foreign model gets, by its number of outputs.
DATASET_BY_CLASS_COUNT = {10: "cifar10", 100: "cifar100", 20: "cifar100-coarse"}


class ModelLoadError(Exception):
    """A model file that cannot be loaded or used; str() is a readable sentence for the user."""


class ModelInputError(ValueError):
    """Images that do not fit the model's input; str() is a readable sentence."""


def _lambda_refusal(path: str, names: Sequence[str]) -> ModelLoadError:
    return ModelLoadError(
        f"{Path(path).name} contains a Lambda layer with Python code ({', '.join(names)}); "
        "only load it if you trust its source (loading runs that code)."
    )


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for prediction with everything needed to interpret its outputs.

    Change class names or preprocessing with `with_class_names` / `with_preprocessing` (new objects).
    """

    model: Any
    info: ModelFileInfo | None
    class_names: tuple[str, ...]
    preprocessing: PreprocessingSpec
    outputs_logits: bool
    input_shape: tuple
    dataset_id: str | None = None  # whose class names these are, where known (for CIFAR-100 superclasses)
    notes: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def path(self) -> str | None:
        return self.info.path if self.info else None

    def with_class_names(self, class_names: Sequence[str], dataset_id: str | None = None) -> "LoadedModel":
        names = tuple(str(n) for n in class_names)
        if len(names) != self.num_classes:
            raise ModelLoadError(f"The model has {self.num_classes} outputs but {len(names)} class names were given.")
        return dataclasses.replace(self, class_names=names, dataset_id=dataset_id)

    def with_preprocessing(self, spec) -> "LoadedModel":
        try:
            return dataclasses.replace(self, preprocessing=preprocessing_from(spec))
        except PreprocessingError as exc:
            raise ModelLoadError(str(exc)) from None

    def describe(self) -> str:
        kind = "logits (softmax applied here)" if self.outputs_logits else "probabilities"
        lines = [
            f"Input {'×'.join(str(d) for d in self.input_shape)}, {self.num_classes} classes, outputs {kind}.",
            f"Preprocessing: {self.preprocessing.describe()}.",
        ]
        return "\n".join(lines + list(self.notes))

    # -- prediction -------------------------------------------------------------------------------

    def prepare(self, images: np.ndarray) -> np.ndarray:
        """Checks shape (N x H x W x C or one H x W x C image) and fixes channels; returns uint8-range N x ..."""
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4:
            raise ModelInputError(f"Images must be an array of shape N×H×W×C; got shape {x.shape}.")
        want = self.input_shape
        h, w, c = (want + (None, None, None))[:3] if len(want) == 3 else (None, None, None)
        if len(want) != 3:
            raise ModelInputError(f"This model takes inputs of shape {want}, not images.")
        if (h is not None and x.shape[1] != h) or (w is not None and x.shape[2] != w):
            raise ModelInputError(
                f"This model takes {_shape_text(want)} images but these are {_shape_text(x.shape[1:])}; "
                "resize them first (images.fit_to_input does)."
            )
        if c is not None and x.shape[-1] != c:
            if c == 1 and x.shape[-1] == 3:
                # ITU-R 601 luma, the same weights Pillow uses for "L".
                x = (x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
            elif c == 3 and x.shape[-1] == 1:
                x = np.repeat(x, 3, axis=-1)
            else:
                raise ModelInputError(f"This model takes {c}-channel images; these have {x.shape[-1]} channels.")
        return x

    def predict_proba(self, images: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Probabilities (N x C float32) for uint8 images N x H x W x C (or one H x W x C image)."""
        x = self.prepare(images)
        if len(x) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        if len(x) == 1:
            # One image: a direct call is much faster than a predict() round trip.
            y = self.model(self.preprocessing.apply(x), training=False)
            return self._finish(np.asarray(y, dtype=np.float32))
        fn = self._batched_fn(x.shape[1:], x.dtype)
        out = [np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
        return np.concatenate(out).astype(np.float32, copy=False)

    def _finish(self, y: np.ndarray) -> np.ndarray:
        y = y.reshape(len(y), -1)
        if self.outputs_logits:
            y = y - y.max(axis=1, keepdims=True)
            e = np.exp(y)
            y = e / e.sum(axis=1, keepdims=True)
        return y.astype(np.float32, copy=False)

    def _batched_fn(self, shape: tuple, dtype: Any):
        key = ("batched", tuple(shape), str(dtype), self.preprocessing, self.outputs_logits)
        fn = self._cache.get(key)
        if fn is not None:
            return fn
        import tensorflow as tf

        scale, offset = self.preprocessing.affine(int(shape[-1]))
        model, logits = self.model, self.outputs_logits
        spec = tf.TensorSpec((None, *shape), tf.as_dtype(np.dtype(dtype)))

        # Preprocessing and softmax run inside one compiled graph, fed uint8: no float copies in numpy.
        @tf.function(input_signature=[spec], reduce_retracing=True)
        def run(x):
            y = model(tf.cast(x, tf.float32) * scale + offset, training=False)
            y = tf.reshape(tf.cast(y, tf.float32), (tf.shape(y)[0], -1))
            return tf.nn.softmax(y, axis=-1) if logits else y

        self._cache.clear()  # only the latest settings are worth keeping compiled
        self._cache[key] = run
        return run

    @classmethod
    def from_keras(cls, model, class_names: Sequence[str], *, preprocessing=RAW_0_255,
                   outputs_logits: bool | None = None, dataset_id: str | None = None) -> "LoadedModel":
        """Wraps an in-memory Keras model (ours take raw 0..255 pixels and output probabilities)."""
        spec = preprocessing_from(preprocessing)
        logits = detect_logits(model, spec) if outputs_logits is None else bool(outputs_logits)
        return cls(model=model, info=None, class_names=tuple(class_names), preprocessing=spec,
                   outputs_logits=logits, input_shape=_model_input_shape(model), dataset_id=dataset_id)


def _shape_text(shape) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


# ---- loading ----------------------------------------------------------------------------------------

def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 240 else text[:237] + "..."


def load_any_model(path, *, trust: bool = False, class_names: Sequence[str] | None = None,
                   preprocessing=None, dataset_id: str | None = None, architecture=None) -> LoadedModel:
    """Loads a whole-model .h5 / .keras file for prediction; raises ModelLoadError with one sentence.

    `trust=True` allows Lambda layers that hold Python code (that code runs). `preprocessing` and
    `class_names` override the file's metadata, the remembered choice and the guesses.
    `architecture` (see `load_weights_into`) is used only when the file holds weights only.
    """
    ensure_tensorflow()
    path = os.fspath(path)
    try:
        info = inspect_model_file(path)
    except ModelInspectError as exc:
        raise ModelLoadError(str(exc)) from None
    if info.kind != FULL_MODEL and architecture is not None:
        return load_weights_into(path, architecture, trust=trust, class_names=class_names,
                                 preprocessing=preprocessing, dataset_id=dataset_id)
    if info.kind != FULL_MODEL:
        raise ModelLoadError(
            f"{Path(path).name} holds weights only (saved with save_weights); pick an architecture to load them into."
        )
    if info.lambda_layers and not trust:
        raise _lambda_refusal(path, info.lambda_layers)
    model, notes = _load_full_model(path, info, trust)
    return _finish_loading(model, info, notes, class_names=class_names, preprocessing=preprocessing,
                           dataset_id=dataset_id)


def _load_full_model(path: str, info: ModelFileInfo, trust: bool) -> tuple[Any, list[str]]:
    if info.container == "keras" or (info.keras_major or 0) >= 3:
        try:
            import keras

            with quiet_keras_logs():
                return keras.saving.load_model(path, compile=False, safe_mode=not trust), []
        except Exception as exc:  # noqa: BLE001 - any Keras failure becomes a sentence
            if info.container == "keras":
                raise ModelLoadError(f"Keras could not load {Path(path).name}: {_short(exc)}") from None
            first_error = exc  # an .h5 from Keras 3: the legacy path may still cope
    else:
        first_error = None
    import h5py

    try:
        with h5py.File(path, "r") as f:
            config = json.loads(_text(f.attrs["model_config"]))
            model, notes = build_from_config(config, trust=trust, source=Path(path).name)
            group = f["model_weights"] if "model_weights" in f else f
            notes += _assign(model, group, Path(path).name)
    except Exception as exc:  # noqa: BLE001 - damaged files raise KeyError/OSError from h5py
        error = exc if isinstance(exc, ModelLoadError) else ModelLoadError(
            f"{Path(path).name} is damaged or incomplete: {_short(exc)}")
        if first_error is not None:
            raise ModelLoadError(f"Keras could not load {Path(path).name}: {_short(first_error)}") from None
        return _keras_fallback(path, trust, error)
    if info.keras_version and not str(info.keras_version).startswith("3"):
        notes.insert(0, f"Converted from Keras {info.keras_version} in memory; the file was not changed.")
    return model, notes


def _keras_fallback(path: str, trust: bool, error: ModelLoadError) -> tuple[Any, list[str]]:
    """Keras' own legacy loader as a last resort; our sentence stands when it fails too."""
    try:
        import keras

        with quiet_keras_logs():
            model = keras.saving.load_model(path, compile=False, safe_mode=not trust)
    except Exception:  # noqa: BLE001 - the first, more specific explanation is the useful one
        raise error from None
    return model, [f"Loaded by Keras' own legacy reader after the converter failed ({error})."]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _assign(model, group, source: str) -> list[str]:
    try:
        return assign_h5_weights(model, group)
    except LegacyConfigError as exc:
        raise ModelLoadError(f"{source}: {exc}") from None
    except (KeyError, OSError, ValueError) as exc:
        raise ModelLoadError(f"The weights in {source} are damaged or incomplete: {_short(exc)}") from None


def _unknown_classes(config: Any) -> list[str]:
    import keras

    from .legacy import MODEL_CLASSES

    unknown: list[str] = []

    def walk(obj: Any, is_layer: bool) -> None:
        if isinstance(obj, dict):
            cls = obj.get("class_name")
            if is_layer and isinstance(cls, str) and cls not in MODEL_CLASSES:
                known = getattr(keras.layers, cls, None) is not None
                registered = keras.saving.get_registered_object(obj.get("registered_name") or cls) is not None
                if not known and not registered and cls not in unknown:
                    unknown.append(cls)
            cfg = obj.get("config")
            if isinstance(cfg, dict):
                for layer in cfg.get("layers") or []:
                    walk(layer, True)
                for key in ("layer", "cell", "backward_layer"):
                    if isinstance(cfg.get(key), dict):
                        walk(cfg[key], True)

    walk(config, False)
    return unknown


def build_from_config(config: dict, *, trust: bool = False, source: str = "the model") -> tuple[Any, list[str]]:
    """A Keras 3 model from a (possibly Keras 1.x/2.x) model config; no weights loaded."""
    ensure_tensorflow()
    lambdas = find_code_lambdas(config)
    if lambdas and not trust:
        raise _lambda_refusal(source, lambdas)
    try:
        fixed, notes = fix_model_config(config)
    except LegacyConfigError as exc:
        raise ModelLoadError(f"{source}: {exc}") from None
    unknown = _unknown_classes(fixed)
    if unknown:
        raise ModelLoadError(
            f"{source} uses layer classes that are not part of Keras ({', '.join(unknown)}); "
            "the Python code that defined them would be needed to load it."
        )
    import keras
    from keras.src.saving import serialization_lib

    cls = fixed.get("class_name")
    target = keras.Sequential if cls == "Sequential" else keras.Model
    if cls not in ("Sequential", "Functional", "Model"):
        raise ModelLoadError(f"{source} describes a {cls}, not a Sequential or functional model.")
    try:
        # Safe mode refuses any Python bytecode the fixers did not catch; trust lifts it deliberately.
        with quiet_keras_logs(), serialization_lib.SafeModeScope(not trust):
            model = target.from_config(fixed["config"])
    except Exception as exc:  # noqa: BLE001 - Keras raises many types; the user gets one sentence
        raise ModelLoadError(f"{source} could not be rebuilt in Keras 3: {_short(exc)}") from None
    if not model.built:
        try:
            model.build((None, 32, 32, 3))
            notes.append("The architecture records no input shape; it was built for 32×32×3 images.")
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"{source} records no input shape and does not build for 32×32×3: {_short(exc)}") from None
    return model, notes


def load_weights_into(path, architecture, *, trust: bool = False, class_names: Sequence[str] | None = None,
                      preprocessing=None, dataset_id: str | None = None, **arch_options) -> LoadedModel:
    """Loads a weights-only file into an architecture and returns a LoadedModel.

    `architecture` is one of ours by name (built for the file's class count), a path to a JSON
    architecture file (a Keras `to_json()`, any version), or a Keras model.
    """
    ensure_tensorflow()
    path = os.fspath(path)
    try:
        info = inspect_model_file(path)
    except ModelInspectError as exc:
        raise ModelLoadError(str(exc)) from None
    name = Path(path).name
    ours = False
    if isinstance(architecture, (str, os.PathLike)) and Path(architecture).suffix.lower() == ".json":
        arch_path = Path(architecture)
        try:
            config = json.loads(arch_path.read_text(encoding="utf-8"))
        except OSError:
            raise ModelLoadError(f"Cannot read the architecture file {arch_path}.") from None
        except ValueError:
            raise ModelLoadError(f"{arch_path.name} is not a JSON architecture file.") from None
        if not isinstance(config, dict) or "class_name" not in config:
            raise ModelLoadError(f"{arch_path.name} is JSON but not a Keras model architecture.")
        model, notes = build_from_config(config, trust=trust, source=arch_path.name)
    elif isinstance(architecture, str):
        from workbench.core.architectures import ARCHITECTURES, build_model

        if architecture not in ARCHITECTURES:
            raise ModelLoadError(f"Unknown architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}.")
        classes = info.num_classes or len(class_names or ()) or 10
        try:
            model = build_model(architecture, classes, **arch_options)
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"Could not build {architecture} for {classes} classes: {_short(exc)}") from None
        notes, ours = [], True
    else:
        model, notes = architecture, []
    if info.kind == KERAS3_WEIGHTS:
        try:
            from keras.src.saving import saving_lib

            saving_lib.load_weights_only(model, path)
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"The weights in {name} do not fit this architecture: {_short(exc)}") from None
    else:
        import h5py

        with h5py.File(path, "r") as f:
            group = f["model_weights"] if "model_weights" in f else f
            notes += _assign(model, group, name)
    if ours and preprocessing is None and remembered_preprocessing(path) is None:
        preprocessing = RAW_0_255  # our architectures scale pixels inside the network
    return _finish_loading(model, info, notes, class_names=class_names, preprocessing=preprocessing,
                           dataset_id=dataset_id)


# ---- what the outputs mean ----------------------------------------------------------------------

def _model_input_shape(model) -> tuple:
    shape = model.input_shape
    if isinstance(shape, list):
        shape = shape[0]
    return tuple(shape[1:])


def _output_layer(model):
    outputs = getattr(model, "outputs", None) or []
    if outputs:
        history = getattr(outputs[0], "_keras_history", None)
        if history is not None:
            return history[0]
    return model.layers[-1] if model.layers else None


def final_activation(model) -> str | None:
    """'softmax', 'linear', another activation name, or None where the last layer has none."""
    layer = _output_layer(model)
    if layer is None:
        return None
    if type(layer).__name__ == "Softmax":
        return "softmax"
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    return getattr(act, "__name__", None) or type(act).__name__


def detect_logits(model, preprocessing: PreprocessingSpec, metadata: dict | None = None) -> bool:
    """True when the model outputs logits: from metadata, else the final activation, else by probing."""
    if metadata and metadata.get("output") in ("probabilities", "logits"):
        return metadata["output"] == "logits"
    act = final_activation(model)
    if act == "softmax":
        return False
    if act == "linear":
        return True
    # Unclear (custom or no activation): probabilities are non-negative rows summing to 1.
    shape = _model_input_shape(model)
    shape = tuple(32 if d is None else d for d in shape)
    x = np.random.default_rng(0).integers(0, 256, size=(4, *shape), dtype=np.uint8)
    y = np.asarray(model(preprocessing.apply(x), training=False), dtype=np.float64).reshape(4, -1)
    return not (np.all(y >= -1e-6) and np.allclose(y.sum(axis=1), 1.0, atol=1e-3))


def default_class_names(num_classes: int) -> tuple[tuple[str, ...], str | None]:
    """Class names of the CIFAR set with this many classes, else "class 0".."class N-1"."""
    dataset_id = DATASET_BY_CLASS_COUNT.get(num_classes)
    if dataset_id is not None:
        from workbench.core.datasets import DATASETS

        info = DATASETS.get(dataset_id)
        if info is not None and len(info.class_names) == num_classes:
            return tuple(info.class_names), dataset_id
    return tuple(f"class {i}" for i in range(num_classes)), None


def _finish_loading(model, info: ModelFileInfo, notes: list[str], *, class_names, preprocessing,
                    dataset_id) -> LoadedModel:
    outputs = getattr(model, "outputs", None)
    if outputs is not None and len(outputs) != 1:
        raise ModelLoadError(f"{Path(info.path).name} has {len(outputs)} outputs; only single-output classifiers can be used.")
    out_shape = model.output_shape
    if isinstance(out_shape, list):
        out_shape = out_shape[0]
    num_classes = int(np.prod([d for d in out_shape[1:] if d is not None])) if len(out_shape) > 1 else 1
    if num_classes < 2:
        raise ModelLoadError(f"{Path(info.path).name} has a single output value, so it is not a classifier.")
    input_shape = _model_input_shape(model)
    meta = info.metadata or {}
    remembered = remembered_choices(info.path)
    # Preprocessing: explicit > remembered > our metadata > the foreign default.
    try:
        if preprocessing is not None:
            spec = preprocessing_from(preprocessing)
        elif remembered_preprocessing(info.path) is not None:
            spec = remembered_preprocessing(info.path)
        elif meta.get("preprocessing"):
            spec = preprocessing_from(meta["preprocessing"])
        else:
            spec = DEFAULT_FOREIGN
    except PreprocessingError as exc:
        raise ModelLoadError(str(exc)) from None
    # Class names: explicit > our metadata > remembered dataset > the dataset with this class count.
    if class_names is not None:
        names = tuple(str(n) for n in class_names)
    elif meta.get("class_names") and len(meta["class_names"]) == num_classes:
        names, dataset_id = tuple(meta["class_names"]), dataset_id or meta.get("dataset")
    else:
        source = remembered.get("class_names_source")
        names, guessed = default_class_names(num_classes)
        if source:
            from workbench.core.datasets import DATASETS

            if source in DATASETS and len(DATASETS[source].class_names) == num_classes:
                names, guessed = tuple(DATASETS[source].class_names), source
        dataset_id = dataset_id or guessed
    if len(names) != num_classes:
        raise ModelLoadError(f"The model has {num_classes} outputs but {len(names)} class names were given.")
    try:
        logits = detect_logits(model, spec, info.metadata)
    except Exception as exc:  # noqa: BLE001 - a model that cannot run on its own input shape
        raise ModelLoadError(f"{Path(info.path).name} loaded but does not run: {_short(exc)}") from None
    if input_shape[-1:] and input_shape[-1] not in (1, 3, None):
        notes.append(f"The model takes {input_shape[-1]}-channel inputs; images cannot be fed to it.")
    return LoadedModel(model=model, info=info, class_names=names, preprocessing=spec, outputs_logits=logits,
                       input_shape=input_shape, dataset_id=dataset_id, notes=tuple(notes))
