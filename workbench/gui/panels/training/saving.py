"""Saving a run's model elsewhere and exporting its history: atomic copies on the GUI thread (small
files), a format conversion on a worker thread (it loads TensorFlow)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MODEL_SUFFIXES = (".h5", ".keras")


def model_target(path: str) -> Path:
    """Where a save goes: the name the user typed, as .h5 unless it already says .h5 or .keras."""
    target = Path(path)
    return target if target.suffix.lower() in MODEL_SUFFIXES else target.with_suffix(".h5")


def copy_atomically(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy ``source`` to ``target`` through a temporary file beside it: the target is whole or untouched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    try:
        shutil.copy2(source, tmp)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def convert_model(source: str, target: str) -> str:
    """Worker-thread function: re-save a model in the other format (.h5 <-> .keras) through core,
    keeping its metadata. Loading imports TensorFlow, on this worker thread only."""
    from workbench.core.modelio import load_any_model, read_metadata, save_model

    meta = read_metadata(source) or {}
    loaded = load_any_model(source)
    # The whole metadata goes in as `extra`: build_metadata lifts its "extra" and drops the keys it writes
    # itself, so unknown keys from other versions are kept and nothing nests one level per conversion.
    # The input shape comes from the model itself (save_model reads it), as classify will.
    save_model(
        loaded.model, target,
        class_names=meta.get("class_names") or list(loaded.class_names),
        dataset_id=meta.get("dataset") or loaded.dataset_id or "",
        preprocessing=meta.get("preprocessing", "raw_0_255"),
        arch=meta.get("arch"),
        fit=meta.get("fit"),
        extra=meta or None,
    )
    return target


def failure_sentence(what: str, target: str | os.PathLike, exc: BaseException | str) -> str:
    """One sentence for a failed save: the file, what went wrong, what to do (no raw "[Errno 13]")."""
    reason = exc if isinstance(exc, str) else (getattr(exc, "strerror", None) or str(exc))
    return f"Could not save {what} to {target}: {reason}. Choose another folder or name and try again."
