"""Before the report's runs are queued: how long they would take on this machine and which data is missing.

The time comes from the training speed of earlier runs of the same network under the runs folder (median
images/s of their epochs), else from a rough figure per network measured on this project's 2-core CPU.
Either is an estimate, and the plan says which one each run used.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass

from workbench.core.runs.folder import finite_number, read_run_folder
from workbench.core.runs.report_table import DATASETS, MAX_RUN_FOLDERS, REPORT_SETTINGS, ReportRun, report_runs

# Training images per second on this project's 2-core development CPU (README's recipe tables and
# benchmarks; toy_resnet_deep, never measured there, guessed at 1.6x toy_resnet's cost).
ROUGH_IMAGES_PER_SEC = {"toy_resnet": 950.0, "embedded_cnn": 11_000.0, "all_conv": 1_100.0,
                        "toy_resnet_deep": 600.0, "simple_cnn": 1_600.0}
ROUGH_DEFAULT = 800.0  # a network the table above does not know
ROUGH_SOURCE = "a rough figure for a 2-core CPU"
TRAIN_IMAGES = 50_000  # CIFAR-10 and CIFAR-100 alike; the report holds out val_split of them
TEST_IMAGES = 10_000
INFERENCE_SPEEDUP = 3.0  # validation and test run forward only: about a third of a training step


@dataclass(frozen=True)
class RunEstimate:
    spec: ReportRun
    seconds: float
    images_per_sec: float
    measured_epochs: int  # epochs of earlier runs the speed comes from; 0: the rough figure
    data_missing: bool  # the run's dataset is not on disk (it would fail at once)

    @property
    def source(self) -> str:
        if self.measured_epochs:
            return f"measured here ({self.measured_epochs} earlier epochs)"
        return ROUGH_SOURCE


@dataclass(frozen=True)
class ReportPlan:
    runs: tuple[RunEstimate, ...]
    missing: tuple[str, ...]  # dataset ids not on disk, in the report's order

    @property
    def total_seconds(self) -> float:
        return sum(r.seconds for r in self.runs)

    def with_data(self) -> tuple[RunEstimate, ...]:
        return tuple(r for r in self.runs if not r.data_missing)


def run_seconds(images_per_sec: float, epochs: int = REPORT_SETTINGS["epochs"]) -> float:
    """One report run: its epochs of training and validation, then the test."""
    train = TRAIN_IMAGES * (1 - REPORT_SETTINGS["val_split"])
    val = TRAIN_IMAGES - train
    forward = images_per_sec * INFERENCE_SPEEDUP
    return epochs * (train / images_per_sec + val / forward) + TEST_IMAGES / forward


def measured_speeds(runs_root: str | os.PathLike | None) -> dict[str, tuple[float, int]]:
    """Per network: the median training images/s over the epochs of earlier runs under ``runs_root``,
    and how many epochs that is."""
    if runs_root is None:
        return {}
    try:
        entries = sorted((e for e in os.scandir(runs_root) if e.is_dir(follow_symlinks=False)),
                         key=lambda e: e.name)[:MAX_RUN_FOLDERS]
    except OSError:
        return {}
    speeds: dict[str, list[float]] = {}
    for entry in entries:
        run = read_run_folder(entry.path)
        if run is None or run.config is None or not isinstance(run.config.get("arch"), str):
            continue
        for row in run.history:
            value = finite_number(row.get("images_per_sec"))
            if value is not None and value > 0:
                speeds.setdefault(run.config["arch"], []).append(value)
    return {arch: (statistics.median(v), len(v)) for arch, v in speeds.items()}


def plan_report(dataset: str = "both", runs_root: str | os.PathLike | None = None,
                data_dir: str | None = None) -> ReportPlan:
    """The report's runs with a time estimate each and whether their data is on disk."""
    from workbench.core.datasets import dataset_available

    measured = measured_speeds(runs_root)
    missing = tuple(d for d in DATASETS if dataset in ("both", d) and not dataset_available(d, data_dir))
    runs = []
    for spec in report_runs(dataset):
        speed, epochs = measured.get(spec.arch, (ROUGH_IMAGES_PER_SEC.get(spec.arch, ROUGH_DEFAULT), 0))
        runs.append(RunEstimate(spec=spec, seconds=run_seconds(speed), images_per_sec=speed, measured_epochs=epochs,
                                data_missing=spec.dataset in missing))
    return ReportPlan(runs=tuple(runs), missing=missing)


def about(seconds: float) -> str:
    """An estimate in words, rounded as an estimate should be: "about 25 min", "about 1 h 55 min"."""
    minutes = max(1, int(round(seconds / 60)))
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(int(round(minutes / 5)) * 5, 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"
