"""`export_model`: a loaded model to SavedModel, LiteRT or ONNX that takes raw pixels, checked before it is placed."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from workbench.core.atomic_write import write_json_atomic, write_text_atomic
from workbench.core.modelio.quiet import quiet_keras_logs
from workbench.core.text import sanitize

from .card import card_markdown, card_paths, sha256_of
from .check import MIN_AGREEMENT, CheckResult, check_artefact
from .formats import (FORMATS, QUANTIZE, SUFFIXES, ExportError, representative_from, tf_log_level_kept, write_litert,
                      write_onnx, write_savedmodel)
from .graph import float32_model, serving_function
from .runtimes import runtime_name
from .sources import calibration_split, check_split, run_facts

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ExportReport:
    format: str
    path: str
    quantize: str
    size_bytes: int
    seconds: float  # conversion and writing, without the check
    check: CheckResult | None
    check_source: str  # where the check images came from, or why there were none
    card_md: str
    card_json: str
    metadata: dict
    notes: tuple[str, ...] = field(default=())

    @property
    def top1_drop(self) -> float | None:
        """Keras top-1 minus the artefact's, where the check images had labels."""
        c = self.check
        return None if c is None or c.top1 is None else c.keras_top1 - c.top1

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("format", "path", "quantize", "size_bytes", "seconds", "check_source",
                                               "card_md", "card_json", "notes")}
        out["notes"] = list(self.notes)
        out["check"] = self.check.to_dict() if self.check else None
        out["top1_drop"] = self.top1_drop
        return out


class ExportCancelled(ExportError):
    """The user stopped the export; nothing was written."""


def check_request(fmt: str, out_path: str | os.PathLike, quantize: str) -> Path:
    """The output path, or ExportError with one sentence for a request that cannot be met (nothing written);
    needs no model, so a command can refuse before loading one."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format {sanitize(fmt, 40)!r}; choose one of {', '.join(FORMATS)}.")
    if quantize not in QUANTIZE:
        raise ExportError(f"Unknown quantization {sanitize(quantize, 40)!r}; choose one of {', '.join(QUANTIZE)}.")
    if quantize != "none" and fmt != "litert":
        raise ExportError(f"Quantization ({quantize}) is offered for LiteRT only; export {fmt} with --quantize none.")
    out = Path(out_path)
    if SUFFIXES[fmt] and out.suffix.lower() != SUFFIXES[fmt]:
        raise ExportError(f"A {fmt} export is a file ending in {SUFFIXES[fmt]}; give --out like "
                          f"{sanitize(out.with_suffix(SUFFIXES[fmt]).name, 80)}.")
    if os.path.lexists(out):
        raise ExportError(f"{sanitize(out, 200)} already exists; remove it or choose another path.")
    if not out.parent.is_dir():
        raise ExportError(f"The folder {sanitize(out.parent, 200)} does not exist; create it first.")
    return out


def _metadata(loaded, quantize: str) -> dict:
    from workbench import __version__

    spec = loaded.preprocessing
    return {
        "format": 1,
        "exported_by": f"cifar-workbench {__version__}",
        "class_names": list(loaded.class_names),
        "input": {"shape": [int(d) for d in loaded.input_shape], "dtype": "float32", "layout": "NHWC",
                  "pixels": f"raw {_colour(loaded.input_shape[-1])} 0-255 (the preprocessing below is inside the model)"},
        "output": "probabilities",
        "preprocessing": {**spec.to_dict(), "describe": spec.describe(), "reason": loaded.preprocessing_reason,
                          "guessed": bool(loaded.preprocessing_guessed)},
        "softmax_added": bool(loaded.outputs_logits),
        "temperature": loaded.temperature,
        "dataset": loaded.dataset_id,
        "quantize": quantize,
        "source": {"file": Path(loaded.path).name if loaded.path else None,
                   "sha256": sha256_of(loaded.path) if loaded.path and Path(loaded.path).is_file() else None},
    }


def _colour(channels: int) -> str:
    return {1: "grey levels", 3: "RGB pixels"}.get(int(channels), f"{channels}-channel pixels")


def _versions(fmt: str) -> dict:
    import keras
    import tensorflow as tf

    from workbench import __version__

    out = {"tensorflow": tf.__version__, "keras": keras.__version__, "runtime": runtime_name(fmt),
           "workbench": __version__}
    if fmt == "onnx":
        with tf_log_level_kept():
            import tf2onnx

        out["converter"] = f"tf2onnx {tf2onnx.__version__}"
    return out


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        path.unlink()


def export_model(loaded, fmt: str, out_path: str | os.PathLike, *, quantize: str = "none",
                 calibration_images: np.ndarray | None = None, check_images: np.ndarray | None = None,
                 check_labels: np.ndarray | None = None, check_source: str | None = None, data_dir=None,
                 progress: Progress | None = None, cancel=None,
                 min_agreement: float | None = None) -> ExportReport:
    """Exports `loaded` (a modelio LoadedModel) to `out_path` and checks the artefact in its own runtime.

    The artefact takes float32 raw RGB pixels 0–255 (NHWC, the model's input size) and returns
    probabilities. It is written beside `out_path` under a temporary name and renamed into place only
    after its check passes (float exports: argmax agreement with Keras ≥ 0.99), with the model card;
    otherwise ExportError says why with the figures and nothing is left at `out_path`.
    `cancel` (a threading.Event) stops it between steps and check batches with ExportCancelled, nothing
    written; `min_agreement` is the float exports' pass mark (default MIN_AGREEMENT)."""
    say = progress or (lambda _text: None)
    min_agreement = MIN_AGREEMENT if min_agreement is None else min_agreement

    def stop_if_cancelled(*_done) -> None:
        if cancel is not None and cancel.is_set():
            raise ExportCancelled("The export was cancelled; nothing was written.")

    from workbench.core.modelio.artefacts import not_available

    refusal = not_available(loaded, "Export")
    if refusal:  # export needs the Keras model; export the file it came from instead
        raise ExportError(refusal)
    out = check_request(fmt, out_path, quantize)
    if len(loaded.input_shape) != 3 or any(d is None for d in loaded.input_shape):
        raise ExportError(f"{loaded.name} takes input {loaded.input_shape}, not images of one fixed size, so it "
                          "cannot be exported for raw pixels.")
    # The check compares with Keras under the same preprocessing, so it cannot catch a wrong guess: say it.
    notes: list[str] = [f"The preprocessing built in ({loaded.preprocessing.describe()}) was {loaded.preprocessing_reason}; "
                        "the check cannot tell whether the guess is right."] if loaded.preprocessing_guessed else []
    notes += list(loaded.warnings)
    representative = None
    if quantize == "int8":
        if calibration_images is None:
            calibration_images, where = calibration_split(loaded, data_dir)
            if calibration_images is None:
                raise ExportError(f"int8 needs representative images and {where}; give calibration images "
                                  "(--calibration-dataset ID).")
        representative = representative_from(loaded.prepare(np.asarray(calibration_images)))
    if check_images is None:
        check_images, check_labels, check_source = check_split(loaded, data_dir)
    else:
        check_source = check_source or f"the {len(check_images)} images given"
    model, note = float32_model(loaded.model)
    if note:
        notes.append(f"{loaded.name} {note}.")
    metadata = _metadata(loaded, quantize)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    try:
        temp = work / (out.name if fmt != "savedmodel" else "savedmodel")
        started = time.perf_counter()
        say(f"Converting to {fmt}…")
        serve = serving_function(loaded, model)
        # The converters' deprecation chatter (absl, tf2onnx on numpy 2) is not the user's to act on.
        with quiet_keras_logs(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", "Statistics for quantized inputs", UserWarning)
            if fmt == "onnx":
                write_onnx(serve, temp, metadata)
            elif fmt == "litert":
                write_litert(serve, temp, metadata, quantize, representative)
            else:
                write_savedmodel(serve, model, temp, metadata)
        seconds = time.perf_counter() - started
        stop_if_cancelled()  # a converter cannot be interrupted; the next step can
        check = None
        if check_images is not None and len(check_images):
            say(f"Checking {len(check_images)} images in {runtime_name(fmt)}…")
            check = check_artefact(loaded, temp, fmt, check_images, check_labels, progress=stop_if_cancelled)
            if quantize in ("none", "float16") and check.agreement < min_agreement:
                raise ExportError(
                    f"The {fmt} export agrees with Keras on only {100 * check.agreement:.1f} % of {check.images} "
                    f"images (max |Δp| {check.max_abs_diff:.3g}; at least {100 * min_agreement:.0f} % needed), so "
                    "nothing was written.")
        size = sum(p.stat().st_size for p in temp.rglob("*") if p.is_file()) if temp.is_dir() else temp.stat().st_size
        card = {"format": fmt, "quantize": quantize, "metadata": metadata, "check": check.to_dict() if check else None,
                "check_source": check_source, "size_bytes": size, "artefact_sha256": sha256_of(temp),
                "export_seconds": seconds, "run": run_facts(loaded), "versions": _versions(fmt), "notes": notes}
        md_path, json_path = card_paths(out, fmt)
        if fmt == "savedmodel":  # the card travels inside the folder
            md_path, json_path = temp / md_path.name, temp / json_path.name
        write_json_atomic(json_path, card)
        write_text_atomic(md_path, card_markdown(card))
        stop_if_cancelled()
        os.replace(temp, out)
        if fmt == "savedmodel":
            md_path, json_path = card_paths(out, fmt)
    finally:
        _remove(work)
    return ExportReport(fmt, str(out), quantize, size, seconds, check, check_source, str(md_path), str(json_path),
                        metadata, tuple(notes))
