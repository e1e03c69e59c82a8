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

from workbench.core.calibration import CalibrationError, StoredTemperature
from workbench.core.files import check_regular_file
from workbench.core.images.fit import FIT_MODES
from workbench.core.text import sanitize

from .limits import MAX_CLASS_NAMES, MAX_METADATA_BYTES

METADATA_ATTR = "workbench_metadata"
METADATA_ENTRY = "workbench_metadata.json"
METADATA_FORMAT = 1
# Keys build_metadata writes itself; anything else lives under "extra".
# "temperature" is never carried over by a re-save: it was fitted to the old file's weights.
_OWN_KEYS = ("format", "class_names", "dataset", "preprocessing", "input_shape", "fit", "output", "arch",
             "workbench_version", "temperature")
TEMPERATURE_KEY = "temperature"  # a fitted temperature (calibration.StoredTemperature.as_json())
H5_SUFFIXES = (".h5", ".hdf5")
KERAS_SUFFIXES = (".keras",)


def build_metadata(
    *,
    class_names: Iterable[str],
    dataset_id: str,
    preprocessing: str = "raw_0_255",
    input_shape: Iterable[int] = (32, 32, 3),
    arch: str | None = None,
    fit: str | None = None,
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
    if fit is not None:
        # How the training set's images of another shape were fitted (one of FIT_MODES); classify and
        # evaluate apply the same rule. Absent for fixed-size official sets.
        if fit not in FIT_MODES:
            raise ValueError(f"The resize rule must be one of {', '.join(FIT_MODES)}, not {fit!r}.")
        meta["fit"] = fit
    extra = _flat_extra(extra)
    if extra:
        meta["extra"] = extra
    try:
        json.dumps(meta)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The model metadata cannot be stored as JSON: {exc}.") from None
    return meta


def _flat_extra(extra: dict[str, Any] | None) -> dict[str, Any]:
    # Re-saving a model passes its old metadata as `extra`; lift a nested "extra" (and drop the keys
    # build_metadata writes itself) so converting .h5 <-> .keras never nests {"extra": {"extra": ...}}.
    flat: dict[str, Any] = {}
    while isinstance(extra, dict) and extra:
        inner = extra.get("extra")
        flat = {**{k: v for k, v in extra.items() if k != "extra" and k not in _OWN_KEYS}, **flat}
        extra = inner if isinstance(inner, dict) else None
    return flat


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
    except (ValueError, RecursionError):
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
    check_regular_file(path, "model file")
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
            if zf.getinfo(METADATA_ENTRY).file_size > MAX_METADATA_BYTES:
                raise ValueError(f"The workbench metadata in {path} is larger than "
                                 f"{MAX_METADATA_BYTES // 2**20} MiB, so it was not read.")
            raw = zf.read(METADATA_ENTRY)
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is not a readable .keras model file.") from None
    return _decode(raw, path)


# ---- checking metadata that came from a file ----------------------------------------------------

def clean_metadata(meta: Any, source: str) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    """Metadata with every field checked (types, finite numbers, lengths) plus one sentence per dropped field.

    A field that fails is dropped (the loader then guesses or asks), never passed on; text is sanitised.
    """
    if meta is None:
        return None, ()
    if not isinstance(meta, dict):
        return None, (f"The workbench metadata in {source} is not a JSON object, so it was ignored.",)
    clean: dict[str, Any] = {}
    problems: list[str] = []

    def drop(key: str, why: str) -> None:
        problems.append(f"The workbench metadata in {source} has {why}, so its {key} were ignored."
                        if key.endswith("s") else
                        f"The workbench metadata in {source} has {why}, so its {key} was ignored.")

    names = meta.get("class_names")
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            drop("class names", "class_names that are not a list of texts")
        elif not 2 <= len(names) <= MAX_CLASS_NAMES:
            drop("class names", f"{len(names)} class names (a classifier has 2 to {MAX_CLASS_NAMES})")
        else:
            clean["class_names"] = [sanitize(n) for n in names]
    for key in ("dataset", "arch", "workbench_version"):
        value = meta.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            clean[key] = sanitize(value, 100)
        else:
            drop(key, f"a {key} that is not a text")
    prep = meta.get("preprocessing")
    if prep is not None:
        from .preprocessing import PreprocessingError, preprocessing_from

        try:
            preprocessing_from(prep)
            clean["preprocessing"] = prep
        except PreprocessingError as exc:
            drop("preprocessing", f"an unusable preprocessing ({str(exc).rstrip('.')})")
    shape = meta.get("input_shape")
    if shape is not None:
        if isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
            clean["input_shape"] = shape
        else:
            drop("input shape", "an input_shape that is not a list of positive whole numbers")
    fit = meta.get("fit")
    if fit is not None:
        if fit in FIT_MODES:
            clean["fit"] = fit
        else:
            drop("resize rule", f"a fit that is not one of {', '.join(FIT_MODES)}")
    output = meta.get("output")
    if output is not None:
        if output in ("probabilities", "logits"):
            clean["output"] = output
        else:
            drop("output kind", "an output that is neither \"probabilities\" nor \"logits\"")
    if meta.get(TEMPERATURE_KEY) is not None:
        try:
            clean[TEMPERATURE_KEY] = StoredTemperature.from_json(meta[TEMPERATURE_KEY]).as_json()
        except CalibrationError as exc:  # the model is used uncalibrated, and the sentence says why
            drop("temperature", f"{exc} (not usable for calibration)")
    if isinstance(meta.get("format"), int) and not isinstance(meta.get("format"), bool):
        clean["format"] = meta["format"]
    if isinstance(meta.get("extra"), dict):
        clean["extra"] = meta["extra"]
    return clean, tuple(problems)

