"""The penultimate layer's features of a set of images, for any model the workbench opens, and the
model's probabilities from the same pass (so a map can mark its mistakes).

The layer is found and read through `core/explain/graph.py` (`penultimate_layer`, `tap`): the one way
to reach a layer inside any model, nested bases included. Images go through the model's own
preprocessing (the LoadedModel's), in batches, with progress and cancel.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

DEFAULT_BATCH_SIZE = 256
CHUNK_BATCHES = 4  # batches per progress report and cancel check


class FeatureError(ValueError):
    """Images or a model whose features cannot be read; one readable sentence."""


class FeaturesCancelled(FeatureError):
    """The caller stopped the pass; nothing of it is kept."""


@dataclass(frozen=True, eq=False)
class Features:
    """Row i of `vectors` and of `probabilities` belong to image i."""

    vectors: np.ndarray  # N × D float32
    probabilities: np.ndarray  # N × C float32
    layer: str  # the layer read ("outer/inner" inside a nested model)
    seconds: float = 0.0
    steps: tuple[str, ...] = ()  # what was done to the images or features, in words

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)


def _target_shape(loaded: Any, image_shape: tuple) -> tuple[int, int, int]:
    from workbench.core.images.fit import model_image_shape

    want = tuple(loaded.input_shape)
    if len(want) != 3:
        raise FeatureError(f"{loaded.name} does not take images (its input is {want}), so it has no image features.")
    return model_image_shape((want[0] or image_shape[0], want[1] or image_shape[1], want[2]))


def _fitted(images: np.ndarray, target: tuple[int, int, int], fit: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """The images at the model's size and channels, by the one image fitter, and what it did in words."""
    from workbench.core.images.fit import fit_image

    if images.shape[1:3] == target[:2] and (images.shape[3] if images.ndim == 4 else 1) == target[2]:
        return images, ()
    out, steps = zip(*(fit_image(img, target, fit=fit) for img in images))
    return np.stack(out), tuple(steps[0])


def extract_features(loaded: Any, images: np.ndarray, *, layer: str | None = None,
                     batch_size: int = DEFAULT_BATCH_SIZE, fit: str | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     cancel: Callable[[], bool] | threading.Event | None = None) -> Features:
    """Features of `layer` (default: the penultimate layer) and the probabilities, for uint8 images
    N × H × W × C run through `loaded` (a LoadedModel) with its preprocessing.

    Images of another size are fitted as evaluate fits them (`fit`: the model's recorded rule, else
    crop); a layer output with spatial axes is averaged over them. `progress(done, total)` after each
    few batches; `cancel()` (or an Event) stops with FeaturesCancelled. FeatureError (a sentence) for a
    model without such a layer, images that do not fit, non-finite outputs, or a model that fails."""
    from workbench.core.explain.graph import LayerNotFound, penultimate_layer, tap
    from workbench.core.images.errors import ImageReadError
    from workbench.core.modelio.loaded_model import ModelInputError
    from workbench.core.predict_guard import NonFiniteOutputError, check_finite, tf_reason

    should_stop = cancel.is_set if isinstance(cancel, threading.Event) else cancel
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or len(x) == 0:
        raise FeatureError(f"Images must be an array of shape N×H×W×C with at least one image; got {x.shape}.")
    start = time.perf_counter()
    fit = fit or getattr(loaded, "fit_rule", None) or "crop"
    target = _target_shape(loaded, x.shape[1:])
    try:
        name = layer or penultimate_layer(loaded.model)
        reader = tap(loaded.model, [name])
    except LayerNotFound as exc:
        raise FeatureError(str(exc)) from None
    vectors, probs, steps, spatial = [], [], (), False
    chunk = max(1, int(batch_size)) * CHUNK_BATCHES
    for i in range(0, len(x), chunk):
        if should_stop is not None and should_stop():
            raise FeaturesCancelled("Reading the features was cancelled.")
        try:
            part, fitted_steps = _fitted(x[i:i + chunk], target, fit)
            steps = steps or fitted_steps
            part = loaded.preprocessing.apply(loaded.prepare(part))
            for j in range(0, len(part), batch_size):
                acts, out = reader(part[j:j + batch_size])
                a = np.asarray(acts[0], dtype=np.float32)
                spatial = spatial or a.ndim > 2
                vectors.append(_as_rows(a))
                probs.append(_probabilities(np.asarray(out, dtype=np.float32), loaded.outputs_logits))
        except (ModelInputError, ImageReadError) as exc:
            raise FeatureError(str(exc)) from None
        except MemoryError:
            raise FeatureError(f"{loaded.name} needs more memory than is free to run on these images.") from None
        except FeatureError:
            raise
        except Exception as exc:  # noqa: BLE001 - TensorFlow raises many types; the user gets one sentence
            raise FeatureError(f"{loaded.name} failed while reading features ({tf_reason(exc)}).") from None
        if progress is not None:
            progress(min(i + chunk, len(x)), len(x))
    features, probabilities = np.concatenate(vectors), np.concatenate(probs)
    try:
        check_finite(probabilities, loaded)
        check_finite(features, loaded)
    except NonFiniteOutputError as exc:
        raise FeatureError(str(exc)) from None
    if features.shape[1] == 0:
        raise FeatureError(f"The layer {name} of {loaded.name} has no outputs to map.")
    if probabilities.shape[1] != loaded.num_classes:
        raise FeatureError(f"{loaded.name} gives {probabilities.shape[1]} outputs but has "
                           f"{loaded.num_classes} class names.")
    return Features(features, probabilities, name, time.perf_counter() - start,
                    tuple(steps) + ((_POOLED_STEP,) if spatial else ()))


_POOLED_STEP = "the layer's output has spatial axes, so each channel was averaged over them"


def _as_rows(a: np.ndarray) -> np.ndarray:
    """N × D: vectors as they are; maps (N × H × W × C) averaged over their spatial axes."""
    if a.ndim <= 2:
        return a.reshape(len(a), -1)
    return a.reshape(len(a), -1, a.shape[-1]).mean(axis=1)


def _probabilities(out: np.ndarray, logits: bool) -> np.ndarray:
    out = out.reshape(len(out), -1)
    if not logits:
        return out
    z = out - out.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
