"""The one way to open a model file, for the CLI and the window alike.

`open_model(path, ...)` answers, in one frozen `ModelOpening`: what the file is (`info`), what was
loaded (`loaded`, with the preprocessing and class names it uses and why), or what is still needed
(`needs`: an architecture for a weights-only file, trust for Lambda code) and why (`message`, one
sentence naming the file). Files that cannot be used give `needs == ""`, `loaded is None` and the
reason in `message`; `require()` turns any of those into a ModelLoadError.
`load_any_model` / `load_weights_into` are the same call for code that wants a model or an exception.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .artefacts import artefact_format, open_artefact
from .inspect import FULL_MODEL, ModelFileInfo, ModelInspectError, image_input_problem, inspect_model_file
from .limits import MAX_CONFIG_BYTES
from .load import lambda_refusal, load_full_model, load_weights, weights_fit
from .loaded_model import CHOSEN_PREPROCESSING, CLASS_NAMES_GIVEN, Choices, LoadedModel, ModelLoadError

NEEDS_ARCHITECTURE = "architecture"  # a weights-only file: which network do the numbers belong to?
NEEDS_TRUST = "trust"  # Lambda layers with Python code: loading runs that code
# JSON files beside a weights-only file that are looked at for a suggestion (a folder of thousands is skipped).
MAX_JSON_CANDIDATES = 50


@dataclass(frozen=True, eq=False)
class ModelOpening:
    """What opening a model file gave. Exactly one of: `loaded`, a non-empty `needs`, or an error `message`."""

    path: str
    info: ModelFileInfo | None = None
    loaded: LoadedModel | None = None
    needs: str = ""  # "", NEEDS_ARCHITECTURE or NEEDS_TRUST
    message: str = ""  # one sentence: why something is needed, or why the file cannot be used
    suggested_architecture: str | None = None  # for NEEDS_ARCHITECTURE: a JSON beside the file that fits

    @property
    def ok(self) -> bool:
        return self.loaded is not None

    @property
    def error(self) -> str:
        """The sentence when the file cannot be used at all (not merely waiting for an answer)."""
        return "" if self.loaded is not None or self.needs else self.message

    def require(self) -> LoadedModel:
        """The loaded model, or ModelLoadError carrying `message`."""
        if self.loaded is None:
            raise ModelLoadError(self.message)
        return self.loaded


def open_model(path: str | os.PathLike, *, trust: bool = False, architecture: Any = None,
               preprocessing: Any = None, preprocessing_reason: str = CHOSEN_PREPROCESSING,
               class_names: Sequence[str] | None = None, class_names_source: str = CLASS_NAMES_GIVEN,
               dataset_id: str | None = None, arch_options: dict | None = None,
               input_shape: Sequence[int] | None = None) -> ModelOpening:
    """Inspects `path` once and loads it when nothing is missing; never raises for a bad file.

    `architecture` (one of ours by name, a JSON architecture path, or a Keras model) is used only for
    weights-only files (`input_shape`: the images one of ours is built for; by default the size recorded
    in the file or the one its weights fit). `preprocessing` / `class_names` override the file, the per-file memory and the
    guesses; `preprocessing_reason` / `class_names_source` say in the user's words where they came from
    (e.g. "chosen with --preprocessing", "--labels names.txt").
    """
    path = os.fspath(path)
    name = Path(path).name
    fmt = artefact_format(path)
    if fmt is not None:  # an exported SavedModel / LiteRT / ONNX artefact: inference only, in its own runtime
        return _open_artefact(path, fmt, Choices(
            preprocessing=preprocessing, preprocessing_reason=preprocessing_reason,
            class_names=tuple(class_names) if class_names is not None else None,
            class_names_source=class_names_source, dataset_id=dataset_id))
    try:
        info = inspect_model_file(path)
    except ModelInspectError as exc:
        return ModelOpening(path, message=str(exc))
    if info.kind == FULL_MODEL:
        problem = image_input_problem(name, info.input_shape, info.num_inputs)
        if problem is None and info.num_outputs and info.num_outputs > 1:
            problem = (f"{name} has {info.num_outputs} outputs; only single-output classifiers can be used, "
                       "so classify and evaluate cannot read its answers.")
        if problem:
            return ModelOpening(path, info, message=problem)
    elif architecture is None:
        suggestion = suggest_architecture(info)
        return ModelOpening(path, info, needs=NEEDS_ARCHITECTURE, suggested_architecture=suggestion,
                            message=_weights_only_message(name, suggestion))
    lambdas = info.lambda_layers if info.kind == FULL_MODEL else ()
    if lambdas and not trust:
        return ModelOpening(path, info, needs=NEEDS_TRUST, message=str(lambda_refusal(path, lambdas)))
    choices = Choices(preprocessing=preprocessing, preprocessing_reason=preprocessing_reason,
                      class_names=tuple(class_names) if class_names is not None else None,
                      class_names_source=class_names_source, dataset_id=dataset_id)
    from workbench.core.tf_import import ensure_tensorflow

    ensure_tensorflow()
    try:
        if info.kind == FULL_MODEL:
            loaded = load_full_model(info, trust=trust, choices=choices)
        else:
            loaded = load_weights(info, architecture, trust=trust, choices=choices, arch_options=arch_options,
                                  input_shape=input_shape)
    except ModelLoadError as exc:
        text = str(exc)
        if not trust and "Lambda layer with Python code" in text:  # found only after the legacy fixers
            return ModelOpening(path, info, needs=NEEDS_TRUST, message=text)
        return ModelOpening(path, info, message=text)
    return ModelOpening(path, info, loaded)


def _open_artefact(path: str, fmt: str, choices: Choices) -> ModelOpening:
    if fmt == "savedmodel":
        from workbench.core.tf_import import ensure_tensorflow

        ensure_tensorflow()
    try:
        loaded = open_artefact(path, fmt, choices)
    except ModelLoadError as exc:
        return ModelOpening(path, message=str(exc))
    return ModelOpening(path, loaded.info, loaded)


def load_any_model(path, *, trust: bool = False, class_names: Sequence[str] | None = None,
                   preprocessing=None, dataset_id: str | None = None, architecture=None) -> LoadedModel:
    """Loads a model file for prediction (see `open_model`); raises ModelLoadError with one sentence.

    `trust=True` allows Lambda layers that hold Python code (that code runs). `preprocessing` and
    `class_names` override the file's metadata, the remembered choice and the guesses.
    `architecture` (see `load_weights_into`) is used only when the file holds weights only.
    """
    return open_model(path, trust=trust, class_names=class_names, preprocessing=preprocessing,
                      dataset_id=dataset_id, architecture=architecture).require()


def load_weights_into(path, architecture, *, trust: bool = False, class_names: Sequence[str] | None = None,
                      preprocessing=None, dataset_id: str | None = None, input_shape=None,
                      **arch_options) -> LoadedModel:
    """Loads a weights-only file into an architecture (see `open_model`); ModelLoadError with one sentence.

    `architecture` is one of ours by name (built for the file's class count and for `input_shape`, else
    the input size recorded in the file or the one its weights fit), a path to a JSON architecture
    file (a Keras `to_json()`, any version), or a Keras model.
    """
    return open_model(path, architecture=architecture, trust=trust, class_names=class_names,
                      preprocessing=preprocessing, dataset_id=dataset_id, arch_options=arch_options,
                      input_shape=input_shape).require()


def _weights_only_message(name: str, suggestion: str | None) -> str:
    from workbench.core.architectures import ARCHITECTURES

    if suggestion:
        hint = f"the architecture file beside it, {Path(suggestion).name}, fits its weights"
    else:
        hint = f"one of ours ({', '.join(ARCHITECTURES)}) or a Keras JSON architecture file"
    return (f"{name} holds weights only (saved with save_weights), no architecture; "
            f"choose the architecture they belong to: {hint}.")


def suggest_architecture(info: ModelFileInfo) -> str | None:
    """A JSON architecture file beside a weights-only file that its weights load into, or None.

    Only a file that parses as a Keras model, names every layer the weights belong to (where the file says
    which), and takes every weight in count and shape when built is suggested, so following the suggestion
    works: names alone collide (Keras' default "conv2d", "dense"). Keras 3 `.weights.h5` files name no
    layers, so every architecture beside them is tried.
    """
    wanted = set(info.weight_layers)
    folder = Path(info.path).parent
    try:
        candidates = sorted(p for p in folder.glob("*.json"))[:MAX_JSON_CANDIDATES]
    except OSError:
        return None
    for candidate in candidates:
        try:
            if not candidate.is_file() or candidate.stat().st_size > MAX_CONFIG_BYTES:
                continue
            config = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if (isinstance(config, dict) and "class_name" in config and wanted <= _layer_names(config)
                and weights_fit(info, config)):
            return str(candidate)
    return None


def _layer_names(config: Any) -> set[str]:
    names: set[str] = set()

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            cfg = obj.get("config")
            inner = cfg if isinstance(cfg, list) else (cfg.get("layers") if isinstance(cfg, dict) else None)
            for layer in inner or []:
                if isinstance(layer, dict):
                    lname = (layer.get("config") or {}).get("name") if isinstance(layer.get("config"), dict) else None
                    names.add(str(lname or layer.get("name")))
                    walk(layer)

    walk(config)
    return names
