"""Where an export's check and calibration images come from, and what the source run recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.text import sanitize

CHECK_IMAGES = 200  # enough to tell 0.99 agreement from less
CALIBRATION_IMAGES = 200


def _dataset(loaded, data_dir):
    from workbench.core.datasets import DATASETS, DatasetError, dataset_available, load_dataset

    dataset_id = loaded.dataset_id
    if not dataset_id:
        return None, "the model records no dataset"
    if dataset_id not in DATASETS or not dataset_available(dataset_id, data_dir):
        return None, f"its dataset {sanitize(dataset_id, 80)} is not on this computer"
    try:
        data = load_dataset(dataset_id, data_dir)
    except DatasetError as exc:
        return None, str(exc)
    if data.num_classes != loaded.num_classes or data.x_test.shape[1:] != tuple(loaded.input_shape):
        return None, f"its dataset {dataset_id} does not fit the model's input or classes"
    return data, dataset_id


def check_split(loaded, data_dir=None) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """(images, labels, where from): the first test images of the model's dataset, or (None, None, why not)."""
    data, where = _dataset(loaded, data_dir)
    if data is None:
        return None, None, f"no check images: {where}"
    n = min(CHECK_IMAGES, len(data.x_test))
    return np.asarray(data.x_test[:n]), np.asarray(data.y_test[:n]), f"the first {n} test images of {where}"


def calibration_split(loaded, data_dir=None) -> tuple[np.ndarray | None, str]:
    """(images, where from) for int8 calibration: spread over the model's training split, or (None, why not)."""
    data, where = _dataset(loaded, data_dir)
    if data is None:
        return None, where
    idx = np.linspace(0, len(data.x_train) - 1, min(CALIBRATION_IMAGES, len(data.x_train))).astype(int)
    return np.asarray(data.x_train[idx]), f"{len(idx)} training images of {where}"


def run_facts(loaded) -> dict[str, Any]:
    """The architecture, recipe and metrics that the model file and its run folder (the file's own folder) record."""
    from workbench.core.runs.folder import read_run_folder

    meta = (loaded.info.metadata or {}) if loaded.info else {}
    extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
    facts: dict[str, Any] = {"arch": meta.get("arch"), "recipe": extra.get("recipe"), "metrics": {}}
    if loaded.path:
        run = read_run_folder(Path(loaded.path).parent, history=False)
        if run is not None:
            for key in ("test_top1", "test_top5", "best_val_top1", "test_loss", "epochs_completed"):
                value = run.result.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    facts["metrics"][key] = value
            facts["recipe"] = facts["recipe"] or (run.config or {}).get("recipe")
    return facts
