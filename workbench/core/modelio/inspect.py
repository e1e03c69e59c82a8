"""Looking inside a model file before loading it: h5py and zipfile only, never TensorFlow.

`inspect_model_file(path) -> ModelFileInfo` says which Keras wrote the file, whether it holds a
whole model or weights only, the input shape, the number of outputs and classes, the final
activation, whether it carries our metadata, and whether it holds a Lambda layer with Python code.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.files import check_regular_file
from workbench.core.text import sanitize

from .limits import MAX_CONFIG_BYTES, MAX_INPUT_PIXELS, MAX_METADATA_BYTES, MAX_WEIGHT_EXPANSION, WEIGHT_SLACK_BYTES
from .metadata import METADATA_ATTR, METADATA_ENTRY, clean_metadata
from .applications import RecognisedBase, recognise_application
from .scaling import find_input_scaling

FULL_MODEL = "full_model"
WEIGHTS_ONLY = "weights_only"  # Keras 2 style save_weights(): layer groups at the root
KERAS3_WEIGHTS = "keras3_weights"  # Keras 3 .weights.h5: a "layers" tree of numbered vars


class ModelInspectError(ValueError):
    """The file is not a model file this workbench can read; the message is one readable sentence."""


@dataclass(frozen=True)
class ModelFileInfo:
    path: str
    container: str  # "h5" or "keras"
    kind: str  # FULL_MODEL, WEIGHTS_ONLY or KERAS3_WEIGHTS
    keras_version: str | None = None
    backend: str | None = None
    model_class: str | None = None
    input_shape: tuple | None = None  # without the batch axis; None where unknown
    num_inputs: int | None = None
    num_outputs: int | None = None
    num_classes: int | None = None  # units of the (single) output, where the config or weights say
    final_activation: str | None = None
    weight_layers: tuple[str, ...] = ()
    metadata: dict | None = field(default=None, compare=False)
    lambda_layers: tuple[str, ...] = ()  # Lambda layers that hold Python code
    in_model_scaling: str | None = None  # e.g. "Rescaling layer 'rescaling'": the model scales pixels itself
    application: RecognisedBase | None = None  # a keras.applications base at the front, with its preprocessing
    metadata_problems: tuple[str, ...] = ()  # one sentence per metadata field that was dropped
    notes: tuple[str, ...] = ()

    @property
    def has_metadata(self) -> bool:
        return self.metadata is not None

    @property
    def weights_only(self) -> bool:
        return self.kind != FULL_MODEL

    @property
    def keras_major(self) -> int | None:
        try:
            return int(str(self.keras_version).split(".")[0])
        except ValueError:
            return None

    def describe(self) -> str:
        name = Path(self.path).name
        saved = f"Keras {self.keras_version}" if self.keras_version else "an unknown Keras version"
        if self.backend:
            saved += f" ({self.backend} backend)"
        lines = [f"{name}: saved with {saved}."]
        if self.kind == FULL_MODEL:
            what = f"a whole {self.model_class or 'Keras'} model"
            lines.append(f"It holds {what} (architecture and weights).")
        else:
            lines.append(
                "This file holds weights only (saved with save_weights); pick an architecture to load them into."
            )
        if self.input_shape:
            lines.append(f"Input: {describe_input(self.input_shape)}.")
        if self.num_inputs and self.num_inputs != 1:
            lines.append(f"It has {self.num_inputs} inputs.")
        if self.num_outputs and self.num_outputs != 1:
            lines.append(f"It has {self.num_outputs} outputs.")
        if self.in_model_scaling:
            lines.append(f"The model scales pixels itself ({self.in_model_scaling}).")
        elif self.application:
            lines.append(f"Preprocessing: {self.application.reason}.")
        if self.num_classes:
            act = f", final activation {self.final_activation}" if self.final_activation else ""
            lines.append(f"Output: {self.num_classes} classes{act}.")
        # A third-party file calibrated here holds metadata with a temperature only: the rest is still guessed.
        if self.metadata is not None and set(self.metadata) - {"format", "temperature"}:
            ds = self.metadata.get("dataset")
            lines.append(f"Workbench metadata present (dataset {ds}, preprocessing {self.metadata.get('preprocessing')}).")
        else:
            known = self.in_model_scaling or self.application
            guessed = "class names are" if known else "class names and preprocessing are"
            lines.append(f"No workbench metadata: {guessed} guessed and can be changed.")
        if self.metadata is not None and "temperature" in self.metadata:
            lines.append(f"Calibration temperature stored: {self.metadata['temperature']['value']:.3g}.")
        if self.lambda_layers:
            lines.append(
                f"It contains a Lambda layer with Python code ({', '.join(self.lambda_layers)}); "
                "only load it if you trust its source."
            )
        lines.extend(self.metadata_problems)
        lines.extend(self.notes)
        return "\n".join(lines)


def _dims(shape) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


def describe_input(shape) -> str:
    """What an input shape (without the batch axis) means to a user: "32×32×3 images (RGB)" etc."""
    shape = tuple(shape)
    if len(shape) == 3 and shape[-1] in (1, 3):
        return f"{_dims(shape)} images ({'grayscale' if shape[-1] == 1 else 'RGB'})"
    if len(shape) == 4:
        return f"sequences of {shape[0] or 'any number of'} images of {_dims(shape[1:])} (shape {_dims(shape)})"
    if len(shape) == 3:
        return f"{_dims(shape[:2])} grids of {shape[-1]} values each (shape {_dims(shape)})"
    return f"arrays of shape {_dims(shape)}"


def image_input_problem(name: str, input_shape, num_inputs: int | None = 1) -> str | None:
    """One sentence saying why a model with this input cannot classify images, or None when it can."""
    if num_inputs is not None and num_inputs > 1:
        return (f"{name} takes {num_inputs} inputs; only single-input image classifiers can be used here, "
                "so classify and evaluate cannot feed it.")
    if input_shape is None:
        return None
    from workbench.core.architectures import IMAGE_CHANNELS

    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] not in (*IMAGE_CHANNELS, None):  # the channels our networks take, too
        return (f"{name} takes {describe_input(shape)}, not single images (height×width×1 or ×3), "
                "so it is not an image classifier this workbench can use.")
    h, w = shape[0], shape[1]
    if isinstance(h, int) and isinstance(w, int) and h * w > MAX_INPUT_PIXELS:
        return (f"{name} declares {h}×{w} input images, more than the {MAX_INPUT_PIXELS:,} pixels this "
                "workbench feeds a model (a single such image would need gigabytes of memory).")
    return None


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(value: Any) -> tuple[str, ...]:
    try:
        return tuple(_text(v) for v in value)
    except TypeError:
        return ()


def _json_attr(attrs, key: str, path: str) -> Any:
    raw = attrs.get(key)
    if raw is None:
        return None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelInspectError(f"The {key} stored in {path} is larger than {MAX_CONFIG_BYTES // 2**20} MiB, "
                                "far more than any Keras model needs, so it was not read.")
    try:
        return json.loads(_text(raw))
    except (ValueError, RecursionError):
        raise ModelInspectError(f"The {key} stored in {path} is not valid JSON; the file is damaged.") from None


def inspect_model_file(path: str | os.PathLike) -> ModelFileInfo:
    """Reads only headers and configs; raises ModelInspectError (one sentence) for unreadable files."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ModelInspectError(f"{path} is a folder, not a model file (a TensorFlow SavedModel folder cannot be loaded).")
    try:
        check_regular_file(path, "model file")
    except OSError as exc:
        raise ModelInspectError(f"{exc.strerror}.") from None
    if zipfile.is_zipfile(path):
        return _inspect_keras_zip(path)
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError:
        with open(path, "rb") as fh:
            signature = fh.read(8)
        if signature == b"\x89HDF\r\n\x1a\n":
            raise ModelInspectError(f"{path} is an HDF5 file that cannot be read; it may be truncated or damaged.") from None
        if signature.startswith(b"PK\x03\x04"):
            raise ModelInspectError(f"{path} is a zip (.keras) file that cannot be read; it may be truncated or damaged.") from None
        if not signature:
            raise ModelInspectError(f"{path} is empty, so it holds no model.") from None
        raise ModelInspectError(f"{path} is neither an HDF5 (.h5) nor a .keras model file.") from None
    with f:
        return _inspect_h5(f, path)


def _non_weight_bytes(f) -> int:
    """File bytes not taken by datasets (weights): an upper bound on what its attributes can hold."""
    stored = 0

    def add(_name, obj) -> None:
        nonlocal stored
        if hasattr(obj, "id") and hasattr(obj.id, "get_storage_size"):
            stored += obj.id.get_storage_size()

    f.visititems(add)
    return os.path.getsize(f.filename) - stored


def _declared_bytes(f) -> int:
    """Bytes the file's datasets unpack to (shape x item size), read from headers only."""
    total = 0

    def add(_name, obj) -> None:
        nonlocal total
        if hasattr(obj, "shape") and hasattr(obj, "dtype") and obj.shape is not None:
            total += int(obj.size) * int(obj.dtype.itemsize)

    f.visititems(add)
    return total


def _weight_bomb_problem(declared: int, stored: int, path: str, what: str = "its weights") -> str | None:
    if declared <= MAX_WEIGHT_EXPANSION * stored + WEIGHT_SLACK_BYTES:
        return None
    return (f"{path}: {what} unpack to {declared / 2**20:,.0f} MiB from a {stored / 2**20:,.1f} MiB file, "
            "far more than real weights compress, so it was not loaded (it may be damaged or crafted).")


def _check_weight_sizes(f, path: str) -> None:
    problem = _weight_bomb_problem(_declared_bytes(f), os.path.getsize(path), path)
    if problem:
        raise ModelInspectError(problem)


def _check_attribute_sizes(f, path: str) -> None:
    # A text attribute is stored uncompressed in the file, so a file with little besides its weights
    # cannot hold a huge config; only larger files need the (metadata-only) walk over its datasets.
    if os.path.getsize(path) <= MAX_CONFIG_BYTES:
        return
    if _non_weight_bytes(f) > MAX_CONFIG_BYTES + MAX_METADATA_BYTES:
        raise ModelInspectError(
            f"{path} holds more than {MAX_CONFIG_BYTES // 2**20} MiB of settings besides its weights, far more "
            "than any Keras model needs, so it was not read (it may be damaged or crafted)."
        )


def _inspect_h5(f, path: str) -> ModelFileInfo:
    _check_attribute_sizes(f, path)
    _check_weight_sizes(f, path)
    raw_meta = _metadata_from(f.attrs.get(METADATA_ATTR), path)
    metadata, problems = clean_metadata(raw_meta, Path(path).name)
    config = _json_attr(f.attrs, "model_config", path)
    version = sanitize(_text(f.attrs["keras_version"]), 40) if "keras_version" in f.attrs else None
    backend = sanitize(_text(f.attrs["backend"]), 40) if "backend" in f.attrs else None
    if config is not None:
        group = f["model_weights"] if "model_weights" in f else f
        layers = _names(group.attrs.get("layer_names", ()))
        version = version or (sanitize(_text(group.attrs["keras_version"]), 40) if "keras_version" in group.attrs else None)
        summary = _summary(config, path)
        return ModelFileInfo(
            path=path, container="h5", kind=FULL_MODEL, keras_version=version, backend=backend,
            weight_layers=tuple(n for n in layers if _has_weights(group, n)), metadata=metadata,
            metadata_problems=problems, **summary,
        )
    if "layer_names" in f.attrs:
        layers = _names(f.attrs["layer_names"])
        weighted = tuple(n for n in layers if _has_weights(f, n))
        classes = _classes_from_weights(f, weighted)
        return ModelFileInfo(
            path=path, container="h5", kind=WEIGHTS_ONLY, keras_version=version, backend=backend,
            num_classes=classes, weight_layers=weighted, metadata=metadata, metadata_problems=problems,
        )
    if "layers" in f or "vars" in f:
        return ModelFileInfo(path=path, container="h5", kind=KERAS3_WEIGHTS, keras_version=version,
                             backend=backend, metadata=metadata, metadata_problems=problems)
    raise ModelInspectError(
        f"{path} is an HDF5 file but holds neither a Keras model nor Keras weights."
    )


def _metadata_from(raw: Any, path: str) -> Any:
    if raw is None:
        return None
    if len(raw) > MAX_METADATA_BYTES:
        return "too large"  # clean_metadata turns anything but a dict into a sentence
    try:
        return json.loads(_text(raw))
    except (ValueError, RecursionError):
        return "not JSON"  # damaged metadata is reported and ignored: the model itself may still load


def _has_weights(group, name: str) -> bool:
    return name in group and len(group[name].attrs.get("weight_names", ())) > 0


def _classes_from_weights(group, weighted: tuple[str, ...]) -> int | None:
    # The last weighted layer of a classifier is its output Dense: its bias length is the class count.
    if not weighted:
        return None
    g = group[weighted[-1]]
    names = _names(g.attrs.get("weight_names", ()))
    shapes = [g[n].shape for n in names if n in g]
    if shapes and len(shapes[0]) == 2:
        return int(shapes[0][1])
    return None


def read_zip_member(zf: zipfile.ZipFile, member: str, cap: int, path: str) -> bytes:
    """One member of a .keras zip, refused (one sentence) before reading when it unpacks to more than ``cap``."""
    size = zf.getinfo(member).file_size  # zipfile never returns more than this declared size
    if size > cap:
        raise ModelInspectError(
            f"{path} is a .keras file whose {member} unpacks to {size / 2**20:.0f} MiB, far more than any "
            f"Keras model needs (at most {cap // 2**20} MiB), so it was not read (it may be damaged or crafted)."
        )
    return zf.read(member)


def read_keras_config(path: str) -> dict:
    """The model config of a .keras file, with the size cap; ModelInspectError for anything unreadable."""
    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(read_zip_member(zf, "config.json", MAX_CONFIG_BYTES, path))
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, RecursionError) as exc:
        if isinstance(exc, ModelInspectError):
            raise
        raise ModelInspectError(f"{path} is a damaged .keras file ({sanitize(exc)}).") from None
    if not isinstance(config, dict):
        raise ModelInspectError(f"{path} is a damaged .keras file (its config.json is not a JSON object).")
    return config


def _check_zipped_weights(zf: zipfile.ZipFile, path: str) -> None:
    """Every member of a .keras must not unpack far beyond its stored size; stored weights are checked inside."""
    for item in zf.infolist():
        problem = _weight_bomb_problem(item.file_size, item.compress_size, path, f"its {item.filename}")
        if problem:
            raise ModelInspectError(problem)
        if item.filename.endswith(".h5") and item.compress_type == zipfile.ZIP_STORED:
            import h5py

            # Stored (as Keras writes it): h5py reads only headers through the seekable member.
            with zf.open(item) as member, h5py.File(member, "r") as weights:
                problem = _weight_bomb_problem(_declared_bytes(weights), item.file_size, path,
                                               f"the weights in its {item.filename}")
            if problem:
                raise ModelInspectError(problem)


def _inspect_keras_zip(path: str) -> ModelFileInfo:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "config.json" not in names:
                raise ModelInspectError(f"{path} is a zip file but not a .keras model (it has no config.json).")
            config = json.loads(read_zip_member(zf, "config.json", MAX_CONFIG_BYTES, path))
            meta_keras = (json.loads(read_zip_member(zf, "metadata.json", MAX_METADATA_BYTES, path))
                          if "metadata.json" in names else {})
            metadata = (_metadata_from(read_zip_member(zf, METADATA_ENTRY, MAX_METADATA_BYTES, path), path)
                        if METADATA_ENTRY in names else None)
            _check_zipped_weights(zf, path)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, RecursionError) as exc:
        if isinstance(exc, ModelInspectError):
            raise
        raise ModelInspectError(f"{path} is a damaged .keras file ({sanitize(exc)}).") from None
    if not isinstance(config, dict):
        raise ModelInspectError(f"{path} is a damaged .keras file (its config.json is not a JSON object).")
    metadata, problems = clean_metadata(metadata, Path(path).name)
    version = meta_keras.get("keras_version") if isinstance(meta_keras, dict) else None
    return ModelFileInfo(
        path=path, container="keras", kind=FULL_MODEL, keras_version=sanitize(version, 40) if version else None,
        backend=None, metadata=metadata, metadata_problems=problems, **_summary(config, path),
    )


# ---- reading a Keras model config (any version) ---------------------------------------------------

def _summary(config: Any, path: str) -> dict:
    if not isinstance(config, dict):
        raise ModelInspectError(f"The model_config stored in {path} is not a JSON object; the file is damaged.")
    try:
        return summarize_config(config)
    except (TypeError, AttributeError, IndexError, KeyError, ValueError, RecursionError):
        raise ModelInspectError(f"The model architecture stored in {path} is malformed; the file is damaged.") from None


def _layer_list(config: dict) -> list[dict]:
    inner = config.get("config", {})
    if isinstance(inner, list):  # Keras <= 2.1 Sequential: the config is the layer list itself
        return inner
    return list(inner.get("layers", []) or [])


def _shape_from_layer(layer_config: dict) -> tuple | None:
    c = layer_config.get("config", {}) or {}
    for key in ("batch_shape", "batch_input_shape"):
        if c.get(key):
            return tuple(c[key][1:])
    if c.get("input_shape"):
        return tuple(c["input_shape"])
    return None


def _output_layer(config: dict, layers: list[dict]) -> tuple[dict | None, int]:
    inner = config.get("config", {})
    outputs = inner.get("output_layers") if isinstance(inner, dict) else None
    if outputs:
        # Functional: [[name, node, tensor], ...] or a single [name, node, tensor]
        if isinstance(outputs[0], str):
            outputs = [outputs]
        by_name = {lc.get("config", {}).get("name") or lc.get("name"): lc for lc in layers}
        return by_name.get(outputs[0][0]), len(outputs)
    return (layers[-1] if layers else None), 1


def _inbound_names(layer_config: dict) -> list[str]:
    names: list[str] = []
    for node in layer_config.get("inbound_nodes") or []:
        if isinstance(node, dict):  # Keras 3: {"args": [{"class_name": "__keras_tensor__", ...}]}
            _collect_history(node.get("args"), names)
        else:  # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
            names.extend(item[0] for item in node if isinstance(item, (list, tuple)) and item)
    return names


def _collect_history(obj: Any, names: list[str]) -> None:
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            names.append(obj["config"]["keras_history"][0])
        else:
            for v in obj.values():
                _collect_history(v, names)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _collect_history(v, names)


def _activation_of(layer_config: dict) -> str | None:
    cls = layer_config.get("class_name")
    c = layer_config.get("config", {}) or {}
    if cls == "Softmax":
        return "softmax"
    act = c.get("activation")
    if isinstance(act, dict):  # a serialized activation object
        act = act.get("config", {}).get("name") if act.get("class_name") == "function" else act.get("class_name")
    return str(act) if act is not None else None


def summarize_config(config: dict) -> dict:
    """model_class, input_shape, num_outputs, num_classes, final_activation, lambda_layers, notes."""
    layers = _layer_list(config)
    model_class = config.get("class_name")
    input_shape = None
    num_inputs = 1
    inner = config.get("config", {})
    if isinstance(inner, dict) and inner.get("input_layers"):
        first = inner["input_layers"]
        num_inputs = 1 if isinstance(first[0], str) else len(first)
        first = first if isinstance(first[0], str) else first[0]
        by_name = {lc.get("config", {}).get("name") or lc.get("name"): lc for lc in layers}
        if first[0] in by_name:
            input_shape = _shape_from_layer(by_name[first[0]])
    elif layers:
        input_shape = _shape_from_layer(layers[0])
    if input_shape is None and isinstance(config.get("build_config"), dict):
        shape = config["build_config"].get("input_shape")
        if shape:
            input_shape = tuple(shape[1:])
    out_layer, n_outputs = _output_layer(config, layers)
    activation, classes = None, None
    seen = 0
    by_name = {lc.get("config", {}).get("name") or lc.get("name"): lc for lc in layers}
    layer = out_layer
    # Walk back from the output through activation-only layers to the layer that sets the class count.
    while layer is not None and seen < 20:
        seen += 1
        c = layer.get("config", {}) or {}
        if activation is None:
            activation = _activation_of(layer)
        if "units" in c:
            classes = int(c["units"])
            break
        back = _inbound_names(layer)
        if back:
            layer = by_name.get(back[0])
        else:
            idx = next((i for i, lc in enumerate(layers) if lc is layer), None)
            layer = layers[idx - 1] if idx else None
    return {
        "model_class": model_class,
        "input_shape": tuple(input_shape) if input_shape else None,
        "num_inputs": num_inputs,
        "num_outputs": n_outputs,
        "num_classes": classes,
        "final_activation": activation,
        "lambda_layers": tuple(find_code_lambdas(config)),
        "in_model_scaling": find_input_scaling(config),
        "application": recognise_application(config),
    }


def find_code_lambdas(config: Any) -> list[str]:
    """Names of Lambda layers (at any depth) whose function is serialized Python bytecode."""
    found: list[str] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            if obj.get("class_name") == "Lambda" and isinstance(obj.get("config"), dict):
                c = obj["config"]
                fn = c.get("function")
                code = (
                    c.get("function_type") == "lambda"
                    or isinstance(fn, (list, tuple))
                    or (isinstance(fn, dict) and fn.get("class_name") == "__lambda__")
                    or c.get("output_shape_type") == "lambda"
                    or (isinstance(c.get("output_shape"), dict) and c["output_shape"].get("class_name") == "__lambda__")
                )
                if code:
                    found.append(str(c.get("name") or obj.get("name") or "lambda"))
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(config)
    return found
