"""Loading an inspected model file into a `LoadedModel` (.h5 from Keras 2 or 3, .keras, weights-only files).

`load_full_model` and `load_weights` are called by `open_model` (open.py), the one way in. Keras 3
files load with Keras itself (safe mode); older files go through the config fixers in `legacy.py`
and a name-matched weight loader. Then `guesses.py` works out class names and preprocessing and
`detect_logits` whether the model outputs logits, each with the reason why.
TensorFlow is imported only when a model is loaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from workbench.core.tf_import import ensure_tensorflow

from workbench.core.text import sanitize

from .applications import recognise_application
from .guesses import choose_class_names, choose_preprocessing
from .inspect import (
    KERAS3_WEIGHTS,
    ModelFileInfo,
    ModelInspectError,
    find_code_lambdas,
    image_input_problem,
    read_keras_config,
)
from .legacy import MODEL_CLASSES, LegacyConfigError, assign_h5_weights, fix_model_config
from .limits import MAX_CONFIG_BYTES
from .loaded_model import Choices, LoadedModel, ModelLoadError, detect_logits, model_input_shape, stored_temperature
from .quiet import quiet_keras_logs
from .scaling import find_front_lambdas, find_input_scaling


def lambda_refusal(path: str, names: Sequence[str]) -> ModelLoadError:
    """The refusal of a file whose Lambda layers hold Python code, naming them (`open_model` says the same)."""
    return ModelLoadError(
        f"{Path(path).name} contains a Lambda layer with Python code ({', '.join(names)}); "
        "only load it if you trust its source (loading runs that code)."
    )


def _short(exc: BaseException) -> str:
    """An exception's text as one clean clause: all its lines joined (never cut at "...:"), no escapes."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return sanitize(text, 300).rstrip(" :.")


def load_full_model(info: ModelFileInfo, *, trust: bool = False, choices: Choices) -> LoadedModel:
    """A whole-model file (already inspected) loaded for prediction; ModelLoadError with one sentence."""
    if info.lambda_layers and not trust:
        raise lambda_refusal(info.path, info.lambda_layers)
    model, notes = _load_full_model(info.path, info, trust)
    return _finish_loading(model, info, notes, choices, info.in_model_scaling, application=info.application)


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

    unknown: list[str] = []

    def walk(obj: Any, is_layer: bool) -> None:
        if isinstance(obj, dict):
            cls = obj.get("class_name")
            if is_layer and isinstance(cls, str) and cls not in MODEL_CLASSES:
                if not _known_class(keras, cls, obj.get("module"), obj.get("registered_name")):
                    shown = _class_shown(cls, obj.get("registered_name"))
                    if shown not in unknown:
                        unknown.append(shown)
            cfg = obj.get("config")
            if isinstance(cfg, dict):
                for layer in cfg.get("layers") or []:
                    walk(layer, True)
                for key in ("layer", "cell", "backward_layer"):
                    if isinstance(cfg.get(key), dict):
                        walk(cfg[key], True)

    walk(config, False)
    return unknown


def _class_shown(cls: str, registered: Any) -> str:
    """A custom class named alike from .keras and .h5: Keras 3's .h5 writer puts the registered name
    ("package>Class") where .keras keeps the class name and the registered name beside it."""
    name = cls.split(">")[-1]
    registered = registered if isinstance(registered, str) and registered else cls
    return f"{name} (registered as {registered})" if registered != name else name


def _refuse_unknown_classes(config: Any, source: str) -> None:
    unknown = [sanitize(c, 120) for c in _unknown_classes(config)]
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
        raise lambda_refusal(source, lambdas)
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


def _our_network(info: ModelFileInfo, architecture: str, choices: Choices, arch_options: dict | None,
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


def load_weights(info: ModelFileInfo, architecture, *, trust: bool = False, choices: Choices,
                 arch_options: dict | None = None, input_shape=None) -> LoadedModel:
    """A weights-only file (already inspected) loaded into `architecture` (see `load_weights_into`).

    One of our networks (by name) is built for `input_shape` if given, else the shape recorded in the
    file, else the first registered dataset's image shape whose network the weights fit.
    """
    name = Path(info.path).name
    ours, scaling, application = False, None, None
    if isinstance(architecture, (str, os.PathLike)) and Path(architecture).suffix.lower() == ".json":
        arch_path = Path(architecture)
        config = read_architecture_json(arch_path)
        scaling, application = find_input_scaling(config), recognise_application(config)
        model, notes = build_from_config(config, trust=trust, source=arch_path.name)
        notes += _fill_weights(model, info, name)
    elif isinstance(architecture, str):
        model, notes = _our_network(info, architecture, choices, arch_options, input_shape)
        ours = True
    else:
        model, notes = architecture, []
        try:
            config = {"class_name": "Functional", "config": model.get_config()}
            scaling, application = find_input_scaling(config), recognise_application(config)
        except Exception:  # noqa: BLE001 - a model without a config simply has no recorded scaling
            scaling = None
        notes += _fill_weights(model, info, name)
    return _finish_loading(model, info, notes, choices, scaling, ours=ours, application=application)


def weights_fit(info: ModelFileInfo, config: dict) -> bool:
    """Whether the weights-only file `info` loads into the architecture `config` (every count and shape),
    checked by building it (safe mode: a JSON with Lambda code never fits) and loading the weights."""
    try:
        model, _ = build_from_config(config, trust=False, source="the architecture")
        _fill_weights(model, info, Path(info.path).name)
    except ModelLoadError:
        return False
    return True


def _finish_loading(model, info: ModelFileInfo, notes: list[str], choices: Choices, scaling: str | None,
                    ours: bool = False, application=None) -> LoadedModel:
    name = Path(info.path).name
    inputs = getattr(model, "inputs", None)
    if inputs is not None and len(inputs) != 1:
        raise ModelLoadError(image_input_problem(name, None, len(inputs)))
    outputs = getattr(model, "outputs", None)
    if outputs is not None and len(outputs) != 1:
        raise ModelLoadError(f"{name} has {len(outputs)} outputs; only single-output classifiers can be used, "
                             "so classify and evaluate cannot read its answers.")
    input_shape = model_input_shape(model)
    problem = image_input_problem(name, input_shape)
    if problem:
        raise ModelLoadError(problem)
    out_shape = model.output_shape
    if isinstance(out_shape, list):
        out_shape = out_shape[0]
    num_classes = int(np.prod([d for d in out_shape[1:] if d is not None])) if len(out_shape) > 1 else 1
    if num_classes < 2:
        raise ModelLoadError(f"{name} has a single output value, so it is not a classifier.")
    lambda_warning = None
    if scaling is None and not ours and application is None:
        scaling, lambda_warning = _front_lambda_scaling(model, name)
    spec, reason, guessed = choose_preprocessing(info, choices, scaling, ours, application)
    names, dataset_id, names_source = choose_class_names(info, choices, num_classes, input_shape)
    warnings = info.metadata_problems
    if lambda_warning and guessed:
        reason += f"; {lambda_warning[0]} before the first weighted layer may scale pixels itself"
        warnings += (lambda_warning[1],)
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
                       in_model_scaling=scaling, file_warnings=warnings, calibration=stored_temperature(info))


def _front_lambda_scaling(model, name: str) -> tuple[str | None, tuple[str, str] | None]:
    """(in-model scaling phrase, None) when a Lambda before the first weighted layer is found, by running it on
    pixels, to compute `a·x + b` with |a| ≤ 1/2 (x / 255, x / 127.5 − 1); else (None, (what, warning sentence))
    naming the Lambdas. Only reached for a trusted model: its Lambda code already ran while loading."""
    try:
        names = find_front_lambdas({"class_name": "Functional", "config": model.get_config()})
    except Exception:  # noqa: BLE001 - a model without a config has no Lambda to name
        return None, None
    if not names:
        return None, None
    layers = {layer.name: layer for layer in model._flatten_layers(include_self=False, recursive=True)}
    shape = model_input_shape(model)
    for lname in names:
        found = _affine_of(layers.get(lname), shape)
        if found is not None:
            scale, offset = found
            return f"Lambda layer '{sanitize(lname, 60)}', found by running it: x × {scale:.6g} {offset:+.6g}", None
    what = ", ".join(f"'{sanitize(n, 60)}'" for n in names[:3])
    label = f"Lambda layer {what}" if len(names) == 1 else f"Lambda layers {what}"
    return None, (label, f"{name} has {label} before its first weighted layer, whose Python code may scale pixels "
                         "itself; if it does, choose raw_0_255 (raw pixels 0..255), or they are scaled twice.")


def _affine_of(layer, shape) -> tuple[float, float] | None:
    """(a, b) when `layer` maps pixels x to a·x + b elementwise with 0 < |a| ≤ 1/2 (a pixel scaling), else None."""
    if layer is None or shape is None or any(d is None for d in shape):
        return None
    x = np.random.default_rng(0).uniform(0, 255, (2, *shape)).astype(np.float32)
    try:
        y = np.asarray(layer(x), dtype=np.float64)
    except Exception:  # noqa: BLE001 - a Lambda that does not run alone on pixels is not a plain scaling
        return None
    if y.shape != x.shape:
        return None
    a, b = np.polyfit(x.ravel().astype(np.float64), y.ravel(), 1)
    if not (0 < abs(a) <= 0.5) or np.abs(a * x + b - y).max() > 1e-4 * max(1.0, float(np.abs(y).max())):
        return None
    return float(a), float(b)
