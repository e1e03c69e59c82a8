"""What the training tab hands to other tabs: a trained model with the data it was tested on, and a
run's history as plot columns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class ModelOffer:
    """A trained model handed from the training tab to Evaluate / Classify: plain paths and ids."""

    model_path: str
    dataset_id: str | None  # the dataset it was trained on (None: read it from the model file)
    data_dir: str | None
    test_limit: int = 0  # the first N test images the run was tested on; 0 = the whole split
    test_top1: float | None = None


def history_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """core.runs.read_history rows -> columns for the plots."""
    columns: dict[str, list] = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(value)
    return columns


def existing_model(run_dir: str, names: Sequence[str] = ("model.h5", "model.keras")) -> Path | None:
    """The run's saved model file, if there is one."""
    for name in names:
        p = Path(run_dir) / name
        if p.exists():
            return p
    return None
