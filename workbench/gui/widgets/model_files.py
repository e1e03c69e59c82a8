"""Model and image files: suffixes and file-dialog filters, the recent models list, and dropped paths split
into models and images, or recognised as an official dataset download (``AcceptsModelDrops`` for widgets
that take a dropped model file)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from workbench.gui.settings import open_settings

MODEL_SUFFIXES = (".h5", ".hdf5", ".keras", ".tflite", ".onnx")
# A SavedModel is a folder, which a file dialog cannot pick: its saved_model.pb is picked instead and the
# core opens the folder around it (a dropped SavedModel folder is taken as it is).
SAVED_MODEL_FILE = "saved_model.pb"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MODEL_FILTER = ("Models (*.h5 *.hdf5 *.keras *.tflite *.onnx saved_model.pb);;Keras models (*.h5 *.hdf5 *.keras);;"
                "Exported models: LiteRT, ONNX, a SavedModel's saved_model.pb (*.tflite *.onnx saved_model.pb);;"
                "All files (*)")
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
RECENT_KEY = "models/recent"
RECENT_MAX = 10


def is_model_path(path: str | os.PathLike) -> bool:
    p = Path(path)
    if p.suffix.lower() in MODEL_SUFFIXES or p.name == SAVED_MODEL_FILE:
        return True
    try:
        return p.is_dir() and (p / SAVED_MODEL_FILE).is_file()
    except OSError:
        return False


def split_paths(paths: Iterable[str | os.PathLike]) -> tuple[list[str], list[str]]:
    """(model files, everything else): dropped non-model files are treated as images, so a
    wrong file gets a clear message in its own row instead of vanishing."""
    models, others = [], []
    for p in paths:
        (models if is_model_path(p) else others).append(os.fspath(p))
    return models, others


# Names of official dataset files and folders: a drop holding one is a data folder, not the user's images.
OFFICIAL_NAMES = ("cifar-10-batches-py", "cifar-100-python", "data_batch_1", "mnist.npz", "fashion-mnist",
                  "train-images-idx3-ubyte.gz")


def official_data_path(path: str) -> bool:
    """Whether a dropped path is (or holds) a CIFAR / MNIST / Fashion-MNIST download."""
    p = Path(path)
    name = p.name.lower()
    if name.startswith(("cifar-10", "cifar-100", "mnist", "fashion-mnist")) or name in OFFICIAL_NAMES:
        return True
    try:
        return p.is_dir() and any((p / n).exists() for n in OFFICIAL_NAMES)
    except OSError:
        return False


def urls_to_paths(mime) -> list[str]:
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()] if mime.hasUrls() else []


def recent_models() -> list[str]:
    """Model files opened before, newest first (missing files are dropped)."""
    raw = open_settings().value(RECENT_KEY, "")
    try:
        items = json.loads(raw) if isinstance(raw, str) and raw else []
    except ValueError:
        items = []
    return [p for p in items if isinstance(p, str) and os.path.exists(p)][:RECENT_MAX]


def add_recent_model(path: str | os.PathLike) -> list[str]:
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_models() if p != path]
    settings = open_settings()
    settings.setValue(RECENT_KEY, json.dumps(items[:RECENT_MAX]))  # JSON: ini lists of one come back as str
    settings.sync()
    return items[:RECENT_MAX]


class AcceptsModelDrops:
    """Drag-and-drop of model files onto a widget: the first dropped model goes to ``_model_dropped``."""

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        models, _ = split_paths(urls_to_paths(event.mimeData()))
        if models:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt name
        models, _ = split_paths(urls_to_paths(event.mimeData()))
        if models:
            event.acceptProposedAction()
            self._model_dropped(models[0])

