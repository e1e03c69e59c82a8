"""How a run ends: which final event, which model files, and result.json."""

from __future__ import annotations

import errno
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.training.checkpoint import CheckpointError, load_checkpoint
from workbench.core.training.events import (
    SAVING,
    TESTING,
    TESTING_FLIPPED,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStopped,
)
from workbench.core.training.phase_progress import PhaseProgress
from workbench.core.training.rundir import CONFIG_FILE, RESULT_FILE, read_history, read_json, write_json_atomic
from workbench.core.training.run_time import resumed_from, run_wall_seconds
from workbench.core.training.session import RunSession

PREPROCESSING = "raw_0_255"  # the models scale raw pixels themselves
# Room a model file needs beyond its weights (HDF5 structure, model config, metadata: ~50 KB for our
# networks), so 1 MiB is generous.
MODEL_FILE_OVERHEAD = 1 << 20


def _check_room(folder: Path, model: Any) -> None:
    """Raise ENOSPC before a save that cannot fit: HDF5 writing into a full disk can crash the process."""
    needed = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in model.weights) + MODEL_FILE_OVERHEAD
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # unknown: let the save itself find out
    if free < needed:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder))


def save_model_file(run: RunSession, stem: str) -> Path:
    """``<run_dir>/<stem>.h5`` (or .keras) with the workbench metadata."""
    from workbench.core.modelio import save_model

    state = run.state
    _check_room(run.run_dir, run.model)
    return save_model(
        run.model, run.model_path(stem),
        class_names=run.class_names, dataset_id=run.config.dataset, preprocessing=PREPROCESSING,
        arch=run.config.arch, fit=getattr(run.dataset_info, "fit", None),
        extra={"arch_options": dict(run.config.arch_options), "run_dir": str(run.run_dir),
               "epochs_completed": state.epochs_completed if state else 0,
               "best_epoch": state.best_epoch if state else None, "recipe": run.config.recipe,
               "tta_flip": uses_flip(run), "tta_shift": run.config.tta_shift if uses_flip(run) else 0},
    )


def save_last_good(run: RunSession) -> Path:
    """Put the last completed epoch's weights back from the checkpoint and save them as the model."""
    if run.checkpoints is not None:
        run.checkpoints.wait()
    state = run.state
    try:
        epoch = load_checkpoint(run.model, run.run_dir)["epoch"]  # back to the end of the last completed epoch
    except CheckpointError:
        state.last_saved_epoch, state.epochs_completed = None, run.initial_epoch  # no epoch reached the disk
        raise
    # The checkpoint, not the epoch counter, says what was saved: the latest write may have failed.
    state.last_saved_epoch, state.epochs_completed = epoch, epoch + 1
    return save_model_file(run, "model")


def kept_model_sentence(run: RunSession, model_path: str | None) -> str:
    """What a failed run left to use: the last good model, or where its last epoch still is."""
    state = run.state
    if model_path is not None:
        return f"The model from epoch {state.last_saved_epoch + 1} was kept in {model_path}."
    if state is not None and state.last_saved_epoch is not None:
        return (f"No model file could be written; epoch {state.last_saved_epoch + 1} is kept in the "
                "run's checkpoint, and resuming the run writes the model.")
    return "No epoch had been saved, so no model was kept."


def save_best(run: RunSession) -> Path | None:
    """Write best.h5 from the best epoch's weights (leaves them in the model)."""
    if run.best_weights is None:
        return None
    run.model.set_weights(run.best_weights)
    return save_model_file(run, "best")


def uses_flip(run: RunSession) -> bool:
    """Whether the final test averages each image with its mirror (tta_flip on a mirror-safe dataset)."""
    return bool(run.config.tta_flip and run.dataset_info is not None and run.dataset_info.mirror_safe)


def evaluate_test(run: RunSession, progress: PhaseProgress | None = None) -> dict[str, float | None]:
    """Loss, top-1 and top-5 on the (possibly limited) test split; None values without test images.
    With ``progress`` the pass reports FinishingProgress (testing, or testing with flips)."""
    if run.splits.test is None:
        return {"loss": None, "top1": None, "top5": None}
    total = run.splits.test_images
    if uses_flip(run):
        from workbench.core.training.tta import flip_averaged_scores

        if progress is not None:
            progress.begin(TESTING_FLIPPED, total)
        return flip_averaged_scores(run.model, run.splits.test, progress.update if progress is not None else None,
                                    shift=run.config.tta_shift)
    callbacks = []
    if progress is not None:
        from workbench.core.training.callbacks.evaluation_progress import EvaluationProgress

        progress.begin(TESTING, total)
        callbacks.append(EvaluationProgress(progress, run.config.batch_size, total))
    logs = run.model.evaluate(run.splits.test, verbose=0, return_dict=True, callbacks=callbacks)
    return {k: float(logs[k]) if k in logs else None for k in ("loss", "top1", "top5")}


def whole_run_seconds(run: RunSession) -> float | None:
    """Wall time of all the run's parts: the earlier parts' (from history.csv, up to the epoch this one
    resumed at) and this part's so far."""
    state = run.state
    if state is None or run.run_dir is None:
        return None
    earlier = 0.0
    if run.initial_epoch > 0:
        rows = [r for r in read_history(run.run_dir) if (r.get("epoch") or 0) < run.initial_epoch]
        earlier = run_wall_seconds(rows, resumed_from(read_json(run.run_dir / CONFIG_FILE))) or 0.0
    return earlier + (time.monotonic() - state.started)


def outcome(run: RunSession, progress: PhaseProgress | None = None) -> TrainingEvent:
    """After fit: save what the run produced and build its final event (diverged, stopped or finished).
    With ``progress`` the test and the saving report FinishingProgress."""
    state = run.state
    files = 1 + (run.best_weights is not None)  # model.h5, and best.h5 when a best epoch was kept

    def saving(done: int) -> None:
        if progress is not None:
            progress.begin(SAVING, files, done)
    if state.diverged_at is not None:
        epoch, batch = state.diverged_at
        what = "NaN" if math.isnan(state.diverged_loss) else "infinite"
        became = {"weights": "the weights stopped being finite numbers",
                  "outputs": "the network's outputs stopped being finite numbers"}.get(
            state.diverged_what, f"the {state.diverged_what} became {what}")
        kept = None
        if state.last_saved_epoch is not None:
            kept = str(save_last_good(run))
            save_best(run)
        return TrainingFailed(
            message=f"Training diverged at epoch {epoch + 1} batch {batch}: {became}. "
                    f"Try a lower learning rate. {kept_model_sentence(run, kept)}",
            run_dir=str(run.run_dir), diverged=True, model_path=kept, epochs_completed=state.epochs_completed,
        )
    if state.stop_requested:
        saving(0)
        path = save_model_file(run, "model")  # what was trained so far, partial epoch included
        saving(1)
        save_best(run)
        saving(files)
        return TrainingStopped(run_dir=str(run.run_dir), model_path=str(path),
                               epochs_completed=state.epochs_completed, wall_seconds=whole_run_seconds(run))
    if run.early_stopper is not None:
        run.early_stopper.restore_best()
    saving(0)
    path = save_model_file(run, "model")
    test = evaluate_test(run, progress)
    saving(1)
    save_best(run)
    saving(files)
    best = run.model_path("best")
    best_path = str(best) if best.exists() else None
    return TrainingFinished(
        run_dir=str(run.run_dir), model_path=str(path), best_model_path=best_path,
        epochs_completed=state.epochs_completed, test_top1=test["top1"], test_top5=test["top5"],
        test_loss=test["loss"], wall_seconds=whole_run_seconds(run),
    )


def write_result(run: RunSession, final: TrainingEvent) -> None:
    """result.json, written atomically: status, test metrics, best epoch, model paths, message."""
    if run.run_dir is None or not run.run_dir.is_dir():
        return
    status = {TrainingFinished: "finished", TrainingStopped: "stopped"}.get(type(final), "failed")
    state = run.state
    data = {
        "status": status,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "epochs_completed": getattr(final, "epochs_completed", 0),  # the whole run's, resumed parts included
        # Under a time budget the config's epochs are only a cap, never a plan.
        "epochs_planned": run.config.epochs if run.config.minutes is None else None,
        "epoch_cap": run.config.epochs if run.config.minutes is not None else None,
        "minutes": run.config.minutes,
        "wall_seconds": getattr(final, "wall_seconds", None) or whole_run_seconds(run),
        "best_epoch": state.best_epoch if state else None,
        "best_val_top1": state.best_value if state and math.isfinite(state.best_value) else None,
        "test_top1": getattr(final, "test_top1", None),
        "test_top5": getattr(final, "test_top5", None),
        "test_loss": getattr(final, "test_loss", None),
        "model_path": getattr(final, "model_path", None),
        "best_model_path": getattr(final, "best_model_path", None),
        "message": getattr(final, "message", ""),
        "diverged": getattr(final, "diverged", False),
        "device": run.device,
    }
    best = run.run_dir / f"best.{run.config.model_format}"
    if data["best_model_path"] is None and best.exists():
        data["best_model_path"] = str(best)
    try:
        write_json_atomic(run.run_dir / RESULT_FILE, data)
    except OSError:
        pass  # the final event still reports the outcome

