"""Calibrating a model file: fit a temperature on images the model did not train on, measure ECE before
and after on other images it was not fitted on, and store the temperature in the file when it helps.

Which images (`calibration_images`): for a model made by a workbench run whose folder is found (the
model's own folder, else the `run_dir` its metadata records) and whose split can be rebuilt exactly
(same dataset, seed, validation share and limit, the same image counts as config.json records), the
temperature is fitted on that run's validation split and judged on the whole test split. Otherwise
(a third-party file, a moved model, a changed dataset) it is fitted on one half of the test split
(a seeded shuffle) and judged on the other half, and `note` says so. The one entry point for the CLI
(`calibrate`) and the window's Calibrate button.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.core.calibration import Reliability, StoredTemperature, TemperatureFit, apply_temperature
from workbench.core.calibration import fit_temperature, reliability

HALVES_SEED = 0  # the test split's shuffle when it is halved: the same halves every time


class CalibrationRefused(ValueError):
    """Calibration that cannot run or would not help; one sentence, and nothing was written."""


@dataclass(frozen=True, eq=False)
class CalibrationImages:
    """Images to fit on and images to judge on (never the same ones), and where they came from."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_held: np.ndarray
    y_held: np.ndarray
    split: str  # where the fitting images came from, in words
    held_split: str  # where the judging images came from, in words
    note: str = ""  # why no validation split was used, when none was


@dataclass(frozen=True, eq=False)
class CalibrationOutcome:
    record: StoredTemperature  # what was (or would be) stored in the file
    fit: TemperatureFit  # on the fitting images
    before: Reliability  # held-out images, the model's raw confidence
    after: Reliability  # held-out images, with the temperature
    note: str  # why the test split was halved ("" when the run's validation split was used)
    held_split: str
    stored: Path | None  # the file written, or None when store=False
    loaded: Any  # the LoadedModel with the temperature applied

    def summary(self) -> str:
        where = f"{self.record.images:,} images ({self.record.split})"
        return (f"temperature {self.record.value:.3f} fitted on {where}; ECE on {self.before.n:,} held-out images "
                f"({self.held_split}): {self.before.ece:.4f} before, {self.after.ece:.4f} after")


def _run_validation(loaded: Any, dataset_id: str, n_train: int) -> tuple[np.ndarray | None, str, str | None]:
    """(validation indices, words, data_dir the run used) from the model's run, or (None, why not, None)."""
    from workbench.core.runs.folder import is_run_folder, read_run_folder
    from workbench.core.training.lock import is_locked
    from workbench.core.training.pipeline import split_indices

    name = Path(loaded.path).name
    extra = ((loaded.info.metadata or {}).get("extra") if loaded.info is not None else None) or {}
    candidates = [Path(loaded.path).parent]
    if isinstance(extra.get("run_dir"), str):
        candidates.append(Path(extra["run_dir"]))
    folder = next((c for c in candidates if is_run_folder(c)), None)
    if folder is None:
        return None, f"{name} is not in a workbench run folder and names none that exists", None
    if is_locked(folder):
        raise CalibrationRefused(f"The run in {folder} is still running and may rewrite {name}; calibrate it "
                                 "when the run has finished (nothing was written).")
    run = read_run_folder(folder, history=False)
    config = run.config if run is not None else None
    if not config:
        return None, f"the settings of the run in {folder} cannot be read", None
    val_split, seed, limit = config.get("val_split"), config.get("seed"), config.get("limit")
    if config.get("dataset") != dataset_id:
        return None, f"{name} was trained on {config.get('dataset')!r}, not {dataset_id!r}", None
    if not (isinstance(val_split, (int, float)) and 0 < val_split < 1 and isinstance(seed, int)
            and (limit is None or isinstance(limit, int))):
        return None, f"the run in {folder} kept no validation split", None
    train_idx, val_idx = split_indices(n_train, float(val_split), seed, limit)
    want = (run.stored.get("train_images"), run.stored.get("val_images"))
    if want != (len(train_idx), len(val_idx)):
        return None, (f"the dataset's {n_train:,} training images no longer give the run's split "
                      f"({want[0]} training, {want[1]} validation images)"), None
    data_dir = config.get("data_dir") if isinstance(config.get("data_dir"), str) else None
    return val_idx, f"the validation split of the run in {folder.name}", data_dir


def calibration_images(loaded: Any, dataset_id: str, data_dir: str | None = None) -> CalibrationImages:
    """The fitting and judging images for `loaded` on `dataset_id` (see the module's rule)."""
    from workbench.core.datasets import load_dataset

    data = load_dataset(dataset_id, data_dir)
    if data.num_classes != loaded.num_classes:
        raise CalibrationRefused(f"The model predicts {loaded.num_classes} classes but {data.info.title} has "
                                 f"{data.num_classes}; pick a dataset with the same classes.")
    val_idx, why, run_dir_data = _run_validation(loaded, dataset_id, len(data.x_train))
    if val_idx is not None and data_dir is None and run_dir_data:
        data = load_dataset(dataset_id, run_dir_data)  # the run's own copy of the data, as it trained on it
    if val_idx is not None:
        return CalibrationImages(np.asarray(data.x_train[val_idx]), np.asarray(data.y_train[val_idx]),
                                 np.asarray(data.x_test), np.asarray(data.y_test), why, "the test split")
    n = len(data.y_test)
    if n < 4:
        raise CalibrationRefused(f"{data.info.title} has {n} test images; calibrating needs at least 4 "
                                 "(half to fit the temperature, half to check it).")
    order = np.random.default_rng(HALVES_SEED).permutation(n)
    fit_idx, held_idx = np.sort(order[: n // 2]), np.sort(order[n // 2:])
    note = (f"No validation split is known ({why}), so the temperature was fitted on one half of the test "
            "split and ECE is reported on the other half.")
    return CalibrationImages(np.asarray(data.x_test[fit_idx]), np.asarray(data.y_test[fit_idx]),
                             np.asarray(data.x_test[held_idx]), np.asarray(data.y_test[held_idx]),
                             "one half of the test split", "the other half of the test split", note)


def calibrate_model(loaded: Any, dataset_id: str, data_dir: str | None = None, *, store: bool = True,
                    progress: Callable[[int, int], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> CalibrationOutcome:
    """Fit, judge, and (with `store`) write the temperature into the model file atomically.

    Raises CalibrationRefused (one sentence, nothing written) when the file cannot be written, when
    the held-out ECE would not go down, or when the data does not fit the model.
    """
    from workbench.core.evaluation import evaluate, flip_for
    from workbench.core.modelio.artefacts import not_available
    from workbench.core.modelio.stored_temperature import store_temperature, writable_model_file

    refusal = not_available(loaded, "Calibration")
    if refusal:  # its temperature is built into the artefact's graph; there is no file metadata to write
        raise CalibrationRefused(refusal)
    if store:
        if not getattr(loaded, "path", None):
            raise CalibrationRefused("This model was not opened from a file, so a temperature cannot be stored.")
        writable_model_file(loaded.path)  # a read-only file is refused before minutes of predicting
    raw = loaded.without_temperature()
    images = calibration_images(raw, dataset_id, data_dir)
    from workbench.core.datasets import get_info

    # The same test-time flip evaluate uses, so its ECE after calibration is the one reported here.
    flip = flip_for(raw, bool(getattr(get_info(dataset_id), "mirror_safe", False)))
    total = len(images.y_fit) + len(images.y_held)

    def part(offset: int):
        return None if progress is None else (lambda done, _: progress(offset + done, total))

    fitted = evaluate(raw, images.x_fit, images.y_fit, flip=flip, progress=part(0), cancel=cancel)
    held = evaluate(raw, images.x_held, images.y_held, flip=flip, progress=part(len(images.y_fit)), cancel=cancel)
    fit = fit_temperature(fitted.probabilities, fitted.y_true)
    before = reliability(held.probabilities, held.y_true)
    after = reliability(apply_temperature(held.probabilities, fit.temperature), held.y_true)
    record = StoredTemperature(fit.temperature, dataset_id, images.split, len(images.y_fit), before.n,
                               round(before.ece, 6), round(after.ece, 6), raw.preprocessing.describe()[:100])
    if after.ece >= before.ece:
        raise CalibrationRefused(
            f"A temperature of {fit.temperature:.3f} would not lower the calibration error on {before.n:,} "
            f"held-out images ({images.held_split}: ECE {before.ece:.4f} → {after.ece:.4f}), so nothing was stored; "
            "the model's confidence is already as calibrated as a temperature can make it.")
    stored = store_temperature(loaded.path, record) if store else None
    return CalibrationOutcome(record, fit, before, after, images.note, images.held_split, stored,
                              loaded.with_temperature(record))
