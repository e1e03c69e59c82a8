"""Saving a model with its metadata, atomically: the old file stays intact until the new one is complete.

Files are saved without compile settings (.h5: include_optimizer=False; .keras: its config.json
without "compile_config"), so they load in plain Keras 3, compiled or not, with no custom objects
(a model straight out of training carries our TopKAccuracy metric, which plain Keras cannot find).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import zipfile
from pathlib import Path
from typing import Any, Iterable

from workbench.core.tf_import import ensure_tensorflow

from .metadata import build_metadata, model_format, write_metadata
from .quiet import quiet_keras_logs


def _target(path: str | os.PathLike) -> Path:
    target = Path(path)
    if target.suffix == "":
        target = target.with_suffix(".h5")  # .h5 is the default format
    model_format(target)  # a ValueError sentence for an unknown suffix
    folder = target.parent
    if not folder.is_dir():
        raise ValueError(f"Cannot save the model to {target}: the folder {folder} does not exist.")
    if target.is_dir():
        raise ValueError(f"Cannot save the model to {target}: that is a folder.")
    return target


def _drop_compile_config(path: str) -> None:
    """Rewrites a fresh .keras zip without the compile settings in its config.json (members copied as they are)."""
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
        if config.pop("compile_config", None) is None:
            return
        rewritten = path + ".part"
        try:
            with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as out:
                for item in zf.infolist():
                    if item.filename == "config.json":
                        out.writestr(item, json.dumps(config))
                    else:
                        with zf.open(item) as src, out.open(item, "w") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(rewritten)
            raise
    os.replace(rewritten, path)


def _output_classes(model: Any) -> int | None:
    shape = getattr(model, "output_shape", None)
    if isinstance(shape, tuple) and shape and isinstance(shape[-1], int):
        return shape[-1]
    return None


def save_model(
    model: Any,
    path: str | os.PathLike,
    *,
    class_names: Iterable[str],
    dataset_id: str,
    preprocessing: str = "raw_0_255",
    arch: str | None = None,
    fit: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save `model` with its metadata to `path` (.h5 by default, or .keras) and return the final path.

    Writes a temp file in the same folder, adds the metadata, then os.replace()s it over `path`,
    so an interrupted save leaves any previous file untouched and no temp file behind.
    """
    ensure_tensorflow()
    target = _target(path)
    class_names = [str(name) for name in class_names]
    classes = _output_classes(model)
    if classes is not None and classes != len(class_names):
        raise ValueError(f"The model predicts {classes} classes but {len(class_names)} class names were given.")
    input_shape = tuple(model.input_shape[1:]) if getattr(model, "input_shape", None) else (32, 32, 3)
    meta = build_metadata(
        class_names=class_names,
        dataset_id=dataset_id,
        preprocessing=preprocessing,
        input_shape=input_shape,
        arch=arch if arch is not None else getattr(model, "name", None),
        fit=fit,
        extra=extra,
    )
    if not os.access(target.parent, os.W_OK):
        raise OSError(f"Cannot save the model in {target.parent}: the folder is not writable.")
    # Keras picks the format from the suffix, so the temp name keeps the target's suffix;
    # letting Keras create the file gives it the usual permissions (mkstemp would make it 0600).
    tmp = str(target.parent / f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")
    try:
        if model_format(target) == "h5":
            with quiet_keras_logs():
                model.save(tmp, include_optimizer=False)
        else:
            model.save(tmp)
            _drop_compile_config(tmp)
        write_metadata(tmp, meta)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    return target
