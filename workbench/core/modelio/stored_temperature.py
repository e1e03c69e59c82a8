"""Writing a fitted temperature into an existing model file's workbench metadata, atomically.

The file is copied beside itself, the copy's metadata is changed (h5py for .h5; a rewritten zip for
.keras, so no duplicate entry), forced to disk and renamed over the file (`atomic_write.rewrite_atomic`):
a reader sees the old file or the new one, never a part. A read-only file or folder is refused with one
sentence before anything is written. No TensorFlow.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

from workbench.core.atomic_write import rewrite_atomic, write_target
from workbench.core.calibration import StoredTemperature

from .metadata import METADATA_ATTR, METADATA_ENTRY, TEMPERATURE_KEY, model_format, read_metadata


class TemperatureStoreError(ValueError):
    """The temperature could not be stored; one sentence, and the file is as it was."""


def writable_model_file(path: str | os.PathLike) -> Path:
    """The model file to rewrite (links followed), or a TemperatureStoreError sentence saying why it cannot be."""
    name = Path(path).name
    try:
        target, info = write_target(path)
    except OSError as exc:
        raise TemperatureStoreError(str(exc)) from None
    if info is None:
        raise TemperatureStoreError(f"{name} does not exist, so no temperature was stored.")
    model_format(target)  # a ValueError sentence for a file that is not .h5 or .keras
    # No write bit at all is a read-only file even for root, whom os.access never refuses.
    if not os.access(target, os.W_OK) or not info.st_mode & 0o222:
        raise TemperatureStoreError(f"{name} is read-only, so the temperature was not stored (the file is "
                                    "untouched); make it writable or copy it, then calibrate again.")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise TemperatureStoreError(f"The folder {target.parent} is not writable, so the temperature was not "
                                    f"stored in {name} (the file is untouched).")
    return target


def store_temperature(path: str | os.PathLike, record: StoredTemperature | None) -> Path:
    """Set (or, with None, remove) the model file's stored temperature; everything else in the file is kept."""
    target = writable_model_file(path)
    meta = read_metadata(target) or {}
    meta = {k: v for k, v in meta.items() if k != TEMPERATURE_KEY}
    if record is not None:
        meta[TEMPERATURE_KEY] = record.as_json()
    text = json.dumps(meta)
    build = _h5_copy if model_format(target) == "h5" else _keras_copy
    try:
        return rewrite_atomic(target, lambda src, tmp: build(src, tmp, text))
    except OSError as exc:
        raise TemperatureStoreError(f"The temperature could not be written into {target.name} "
                                    f"({exc.strerror or exc}); the file is untouched.") from None


def _h5_copy(src: Path, tmp: str, text: str) -> None:
    import h5py

    shutil.copyfile(src, tmp)
    with h5py.File(tmp, "a") as f:
        f.attrs[METADATA_ATTR] = text


def _keras_copy(src: Path, tmp: str, text: str) -> None:
    # zipfile's append mode would leave the old entry beside the new one; copy every other member instead.
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename == METADATA_ENTRY:
                continue
            with zin.open(item) as a, zout.open(item, "w") as b:
                shutil.copyfileobj(a, b, 1 << 20)
        zout.writestr(METADATA_ENTRY, text)
