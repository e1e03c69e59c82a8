"""Loading any saved Keras classifier (.h5 from Keras 2 or 3, .keras, weights-only files) for prediction.

`open_model(path)` (open.py) is the one way in: it inspects the file (h5py only) and calls
`load_full_model` or `load_weights`, which load Keras 3 files with Keras itself (safe mode) and
older files through the config fixers in `legacy.py` plus a name-matched weight loader, then work
out class names, preprocessing and whether the model outputs logits, each with the reason why.
The result is a `LoadedModel` whose `predict_proba(uint8 images)` always returns probabilities.
`load_any_model` / `load_weights_into` are the same call for code that wants a model or an exception.
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

from workbench.core.text import sanitize

from .inspect import (
    KERAS3_WEIGHTS,
    ModelFileInfo,
    ModelInspectError,
    describe_input,
    find_code_lambdas,
    image_input_problem,
    read_keras_config,
)
from .legacy import LegacyConfigError, assign_h5_weights, fix_model_config
from .limits import MAX_BATCH_INPUT_VALUES, MAX_CONFIG_BYTES
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
from .scaling import find_input_scaling

DEFAULT_BATCH_SIZE = 256
# Which dataset's class names a foreign model gets, by its number of outputs, when its input shape
# does not pick one (see dataset_for_model: a 28×28×1 model with 10 outputs gets MNIST's).
DATASET_BY_CLASS_COUNT = {10: "cifar10", 100: "cifar100", 20: "cifar100-coarse"}


class ModelLoadError(Exception):
    """A model file that cannot be loaded or used; str() is a readable sentence for the user."""


class ModelInputError(ValueError):
    """Images that do not fit the model's input; str() is a readable sentence."""


# Why a preprocessing was used, in one phrase each (LoadedModel.preprocessing_reason).
GUESSED_PREPROCESSING = "guessed: x/255, the most common choice — not recorded in the file"
RECORDED_PREPROCESSING = "recorded in the file by the workbench"
REMEMBERED_PREPROCESSING = "remembered for this file (chosen earlier)"
OUR_ARCHITECTURE = "our architectures scale pixels inside the network"
CHOSEN_PREPROCESSING = "chosen by the caller"
CLASS_NAMES_IN_FILE = "saved in the file"
CLASS_NAMES_GIVEN = "given by the caller"


def in_model_scaling_reason(scaling: str) -> str:
    return f"the model scales pixels itself ({scaling}), so it gets raw pixels 0..255"


def scaling_warning(name: str, spec: PreprocessingSpec, scaling: str | None) -> str | None:
    """A sentence when pixels are scaled before a model that scales them itself (answers then go wrong)."""
    if not scaling or spec.kind == "raw_0_255":
        return None
    return (f"{name} scales pixels itself ({scaling}) but gets them already scaled ({spec.describe()}), "
            "so they are scaled twice and its answers are likely wrong; choose raw_0_255 (raw pixels 0..255).")


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
    preprocessing_reason: str = ""  # why this preprocessing: recorded, remembered, chosen, or guessed
    preprocessing_guessed: bool = False  # True when nothing said how this model wants its pixels
    class_names_source: str = ""  # where the class names came from, in the user's words
    in_model_scaling: str | None = None  # the layer that scales pixels inside the model, if any
    file_warnings: tuple[str, ...] = ()  # sentences about the file itself (e.g. metadata fields dropped)
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def path(self) -> str | None:
        return self.info.path if self.info else None

    @property
    def fit_rule(self) -> str | None:
        """How training fitted images of another shape ("crop" or "pad"), as the file records; else None."""
        return (self.info.metadata or {}).get("fit") if self.info else None

    @property
    def trained_with_flip_tta(self) -> bool:
        """Whether the file says the run's own test figure averaged each image with its mirror image."""
        extra = (self.info.metadata or {}).get("extra") if self.info else None
        return isinstance(extra, dict) and extra.get("tta_flip") is True

    @property
    def name(self) -> str:
        return Path(self.path).name if self.path else "The model"

    @property
    def warnings(self) -> tuple[str, ...]:
        """Sentences about choices that look wrong (e.g. pixels scaled twice) and file problems."""
        twice = scaling_warning(self.name, self.preprocessing, self.in_model_scaling)
        return self.file_warnings + ((twice,) if twice else ())

    def with_class_names(self, class_names: Sequence[str], dataset_id: str | None = None,
                         source: str = CLASS_NAMES_GIVEN) -> "LoadedModel":
        names = tuple(sanitize(n) for n in class_names)
        if len(names) != self.num_classes:
            raise ModelLoadError(f"{self.name} has {self.num_classes} outputs but {len(names)} class names were given.")
        return dataclasses.replace(self, class_names=names, dataset_id=dataset_id, class_names_source=source)

    def with_preprocessing(self, spec, reason: str = CHOSEN_PREPROCESSING) -> "LoadedModel":
        try:
            spec = preprocessing_from(spec)
        except PreprocessingError as exc:
            raise ModelLoadError(str(exc)) from None
        return dataclasses.replace(self, preprocessing=spec, preprocessing_reason=reason, preprocessing_guessed=False)

    def describe(self) -> str:
        kind = "logits (softmax applied here)" if self.outputs_logits else "probabilities"
        lines = [
            f"Input {describe_input(self.input_shape)}, {self.num_classes} classes, outputs {kind}.",
            f"Preprocessing: {self.preprocessing.describe()} ({self.preprocessing_reason or 'not stated'}).",
            f"Class names: {self.class_names_source or 'not stated'}.",
        ]
        lines += [f"Warning: {w}" for w in self.warnings]
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
            raise ModelInputError(f"{self.name} takes {describe_input(want)}, not images.")
        if (h is not None and x.shape[1] != h) or (w is not None and x.shape[2] != w):
            raise ModelInputError(
                f"{self.name} takes {_shape_text(want)} images but these are {_shape_text(x.shape[1:])}; "
                "they must be resized or cropped to the model's input size first."
            )
        if c is not None and x.shape[-1] != c:
            if c == 1 and x.shape[-1] == 3:
                # ITU-R 601 luma, the same weights Pillow uses for "L".
                x = (x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
            elif c == 3 and x.shape[-1] == 1:
                x = np.repeat(x, 3, axis=-1)
            else:
                raise ModelInputError(f"{self.name} takes {c}-channel images; these have {x.shape[-1]} channels.")
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
        # Large inputs get smaller batches, so one batch's float copy stays bounded.
        batch_size = max(1, min(int(batch_size), MAX_BATCH_INPUT_VALUES // max(1, int(np.prod(x.shape[1:])))))
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
                   outputs_logits=logits, input_shape=_model_input_shape(model), dataset_id=dataset_id,
                   preprocessing_reason=OUR_ARCHITECTURE if spec == RAW_0_255 else CHOSEN_PREPROCESSING,
                   class_names_source=CLASS_NAMES_GIVEN)


def _shape_text(shape) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


# ---- loading ----------------------------------------------------------------------------------------

def _short(exc: BaseException) -> str:
    """An exception's text as one clean clause: all its lines joined (never cut at "...:"), no escapes."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return sanitize(text, 300).rstrip(" :.")


def load_any_model(path, *, trust: bool = False, class_names: Sequence[str] | None = None,
                   preprocessing=None, dataset_id: str | None = None, architecture=None) -> LoadedModel:
    """Loads a model file for prediction (see `open_model`); raises ModelLoadError with one sentence.

    `trust=True` allows Lambda layers that hold Python code (that code runs). `preprocessing` and
    `class_names` override the file's metadata, the remembered choice and the guesses.
    `architecture` (see `load_weights_into`) is used only when the file holds weights only.
    """
    from .open import open_model

    return open_model(path, trust=trust, class_names=class_names, preprocessing=preprocessing,
                      dataset_id=dataset_id, architecture=architecture).require()


def load_full_model(info: ModelFileInfo, *, trust: bool = False, choices: "Choices") -> LoadedModel:
    """A whole-model file (already inspected) loaded for prediction; ModelLoadError with one sentence."""
    if info.lambda_layers and not trust:
        raise _lambda_refusal(info.path, info.lambda_layers)
    model, notes = _load_full_model(info.path, info, trust)
    return _finish_loading(model, info, notes, choices, info.in_model_scaling)


def _load_full_model(path: str, info: ModelFileInfo, trust: bool) -> tuple[Any, list[str]]:
    name = Path(path).name
    if info.container == "keras" or (info.keras_major or 0) >= 3:
        if info.container == "keras":  # .h5 configs get the same check after the fixers, below
            _refuse_unknown_classes(_stored_config(path), name)
        try:
            import keras

            with quiet_keras_logs():
                return keras.saving.load_model(path, compile=False, safe_mode=not trust), []
        except Exception as exc:  # noqa: BLE001 - any Keras failure becomes a sentence
            if info.container == "keras":
                raise ModelLoadError(f"Keras could not load {name} ({_short(exc)}); the file may be damaged "
                                     "or written by a newer Keras.") from None
            first_error = exc  # an .h5 from Keras 3: the legacy path may still cope
    else:
        first_error = None
    import h5py

    try:
        with h5py.File(path, "r") as f:
            config = json.loads(_text(f.attrs["model_config"]))
            model, notes = build_from_config(config, trust=trust, source=name)
            group = f["model_weights"] if "model_weights" in f else f
            notes += _assign(model, group, name)
    except Exception as exc:  # noqa: BLE001 - damaged files raise KeyError/OSError from h5py
        error = exc if isinstance(exc, ModelLoadError) else ModelLoadError(
            f"{name} is damaged or incomplete ({_short(exc)}).")
        if first_error is not None and isinstance(exc, ModelLoadError):
            raise error from None  # our sentence (e.g. naming a missing layer class) beats Keras' text
        if first_error is not None:
            raise ModelLoadError(f"Keras could not load {name} ({_short(first_error)}); the file may be damaged "
                                 "or written by a newer Keras.") from None
        return _keras_fallback(path, trust, error)
    if info.keras_version and not str(info.keras_version).startswith("3"):
        notes.insert(0, f"Converted from Keras {info.keras_version} in memory; the file was not changed.")
    return model, notes


def _stored_config(path: str) -> Any:
    """The architecture JSON inside a .keras file (size caps already checked by inspect)."""
    try:
        return read_keras_config(path)
    except ModelInspectError as exc:
        raise ModelLoadError(str(exc)) from None


def _keras_fallback(path: str, trust: bool, error: ModelLoadError) -> tuple[Any, list[str]]:
    """Keras' own legacy loader as a last resort; our sentence stands when it fails too."""
    try:
        import keras

        with quiet_keras_logs():
            model = keras.saving.load_model(path, compile=False, safe_mode=not trust)
    except Exception:  # noqa: BLE001 - the first, more specific explanation is the useful one
        raise error from None
    return model, [f"Loaded by Keras' own legacy reader after the converter failed ({str(error).rstrip('.')})."]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _assign(model, group, source: str) -> list[str]:
    try:
        return assign_h5_weights(model, group)
    except LegacyConfigError as exc:
        raise ModelLoadError(f"{source}: {exc}") from None
    except (KeyError, OSError, ValueError) as exc:
        raise ModelLoadError(f"The weights in {source} are damaged or incomplete ({_short(exc)}).") from None


def _known_class(keras, cls: str, module: Any, registered: Any) -> bool:
    if getattr(keras.layers, cls, None) is not None:
        return True
    if keras.saving.get_registered_object(registered or cls) is not None:
        return True
    # Keras 3 records `x / 255` and other ops as layers of keras.src.ops: Keras' own, so known.
    if isinstance(module, str) and (module == "keras" or module.startswith("keras.")):
        import importlib

        try:
            return getattr(importlib.import_module(module), cls, None) is not None
        except ImportError:
            return False
    return False


def _unknown_classes(config: Any) -> list[str]:
    import keras

    from .legacy import MODEL_CLASSES

    unknown: list[str] = []

    def walk(obj: Any, is_layer: bool) -> None:
        if isinstance(obj, dict):
            cls = obj.get("class_name")
            if is_layer and isinstance(cls, str) and cls not in MODEL_CLASSES and cls not in unknown:
                if not _known_class(keras, cls, obj.get("module"), obj.get("registered_name")):
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


def _refuse_unknown_classes(config: Any, source: str) -> None:
    unknown = [sanitize(c, 60) for c in _unknown_classes(config)]
    if unknown:
        what = f"layer class {unknown[0]}" if len(unknown) == 1 else f"layer classes {', '.join(unknown[:5])}"
        raise ModelLoadError(
            f"{source} uses the {what}, which is not part of Keras: it was defined in the Python code of "
            "whoever made the model, and this workbench cannot load the file without that code."
        )


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
    _refuse_unknown_classes(fixed, source)
    import keras
    from keras.src.saving import serialization_lib

    cls = fixed.get("class_name")
    target = keras.Sequential if cls == "Sequential" else keras.Model
    if cls not in ("Sequential", "Functional", "Model"):
        raise ModelLoadError(f"{source} describes a {sanitize(cls, 60)}, not a Sequential or functional model.")
    try:
        # Safe mode refuses any Python bytecode the fixers did not catch; trust lifts it deliberately.
        with quiet_keras_logs(), serialization_lib.SafeModeScope(not trust):
            model = target.from_config(fixed["config"])
    except Exception as exc:  # noqa: BLE001 - Keras raises many types; the user gets one sentence
        raise ModelLoadError(f"{source} could not be rebuilt in Keras 3 ({_short(exc)}).") from None
    if not model.built:
        try:
            model.build((None, 32, 32, 3))
            notes.append("The architecture records no input shape; it was built for 32×32×3 images.")
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"{source} records no input shape and does not build for 32×32×3 images "
                                 f"({_short(exc)}).") from None
    return model, notes


def load_weights_into(path, architecture, *, trust: bool = False, class_names: Sequence[str] | None = None,
                      preprocessing=None, dataset_id: str | None = None, input_shape=None,
                      **arch_options) -> LoadedModel:
    """Loads a weights-only file into an architecture (see `open_model`); ModelLoadError with one sentence.

    `architecture` is one of ours by name (built for the file's class count and for `input_shape`, else
    the input size recorded in the file or the one its weights fit), a path to a JSON architecture
    file (a Keras `to_json()`, any version), or a Keras model.
    """
    from .open import open_model

    return open_model(path, architecture=architecture, trust=trust, class_names=class_names,
                      preprocessing=preprocessing, dataset_id=dataset_id, arch_options=arch_options,
                      input_shape=input_shape).require()


def read_architecture_json(arch_path: Path) -> dict:
    """A Keras architecture from a `to_json()` file, read with a size cap; ModelLoadError with one sentence."""
    from workbench.core.files import check_regular_file

    try:
        size = check_regular_file(arch_path, "architecture file").st_size
        if size > MAX_CONFIG_BYTES:
            raise ModelLoadError(f"{arch_path.name} is {size / 2**20:.0f} MiB, far larger than any Keras "
                                 "architecture file, so it was not read.")
        config = json.loads(arch_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelLoadError(f"Cannot read the architecture file {arch_path} ({exc.strerror or exc}).") from None
    except (ValueError, RecursionError):
        raise ModelLoadError(f"{arch_path.name} is not a JSON architecture file.") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelLoadError(f"{arch_path.name} is JSON but not a Keras model architecture.")
    return config


def _candidate_shapes(info: ModelFileInfo, input_shape) -> list[tuple[int, int, int]]:
    """Input shapes to build one of our networks for a weights-only file, most likely first: the caller's,
    the one recorded in the file, then every registered dataset's (the weights decide among those)."""
    from workbench.core.architectures import INPUT_SHAPE
    from workbench.core.datasets import DATASETS

    recorded = (info.metadata or {}).get("input_shape")
    given = [tuple(s) for s in (input_shape, recorded) if s is not None]
    if given:
        return given[:1]
    shapes = [INPUT_SHAPE, *(v.image_shape for v in DATASETS.values())]
    return list(dict.fromkeys(tuple(s) for s in shapes))


def _fill_weights(model, info: ModelFileInfo, name: str) -> list[str]:
    if info.kind == KERAS3_WEIGHTS:
        try:
            from keras.src.saving import saving_lib

            saving_lib.load_weights_only(model, info.path)
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"The weights in {name} do not fit this architecture ({_short(exc)}).") from None
        return []
    import h5py

    with h5py.File(info.path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        return _assign(model, group, name)


def _our_network(info: ModelFileInfo, architecture: str, choices: "Choices", arch_options: dict | None,
                 input_shape) -> tuple[Any, list[str]]:
    """One of our networks built for the shape its weights were trained at, with the weights in it."""
    from workbench.core.architectures import ARCHITECTURES, build_model, shape_text

    name = Path(info.path).name
    if architecture not in ARCHITECTURES:
        raise ModelLoadError(f"Unknown architecture {sanitize(repr(architecture), 60)}; "
                             f"choose one of {', '.join(ARCHITECTURES)}.")
    classes = info.num_classes or len(choices.class_names or ()) or 10
    shapes = _candidate_shapes(info, input_shape)
    failure: ModelLoadError | None = None
    for shape in shapes:
        try:
            model = build_model(architecture, classes, input_shape=shape, **(arch_options or {}))
        except Exception as exc:  # noqa: BLE001
            failure = ModelLoadError(f"Could not build {architecture} for {classes} classes and "
                                     f"{shape_text(shape)} images ({_short(exc)}).")
            continue
        try:
            notes = _fill_weights(model, info, name)
        except ModelLoadError as exc:
            failure = exc  # weights of another input size: try the next shape
            continue
        if len(shapes) > 1:
            notes.append(f"Built {architecture} for {shape_text(shape)} images, the input size its weights fit.")
        return model, notes
    raise failure  # type: ignore[misc]


def load_weights(info: ModelFileInfo, architecture, *, trust: bool = False, choices: "Choices",
                 arch_options: dict | None = None, input_shape=None) -> LoadedModel:
    """A weights-only file (already inspected) loaded into `architecture` (see `load_weights_into`).

    One of our networks (by name) is built for `input_shape` if given, else the shape recorded in the
    file, else the first registered dataset's image shape whose network the weights fit.
    """
    name = Path(info.path).name
    ours, scaling = False, None
    if isinstance(architecture, (str, os.PathLike)) and Path(architecture).suffix.lower() == ".json":
        arch_path = Path(architecture)
        config = read_architecture_json(arch_path)
        scaling = find_input_scaling(config)
        model, notes = build_from_config(config, trust=trust, source=arch_path.name)
        notes += _fill_weights(model, info, name)
    elif isinstance(architecture, str):
        model, notes = _our_network(info, architecture, choices, arch_options, input_shape)
        ours = True
    else:
        model, notes = architecture, []
        try:
            scaling = find_input_scaling({"class_name": "Functional", "config": model.get_config()})
        except Exception:  # noqa: BLE001 - a model without a config simply has no recorded scaling
            scaling = None
        notes += _fill_weights(model, info, name)
    return _finish_loading(model, info, notes, choices, scaling, ours=ours)


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


def _image_shape(input_shape) -> tuple | None:
    """A model's (h, w, c) input with open sizes as None, or None when it is not an image input."""
    shape = tuple(input_shape) if input_shape is not None else ()
    return shape if len(shape) == 3 else None


def images_fit_input(image_shape: tuple, input_shape) -> bool:
    """A dataset's (h, w, c) images go into a model's input as they are (open sizes take any size)."""
    return _shape_fits(tuple(image_shape), _image_shape(input_shape))


def _shape_fits(image_shape: tuple, input_shape: tuple | None) -> bool:
    """A dataset's images go into this input as they are (open sizes take any size)."""
    if input_shape is None:
        return False
    return all(want is None or want == have for want, have in zip(input_shape, image_shape))


def dataset_for_model(num_classes: int, input_shape=None, prefer: str | None = None) -> str | None:
    """The registered dataset a model with `num_classes` outputs most likely belongs to, or None.

    Among the datasets with that many classes: `prefer` if it is one, else the first whose images fit
    the model's input as they are (28×28×1 -> MNIST, 32×32×3 -> CIFAR-10), else the first by class
    count (DATASET_BY_CLASS_COUNT, then registry order).
    """
    from workbench.core.datasets import DATASETS

    same = [k for k, v in DATASETS.items() if v.num_classes == num_classes and len(v.class_names) == num_classes]
    if prefer in same:
        return prefer
    first = DATASET_BY_CLASS_COUNT.get(num_classes)
    same.sort(key=lambda k: k != first)  # stable: the well-known set first, then registry order
    shape = _image_shape(input_shape)
    fitting = [k for k in same if _shape_fits(DATASETS[k].image_shape, shape)]
    return (fitting or same or [None])[0]


def default_class_names(num_classes: int, input_shape=None) -> tuple[tuple[str, ...], str | None]:
    """Class names of the registered dataset with this many classes whose images fit `input_shape`
    (see `dataset_for_model`), else "class 0".."class N-1"."""
    dataset_id = dataset_for_model(num_classes, input_shape)
    if dataset_id is not None:
        from workbench.core.datasets import DATASETS

        return tuple(DATASETS[dataset_id].class_names), dataset_id
    return tuple(f"class {i}" for i in range(num_classes)), None


def _assumed_because(num_classes: int, dataset_id: str, input_shape) -> str:
    """Why `dataset_id` was assumed for a model: its class count, and its input where that decided it."""
    from workbench.core.architectures import shape_text
    from workbench.core.datasets import DATASETS

    info = DATASETS[dataset_id]
    shape = _image_shape(input_shape)
    if _shape_fits(info.image_shape, shape) and sum(
            v.num_classes == num_classes for v in DATASETS.values()) > 1:
        return (f"the model has {num_classes} outputs and takes {shape_text(d or '?' for d in shape)} images "
                f"like {info.title.split(' (')[0]}")
    return f"the model has {num_classes} outputs"


@dataclass(frozen=True)
class Choices:
    """What the caller decided for a model (None: let the file, the memory or a guess decide), and why."""

    preprocessing: Any = None
    preprocessing_reason: str = CHOSEN_PREPROCESSING  # e.g. "chosen with --preprocessing"
    class_names: tuple[str, ...] | None = None
    class_names_source: str = CLASS_NAMES_GIVEN  # e.g. "--labels cifar100"
    dataset_id: str | None = None


def choose_preprocessing(info: ModelFileInfo, choices: Choices, scaling: str | None,
                         ours: bool = False) -> tuple[PreprocessingSpec, str, bool]:
    """(spec, reason, guessed): the caller's choice > remembered > our metadata > in-model scaling > x/255."""
    meta = info.metadata or {}
    remembered = remembered_preprocessing(info.path)
    try:
        if choices.preprocessing is not None:
            return preprocessing_from(choices.preprocessing), choices.preprocessing_reason, False
    except PreprocessingError as exc:
        raise ModelLoadError(str(exc)) from None
    if remembered is not None:
        return remembered, REMEMBERED_PREPROCESSING, False
    if meta.get("preprocessing"):
        return preprocessing_from(meta["preprocessing"]), RECORDED_PREPROCESSING, False  # checked by inspect
    if ours:
        return RAW_0_255, OUR_ARCHITECTURE, False
    if scaling:
        return RAW_0_255, in_model_scaling_reason(scaling), False
    return DEFAULT_FOREIGN, GUESSED_PREPROCESSING, True


def choose_class_names(info: ModelFileInfo, choices: Choices, num_classes: int,
                       input_shape=None) -> tuple[tuple[str, ...], str | None, str]:
    """(names, dataset id, source): the caller's > saved in the file > remembered > by class count."""
    name = Path(info.path).name
    meta = info.metadata or {}
    if choices.class_names is not None:
        names = tuple(sanitize(n) for n in choices.class_names)
        if len(names) != num_classes:
            raise ModelLoadError(f"{name} has {num_classes} outputs but {len(names)} class names were given "
                                 f"({choices.class_names_source}).")
        return names, choices.dataset_id, choices.class_names_source
    saved = meta.get("class_names")
    if saved and len(saved) == num_classes:
        return tuple(saved), choices.dataset_id or meta.get("dataset"), CLASS_NAMES_IN_FILE
    from workbench.core.datasets import DATASETS

    source = remembered_choices(info.path).get("class_names_source")
    if source in DATASETS and len(DATASETS[source].class_names) == num_classes:
        return (tuple(DATASETS[source].class_names), source,
                f"remembered for this file ({DATASETS[source].title})")
    names, dataset_id = default_class_names(num_classes, input_shape)
    mismatch = f" (the file's {len(saved)} saved names do not fit)" if saved else ""
    if dataset_id is not None:
        title = DATASETS[dataset_id].title
        why = _assumed_because(num_classes, dataset_id, input_shape)
        return names, dataset_id, f"assumed {title} because {why} and the file records no class names{mismatch}"
    return names, None, f"invented names (class 0 … class {num_classes - 1}): the file records no class names{mismatch}"


def _finish_loading(model, info: ModelFileInfo, notes: list[str], choices: Choices, scaling: str | None,
                    ours: bool = False) -> LoadedModel:
    name = Path(info.path).name
    inputs = getattr(model, "inputs", None)
    if inputs is not None and len(inputs) != 1:
        raise ModelLoadError(image_input_problem(name, None, len(inputs)))
    outputs = getattr(model, "outputs", None)
    if outputs is not None and len(outputs) != 1:
        raise ModelLoadError(f"{name} has {len(outputs)} outputs; only single-output classifiers can be used, "
                             "so classify and evaluate cannot read its answers.")
    input_shape = _model_input_shape(model)
    problem = image_input_problem(name, input_shape)
    if problem:
        raise ModelLoadError(problem)
    out_shape = model.output_shape
    if isinstance(out_shape, list):
        out_shape = out_shape[0]
    num_classes = int(np.prod([d for d in out_shape[1:] if d is not None])) if len(out_shape) > 1 else 1
    if num_classes < 2:
        raise ModelLoadError(f"{name} has a single output value, so it is not a classifier.")
    spec, reason, guessed = choose_preprocessing(info, choices, scaling, ours)
    names, dataset_id, names_source = choose_class_names(info, choices, num_classes, input_shape)
    warnings = info.metadata_problems
    saved = (info.metadata or {}).get("class_names")
    if saved and len(saved) != num_classes:
        warnings += (f"{name} records {len(saved)} class names but has {num_classes} outputs, "
                     "so the saved names were not used.",)
    try:
        logits = detect_logits(model, spec, info.metadata)
    except Exception as exc:  # noqa: BLE001 - a model that cannot run on its own input shape
        raise ModelLoadError(f"{name} loaded but does not run on images of its own input size ({_short(exc)}).") from None
    return LoadedModel(model=model, info=info, class_names=names, preprocessing=spec, outputs_logits=logits,
                       input_shape=input_shape, dataset_id=dataset_id, notes=tuple(notes),
                       preprocessing_reason=reason, preprocessing_guessed=guessed, class_names_source=names_source,
                       in_model_scaling=scaling, file_warnings=warnings)
