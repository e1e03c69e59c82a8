"""What a saved model expects and means, stored inside the model file itself.

.h5 files carry a JSON string in the HDF5 root attribute `workbench_metadata`; .keras files carry
a zip entry `workbench_metadata.json`. Reading needs only h5py/zipfile, never TensorFlow.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any, Iterable

METADATA_ATTR = "workbench_metadata"
METADATA_ENTRY = "workbench_metadata.json"
METADATA_FORMAT = 1
H5_SUFFIXES = (".h5", ".hdf5")
KERAS_SUFFIXES = (".keras",)


def build_metadata(
    *,
    class_names: Iterable[str],
    dataset_id: str,
    preprocessing: str = "raw_0_255",
    input_shape: Iterable[int] = (32, 32, 3),
    arch: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The metadata dictionary (see docs/DESIGN.md, "Model files"); `extra` must be JSON-serialisable."""
    from workbench import __version__

    meta: dict[str, Any] = {
        "format": METADATA_FORMAT,
        "class_names": [str(name) for name in class_names],
        "dataset": dataset_id,
        "preprocessing": preprocessing,
        "input_shape": [int(n) for n in input_shape],
        "output": "probabilities",
        "arch": arch,
        "workbench_version": __version__,
    }
    if extra:
        meta["extra"] = dict(extra)
    try:
        json.dumps(meta)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The model metadata cannot be stored as JSON: {exc}.") from None
    return meta


def model_format(path: str | os.PathLike) -> str:
    """'h5' or 'keras' from the file suffix; a ValueError sentence for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix in H5_SUFFIXES:
        return "h5"
    if suffix in KERAS_SUFFIXES:
        return "keras"
    raise ValueError(f"Model files must end in .h5 or .keras; {os.fspath(path)!r} does not.")


def write_metadata(path: str | os.PathLike, meta: dict[str, Any]) -> None:
    """Add the metadata to an existing model file in place (used on the temp file before renaming)."""
    text = json.dumps(meta)
    if model_format(path) == "h5":
        import h5py

        with h5py.File(path, "a") as f:
            f.attrs[METADATA_ATTR] = text
    else:
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(METADATA_ENTRY, text)


def _decode(raw: Any, path: str) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        meta = json.loads(str(raw))
    except ValueError:
        raise ValueError(f"The workbench metadata in {path} is not valid JSON.") from None
    if not isinstance(meta, dict):
        raise ValueError(f"The workbench metadata in {path} is not a JSON object.")
    return meta


def read_metadata(path: str | os.PathLike) -> dict[str, Any] | None:
    """The metadata stored in a model file, or None for a file saved without it (e.g. a legacy model).

    Raises FileNotFoundError for a missing file and ValueError (one sentence) for a file that is
    not an HDF5 or .keras model file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"There is no model file at {path}.")
    fmt = model_format(path)
    if fmt == "h5":
        import h5py

        try:
            with h5py.File(path, "r") as f:
                raw = f.attrs.get(METADATA_ATTR)
        except OSError:
            raise ValueError(f"{path} is not a readable HDF5 model file.") from None
        return None if raw is None else _decode(raw, path)
    try:
        with zipfile.ZipFile(path) as zf:
            if METADATA_ENTRY not in zf.namelist():
                return None
            raw = zf.read(METADATA_ENTRY)
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is not a readable .keras model file.") from None
    return _decode(raw, path)
