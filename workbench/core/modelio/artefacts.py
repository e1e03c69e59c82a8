"""Exported artefacts — a TensorFlow SavedModel folder, a LiteRT `.tflite`, an `.onnx` — run in their own
runtime (`Runner`), their workbench metadata read back (`read_artefact_metadata`), and opened for
prediction only (`open_artefact`: a LoadedModel whose `model` is an `ArtefactModel`, not a Keras model).

The export package writes these (core/export) and reuses the runner and the reader from here. An
artefact of ours carries `workbench.json` (class names, input size; it takes raw pixels 0–255 and returns
probabilities); one without it gets the usual guesses, with the reasons said.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.core.files import check_regular_file
from workbench.core.text import sanitize

from .guesses import choose_class_names, choose_preprocessing
from .inspect import FULL_MODEL, ModelFileInfo, ModelInspectError, describe_input, image_input_problem, read_zip_member
from .limits import MAX_CLASS_NAMES, MAX_METADATA_BYTES
from .loaded_model import CHOSEN_PREPROCESSING, Choices, LoadedModel, ModelLoadError
from .preprocessing import RAW_0_255, PreprocessingError, preprocessing_from

META_NAME = "workbench.json"
ONNX_META_KEY = "workbench"
FORMAT_TITLES = {"savedmodel": "SavedModel", "litert": "LiteRT", "onnx": "ONNX"}
# An exported CIFAR-style classifier is megabytes; a ResNet-152 is ~250 MB. Larger is refused unread,
# since every runtime reads the whole artefact into memory.
MAX_ARTEFACT_BYTES = 1024 * 1024 * 1024
MAX_SAVEDMODEL_FILES = 10_000  # a folder walked for its size stops here (a SavedModel has a handful)
RAW_PIXELS_RECORDED = "recorded in the artefact, which has its preprocessing built in"


def inference_only_note(fmt: str) -> str:
    return (f"Inference only: layers, Grad-CAM and calibration are not available for an exported "
            f"{FORMAT_TITLES[fmt]} model.")


def not_available(loaded, what: str) -> str | None:
    """The sentence saying `what` (e.g. "Grad-CAM") cannot be done with this loaded model, or None when it can."""
    model = getattr(loaded, "model", loaded)
    if isinstance(model, ArtefactModel):
        return f"{what} is not available for an exported {FORMAT_TITLES[model.fmt]} model ({model.name}): it runs inference only."
    return None


def artefact_format(path: str | os.PathLike) -> str | None:
    """'savedmodel' (a folder, or its saved_model.pb), 'litert' (.tflite), 'onnx' (.onnx), or None."""
    p = Path(path)
    if p.is_dir():
        return "savedmodel"
    if p.name == "saved_model.pb":
        return "savedmodel"
    return {".tflite": "litert", ".onnx": "onnx"}.get(p.suffix.lower())


def artefact_path(path: str | os.PathLike) -> Path:
    """The path the runtime opens: a SavedModel's folder when its saved_model.pb was picked."""
    p = Path(path)
    return p.parent if p.name == "saved_model.pb" and p.is_file() else p


def runtime_name(fmt: str) -> str:
    if fmt == "savedmodel":
        import tensorflow as tf

        return f"TensorFlow {tf.__version__}"
    if fmt == "litert":
        try:
            from importlib.metadata import version

            return f"ai-edge-litert {version('ai-edge-litert')}"
        except Exception:  # not installed: TensorFlow's own interpreter runs it
            import tensorflow as tf

            return f"tf.lite.Interpreter (TensorFlow {tf.__version__})"
    import onnxruntime

    return f"ONNX Runtime {onnxruntime.__version__}"


class Runner:
    """Predicts with the artefact at `path` on float32 N × H × W × C (ours: raw pixels → probabilities).

    Any single-input, single-output artefact runs: a SavedModel's serving signature is called with its one
    input and gives its one output ("probabilities" in ours)."""

    def __init__(self, path: str | Path, fmt: str):
        self.fmt = fmt
        path = str(path)
        if fmt == "savedmodel":
            import tensorflow as tf

            signatures = tf.saved_model.load(path).signatures
            if "serving_default" not in signatures:
                raise ModelLoadError(f"{Path(path).name} has no serving signature (serving_default), so it cannot "
                                     "be called.")
            self._fn = signatures["serving_default"]
            inputs = self._fn.structured_input_signature[1]
            if len(inputs) != 1:
                raise ModelLoadError(f"{Path(path).name} takes {len(inputs)} inputs; only single-input image "
                                     "classifiers can be used here.")
            self._key, spec = next(iter(inputs.items()))
            self.input_shape = tuple(spec.shape)[1:]
            outputs = self._fn.structured_outputs
            self._out = "probabilities" if "probabilities" in outputs else next(iter(outputs))
        elif fmt == "litert":
            try:
                from ai_edge_litert.interpreter import Interpreter
            except ImportError:  # TensorFlow 2.21 still ships its (deprecated) interpreter
                import tensorflow as tf

                Interpreter = tf.lite.Interpreter
            self._interpreter = Interpreter(model_path=path, num_threads=1)
            self._batch = None
            detail = self._interpreter.get_input_details()[0]
            signature = detail.get("shape_signature")
            shape = signature if signature is not None and len(signature) else detail["shape"]
            self.input_shape = tuple(None if int(d) < 0 else int(d) for d in shape)[1:]
        else:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            self._session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            first = self._session.get_inputs()[0]
            self._input = first.name
            self.input_shape = tuple(d if isinstance(d, int) else None for d in first.shape)[1:]

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(pixels, dtype=np.float32)
        if self.fmt == "savedmodel":
            return np.asarray(self._fn(**{self._key: x})[self._out], np.float32)
        if self.fmt == "onnx":
            return np.asarray(self._session.run(None, {self._input: x})[0], np.float32)
        it = self._interpreter
        if self._batch != len(x):
            it.resize_tensor_input(it.get_input_details()[0]["index"], list(x.shape))
            it.allocate_tensors()
            self._batch = len(x)
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        return np.asarray(it.get_tensor(it.get_output_details()[0]["index"]), np.float32)

    def onnx_metadata(self) -> str | None:
        """The workbench JSON an ONNX session carries (read from the session: no second parse of the file)."""
        return self._session.get_modelmeta().custom_metadata_map.get(ONNX_META_KEY)


def read_artefact_metadata(path: str | Path, fmt: str) -> dict:
    """The workbench metadata recorded inside an exported artefact (KeyError/OSError/ValueError when absent)."""
    path = Path(path)
    if fmt == "savedmodel":
        meta = path / "assets" / META_NAME
        # A regular file only (a link to /dev/zero would never end), and a small one.
        if check_regular_file(meta, "metadata file").st_size > MAX_METADATA_BYTES:
            raise ValueError(f"{META_NAME} is larger than {MAX_METADATA_BYTES // 2**20} MiB")
        return json.loads(meta.read_text(encoding="utf-8"))
    if fmt == "litert":
        with zipfile.ZipFile(path) as archive:
            return json.loads(read_zip_member(archive, META_NAME, MAX_METADATA_BYTES, str(path)))
    if fmt == "onnx":
        import onnx

        props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        return json.loads(props[ONNX_META_KEY])
    raise ValueError(f"Unknown artefact format {fmt!r}")


@dataclass(frozen=True)
class ArtefactInfo(ModelFileInfo):
    """What an exported artefact is, described in its own terms (no Keras version, no layers)."""

    runtime: str = ""  # e.g. "ONNX Runtime 1.22.0"
    exported_by: str = ""  # e.g. "cifar-workbench 0.9", from its metadata

    def describe(self) -> str:
        name = Path(self.path).name
        by = f", exported by {self.exported_by}" if self.exported_by else ""
        lines = [f"{name}: an exported {FORMAT_TITLES[self.container]} model{by}, run in {self.runtime}."]
        if self.input_shape:
            lines.append(f"Input: {describe_input(self.input_shape)}.")
        if self.num_classes:
            lines.append(f"Output: {self.num_classes} classes.")
        if self.metadata is not None:
            lines.append(f"Workbench metadata present (dataset {self.metadata.get('dataset')}; it takes raw pixels "
                         "and has its preprocessing built in).")
        else:
            lines.append("No workbench metadata: class names and preprocessing are guessed and can be changed.")
        return "\n".join(lines)


class ArtefactModel:
    """Stands where a Keras model would in a LoadedModel: called on float pixels, returns numpy outputs.

    It has no layers: whatever needs them (layer graph, Grad-CAM, activations, calibration) asks
    `not_available` for its sentence."""

    runs_outside_keras = True

    def __init__(self, runner: Runner, fmt: str, name: str):
        self.runner, self.fmt, self.name = runner, fmt, name

    def __call__(self, x, training: bool = False) -> np.ndarray:
        return self.runner(np.asarray(x, np.float32))


def _size_problem(path: Path, fmt: str) -> str | None:
    name = path.name
    if fmt == "savedmodel":
        if not (path / "saved_model.pb").is_file():
            return (f"{name} is a folder without saved_model.pb, so it is not a TensorFlow SavedModel "
                    "(and a folder is not a model file).")
        total, count = 0, 0
        for root, _dirs, files in os.walk(path):
            for f in files:
                count += 1
                if count > MAX_SAVEDMODEL_FILES:
                    return f"{name} holds more than {MAX_SAVEDMODEL_FILES:,} files, far more than a SavedModel has."
                try:
                    total += os.stat(os.path.join(root, f)).st_size
                except OSError:
                    pass
    else:
        try:
            total = path.stat().st_size
        except OSError as exc:
            return f"{name} cannot be read ({exc.strerror})."
        if not path.is_file():
            return f"{name} is not a regular file."
        if total == 0:
            return f"{name} is empty, so it holds no model."
    if total > MAX_ARTEFACT_BYTES:
        return (f"{name} is {total / 2**30:.1f} GiB, more than the {MAX_ARTEFACT_BYTES // 2**30} GiB the workbench "
                "opens (the runtime would read all of it into memory).")
    return None


def _metadata(path: Path, fmt: str, runner: Runner) -> tuple[dict | None, str]:
    """(the artefact's workbench metadata, or None; a sentence when it was present but unusable)."""
    try:
        if fmt == "onnx":
            raw = runner.onnx_metadata()
            if raw is None:
                return None, ""
            if len(raw) > MAX_METADATA_BYTES:
                return None, f"{path.name}'s workbench metadata is too large and was ignored."
            meta = json.loads(raw)
        else:
            meta = read_artefact_metadata(path, fmt)
    except (OSError, KeyError, zipfile.BadZipFile, ModelInspectError):
        return None, ""  # not one of ours
    except (ValueError, RecursionError):
        return None, f"{path.name}'s workbench metadata is not valid JSON and was ignored."
    if not isinstance(meta, dict):
        return None, f"{path.name}'s workbench metadata is not a JSON object and was ignored."
    return meta, ""


def _class_names(meta: dict | None) -> list[str] | None:
    names = (meta or {}).get("class_names")
    if isinstance(names, list) and 0 < len(names) <= MAX_CLASS_NAMES and all(isinstance(n, str) for n in names):
        return [sanitize(n, 200) for n in names]
    return None


def open_artefact(path: str | os.PathLike, fmt: str, choices: Choices) -> LoadedModel:
    """An exported artefact opened for prediction; ModelLoadError (one sentence) when it cannot be used."""
    where = artefact_path(path)
    name = where.name
    problem = _size_problem(where, fmt)
    if problem:
        raise ModelLoadError(problem)
    title = FORMAT_TITLES[fmt]
    try:
        runner = Runner(where, fmt)
    except ModelLoadError:
        raise
    except ImportError as exc:
        raise ModelLoadError(f"{name} is a {title} model but its runtime is not installed ({exc.name}); "
                             "install the workbench's export extra.") from None
    except Exception:  # each runtime raises its own types for a damaged file (protobuf, flatbuffer, RuntimeError)
        raise ModelLoadError(f"{name} cannot be read as a {title} model; it may be truncated or damaged.") from None
    meta, meta_problem = _metadata(where, fmt, runner)
    input_shape = runner.input_shape
    recorded = (meta or {}).get("input", {}).get("shape") if isinstance((meta or {}).get("input"), dict) else None
    if isinstance(recorded, list) and len(recorded) == 3 and all(isinstance(d, int) and d > 0 for d in recorded):
        input_shape = tuple(recorded)
    problem = image_input_problem(name, input_shape)
    if problem:
        raise ModelLoadError(problem)
    names = _class_names(meta)
    probe_shape = tuple(32 if d is None else d for d in input_shape)
    try:
        probe = runner(np.random.default_rng(0).integers(0, 256, size=(2, *probe_shape)).astype(np.float32))
    except Exception:
        raise ModelLoadError(f"{name} failed when run on {'×'.join(map(str, probe_shape))} "
                             f"images in {title}; it cannot be used to classify images.") from None
    probe = np.asarray(probe).reshape(2, -1)
    num_classes = probe.shape[1]
    if meta is not None and meta.get("output") in ("probabilities", "logits"):
        outputs_logits = meta["output"] == "logits"
    else:
        outputs_logits = not (np.all(probe >= -1e-6) and np.allclose(probe.sum(axis=1), 1.0, atol=1e-3))
    dataset = meta.get("dataset") if meta is not None else None
    dataset = dataset if isinstance(dataset, str) and 0 < len(dataset) <= 64 and dataset.isprintable() else None
    info_meta = {"class_names": names, "dataset": dataset} if meta is not None else None
    try:
        runtime = runtime_name(fmt)
    except ImportError:
        runtime = title
    exported_by = sanitize((meta or {}).get("exported_by") or "", 100) if meta is not None else ""
    info = ArtefactInfo(path=str(where), container=fmt, kind=FULL_MODEL, model_class=title,
                        input_shape=input_shape, num_inputs=1, num_outputs=1, num_classes=num_classes,
                        metadata=info_meta, runtime=runtime, exported_by=exported_by)
    if choices.preprocessing is not None:
        try:
            spec, reason, guessed = preprocessing_from(choices.preprocessing), choices.preprocessing_reason, False
        except PreprocessingError as exc:
            raise ModelLoadError(str(exc)) from None
    elif meta is not None:
        spec, reason, guessed = RAW_0_255, RAW_PIXELS_RECORDED, False
    else:
        spec, reason, guessed = choose_preprocessing(info, choices, None)
    class_names, dataset_id, source = choose_class_names(info, choices, num_classes, input_shape)
    notes = [inference_only_note(fmt)]
    temperature = (meta or {}).get("temperature")
    if isinstance(temperature, (int, float)):
        notes.append(f"A temperature of {temperature:g} is built into its probabilities (calibrated when exported).")
    return LoadedModel(model=ArtefactModel(runner, fmt, name), info=info, class_names=class_names,
                       preprocessing=spec, outputs_logits=outputs_logits, input_shape=tuple(input_shape),
                       dataset_id=dataset_id, notes=tuple(notes), preprocessing_reason=reason or CHOSEN_PREPROCESSING,
                       preprocessing_guessed=guessed, class_names_source=source,
                       file_warnings=(meta_problem,) if meta_problem else ())
