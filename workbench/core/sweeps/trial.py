"""One sweep trial: the core ``train`` with a per-epoch report that can stop it (ASHA, or the user).

Runs in whatever process a backend puts it in (a local worker, a Ray Tune trial); returns plain data.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable

from workbench.core.training.config import TrainConfig

# report(epochs_done, metric) -> False to stop the trial after this epoch
Reporter = Callable[[int, float], bool]


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def run_trial(config: dict[str, Any], report: Reporter | None = None,
              cancelled: Callable[[], bool] | None = None, train_fn: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Train one trial; the result holds status, best/final validation top-1, test figures, epochs and time.

    ``train_fn`` (default: the core ``train`` in this process) may be ``child.train_in_child``."""
    if cancelled is not None and cancelled():  # the sweep was stopped while this trial waited for a worker
        return {"status": "stopped", "epochs": 0, "seconds": 0.0, "message": "The sweep was stopped first."}
    from workbench.core.training import EpochEnded, TrainingFailed, TrainingFinished, TrainingStarted, TrainingStopped
    from workbench.core.training import train as core_train

    train = train_fn or core_train

    stop = threading.Event()
    seen: dict[str, Any] = {"best": None, "final": None, "pruned_at": None, "params": None, "device": None}
    started = time.monotonic()

    def on_event(event: Any) -> None:
        if cancelled is not None and cancelled():
            stop.set()
        if isinstance(event, TrainingStarted):
            seen["params"], seen["device"] = event.params, event.device
        elif isinstance(event, EpochEnded):
            value = event.val_top1 if event.val_top1 is not None else event.top1
            seen["final"] = _finite(value)
            if seen["final"] is not None and (seen["best"] is None or seen["final"] > seen["best"]):
                seen["best"] = seen["final"]
            if report is not None and not report(event.epoch + 1, value if value is not None else math.nan):
                seen["pruned_at"] = event.epoch + 1
                stop.set()  # stops after the next batch; the model is kept like any stopped run's

    final = train(TrainConfig.from_dict(config), on_event, stop)
    status = ("finished" if isinstance(final, TrainingFinished) else "stopped" if isinstance(final, TrainingStopped)
              else "failed")  # a training process that died is a failure too
    if seen["pruned_at"] is not None and not isinstance(final, TrainingFailed):
        status = "pruned"  # stopped early by ASHA, not by the user
    return {
        "status": status,
        "epochs": getattr(final, "epochs_completed", 0),
        "pruned_at_epoch": seen["pruned_at"],
        "best_val_top1": seen["best"],
        "final_val_top1": seen["final"],
        "test_top1": _finite(getattr(final, "test_top1", None)) if isinstance(final, TrainingFinished) else None,
        "test_top5": _finite(getattr(final, "test_top5", None)) if isinstance(final, TrainingFinished) else None,
        "params": seen["params"],
        "device": seen["device"],
        "seconds": round(time.monotonic() - started, 2),
        "model_path": getattr(final, "model_path", None),
        "message": getattr(final, "message", None),
    }
