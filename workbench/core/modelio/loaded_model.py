"""A loaded model and what it needs to be used: `LoadedModel`, the caller's `Choices`, the errors, and
the phrases that say why each choice was made.

`LoadedModel.predict_proba(uint8 images)` always returns probabilities: the preprocessing runs before
the model and a softmax after it when the model outputs logits (`detect_logits`, below), then the
temperature `calibrate` stored in the file, if any (`core.calibration.apply_temperature`).
Imports without TensorFlow; only prediction and logits probing run the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from workbench.core.calibration import StoredTemperature, apply_temperature
from workbench.core.text import sanitize

from .inspect import ModelFileInfo, describe_input
from .limits import MAX_BATCH_INPUT_VALUES
from .preprocessing import RAW_0_255, PreprocessingError, PreprocessingSpec, preprocessing_from

DEFAULT_BATCH_SIZE = 256


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


def scaling_warning(name: str, spec: PreprocessingSpec, scaling: str | None) -> str | None:
    """A sentence when pixels are scaled before a model that scales them itself (answers then go wrong)."""
    if not scaling or spec.kind == "raw_0_255":
        return None
    return (f"{name} scales pixels itself ({scaling}) but gets them already scaled ({spec.describe()}), "
            "so they are scaled twice and its answers are likely wrong; choose raw_0_255 (raw pixels 0..255).")


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
    calibration: StoredTemperature | None = None  # a fitted temperature predict_proba applies (None: as the model says)
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
    def trained_tta_shift(self) -> int:
        """The shift in pixels of the run's test-time views besides the mirror (0: the mirror only)."""
        extra = (self.info.metadata or {}).get("extra") if self.info else None
        shift = extra.get("tta_shift") if isinstance(extra, dict) else None
        return shift if isinstance(shift, int) and not isinstance(shift, bool) and 0 < shift <= 4 else 0

    @property
    def name(self) -> str:
        return Path(self.path).name if self.path else "The model"

    @property
    def warnings(self) -> tuple[str, ...]:
        """Sentences about choices that look wrong (e.g. pixels scaled twice) and file problems."""
        twice = scaling_warning(self.name, self.preprocessing, self.in_model_scaling)
        fitted = self.calibration.preprocessing if self.calibration is not None else ""
        other = (f"{self.name}'s temperature was fitted with preprocessing {fitted}, not {self.preprocessing.describe()} "
                 "as now, so its calibrated confidence may be wrong; calibrate again."
                 if fitted and fitted != self.preprocessing.describe()[:100] else None)
        return self.file_warnings + tuple(w for w in (twice, other) if w)

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

    @property
    def temperature(self) -> float | None:
        """The temperature predict_proba divides log-probabilities by, or None when uncalibrated."""
        return self.calibration.value if self.calibration is not None else None

    def with_temperature(self, record: StoredTemperature | None) -> "LoadedModel":
        """The same model calibrated with `record` (None: its raw probabilities, e.g. to measure before/after)."""
        return dataclasses.replace(self, calibration=record)

    def without_temperature(self) -> "LoadedModel":
        return self.with_temperature(None)

    def calibration_text(self) -> str:
        """'calibrated: temperature 1.5 (fitted on …)' or 'not calibrated (no temperature stored)'."""
        if self.calibration is None:
            return "not calibrated (no temperature stored in the file)"
        return f"calibrated: {self.calibration.describe()}"

    def describe(self) -> str:
        kind = "logits (softmax applied here)" if self.outputs_logits else "probabilities"
        lines = [
            f"Input {describe_input(self.input_shape)}, {self.num_classes} classes, outputs {kind}.",
            f"Preprocessing: {self.preprocessing.describe()} ({self.preprocessing_reason or 'not stated'}).",
            f"Class names: {self.class_names_source or 'not stated'}.",
            f"Confidence: {self.calibration_text()}.",
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

    def predict_proba(self, images: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE,
                      calibrated: bool = True) -> np.ndarray:
        """Probabilities (N x C float32) for uint8 images N x H x W x C (or one H x W x C image), scaled by
        the stored temperature unless `calibrated` is False (for averaging before scaling, as evaluate's flip)."""
        x = self.prepare(images)
        if len(x) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        if len(x) == 1:
            # One image: a direct call is much faster than a predict() round trip.
            y = self.model(self.preprocessing.apply(x), training=False)
            y = self._finish(np.asarray(y, dtype=np.float32))
            return self._calibrated(y) if calibrated else y
        # Large inputs get smaller batches, so one batch's float copy stays bounded.
        batch_size = max(1, min(int(batch_size), MAX_BATCH_INPUT_VALUES // max(1, int(np.prod(x.shape[1:])))))
        if getattr(self.model, "runs_outside_keras", False):  # an exported artefact: its own runtime, in numpy
            out = [self._finish(np.asarray(self.model(self.preprocessing.apply(x[i:i + batch_size])), np.float32))
                   for i in range(0, len(x), batch_size)]
        else:
            fn = self._batched_fn(x.shape[1:], x.dtype)
            out = [np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
        y = np.concatenate(out).astype(np.float32, copy=False)
        return self._calibrated(y) if calibrated else y

    def _finish(self, y: np.ndarray) -> np.ndarray:
        y = y.reshape(len(y), -1)
        if self.outputs_logits:
            y = y - y.max(axis=1, keepdims=True)
            e = np.exp(y)
            y = e / e.sum(axis=1, keepdims=True)
        return y.astype(np.float32, copy=False)

    def _calibrated(self, probs: np.ndarray) -> np.ndarray:
        # Non-finite rows are left for predict_guard to refuse with its sentence, not turned into numbers here.
        if self.calibration is None or not np.isfinite(probs).all():
            return probs
        return apply_temperature(probs, self.calibration.value)

    def _batched_fn(self, shape: tuple, dtype: Any):
        key = ("batched", tuple(shape), str(dtype), self.preprocessing, self.outputs_logits)
        fn = self._cache.get(key)
        if fn is not None:
            return fn
        import tensorflow as tf

        prep = self.preprocessing
        model, logits = self.model, self.outputs_logits
        spec = tf.TensorSpec((None, *shape), tf.as_dtype(np.dtype(dtype)))

        # Preprocessing and softmax run inside one compiled graph, fed uint8: no float copies in numpy.
        @tf.function(input_signature=[spec], reduce_retracing=True)
        def run(x):
            y = model(prep.transform(tf.cast(x, tf.float32)), training=False)
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
                   outputs_logits=logits, input_shape=model_input_shape(model), dataset_id=dataset_id,
                   preprocessing_reason=OUR_ARCHITECTURE if spec == RAW_0_255 else CHOSEN_PREPROCESSING,
                   class_names_source=CLASS_NAMES_GIVEN)


def stored_temperature(info: ModelFileInfo | None) -> StoredTemperature | None:
    """The temperature the file's metadata holds (already checked by inspect's clean_metadata), or None."""
    raw = (info.metadata or {}).get("temperature") if info is not None else None
    return StoredTemperature.from_json(raw) if raw is not None else None


def _shape_text(shape) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


@dataclass(frozen=True)
class Choices:
    """What the caller decided for a model (None: let the file, the memory or a guess decide), and why."""

    preprocessing: Any = None
    preprocessing_reason: str = CHOSEN_PREPROCESSING  # e.g. "chosen with --preprocessing"
    class_names: tuple[str, ...] | None = None
    class_names_source: str = CLASS_NAMES_GIVEN  # e.g. "--labels cifar100"
    dataset_id: str | None = None


# ---- what the outputs mean ----------------------------------------------------------------------

def model_input_shape(model) -> tuple:
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
    shape = model_input_shape(model)
    shape = tuple(32 if d is None else d for d in shape)
    x = np.random.default_rng(0).integers(0, 256, size=(4, *shape), dtype=np.uint8)
    y = np.asarray(model(preprocessing.apply(x), training=False), dtype=np.float64).reshape(4, -1)
    return not (np.all(y >= -1e-6) and np.allclose(y.sum(axis=1), 1.0, atol=1e-3))
