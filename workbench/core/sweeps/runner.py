"""A sweep from spec to ranked results: makes the sweep folder, runs the trials on a backend, keeps sweep.json.

Backends: ``local`` (worker processes, the default) or a Ray address (``local`` or ``host:port``).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable

from workbench.core.sweeps.asha import rung_epochs
from workbench.core.sweeps.folder import METRIC, claim_sweep_folder, ranked, trial_id, write_sweep
from workbench.core.processes import stop_signals_as_interrupt
from workbench.core.sweeps.spec import SweepSpec, trial_settings
from workbench.core.training.config import TrainConfig


def new_sweep(spec: SweepSpec, configs: list[TrainConfig], root: str | Path, name: str | None,
              asha: dict[str, int] | None, backend: str) -> tuple[Path, dict[str, Any], list[TrainConfig]]:
    """Claim the sweep folder and write sweep.json with every trial pending; configs get their run folders."""
    if asha is not None:
        rung_epochs(asha["min_epochs"], asha["eta"], spec.base.epochs)  # refuses a bad eta before any folder
    folder = claim_sweep_folder(root, name).resolve()  # absolute: workers and Ray trials may start elsewhere
    settings = trial_settings(spec)
    placed = [c.replace(run_dir=str(folder / trial_id(i)), runs_root=None) for i, c in enumerate(configs)]
    data = {
        "kind": "sweep", "name": folder.name, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "backend": backend, "metric": METRIC, "asha": asha, "spec": spec.to_dict(),
        "log_scaled": list(spec.log_scaled),
        "trials": [{"id": trial_id(i), "run_dir": trial_id(i), "settings": s, "status": "pending"}
                   for i, s in enumerate(settings)],
    }
    write_sweep(folder, data)
    return folder, data, placed


def run_sweep(folder: Path, data: dict[str, Any], configs: list[TrainConfig],
              on_trial: Callable[[dict[str, Any]], None] | None = None,
              ray_address: str | None = None, workers: int | None = None) -> list[dict[str, Any]]:
    """Run every trial, recording each result in sweep.json as it ends; returns the trials ranked best first.

    Ctrl+C, SIGTERM and SIGHUP stop the running trials (each ``stopped``, its model kept), mark the others
    ``skipped``, record ``stopped_by`` in sweep.json and raise KeyboardInterrupt (a StopSignal for a signal).
    """
    by_id = {t["id"]: t for t in data["trials"]}
    minutes = data["spec"].get("minutes")
    deadline = time.monotonic() + 60 * minutes if minutes else None

    def on_result(trial: str, result: dict[str, Any]) -> None:
        by_id[trial].update(result)
        write_sweep(folder, data)
        if on_trial is not None:
            on_trial(by_id[trial])

    jobs = [(t["id"], c.to_dict()) for t, c in zip(data["trials"], configs)]
    try:
        with stop_signals_as_interrupt():
            if ray_address is None:
                from workbench.core.sweeps.local import run_local

                run_local(jobs, on_result, asha=data["asha"], deadline=deadline, workers=workers)
            else:
                from workbench.core.sweeps.ray_backend import run_ray

                run_ray(jobs, on_result, folder, ray_address, asha=data["asha"], deadline=deadline)
    except KeyboardInterrupt as exc:
        data["stopped_by"] = getattr(exc, "name", "Ctrl+C")
        raise
    finally:
        for trial in data["trials"]:
            if trial["status"] == "pending":
                trial["status"] = "skipped"  # the time budget ran out or the sweep was interrupted first
        write_sweep(folder, data)
    return ranked(data["trials"])


def describe(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "-"
    return str(value)
