"""The course report's results table, reproduced: its six runs, its settings, its figures beside ours.

The six rows and figures come from docs/ARCHITECTURES.md (shared). The report trained every model with
Adam, batch 256, 30 epochs and a 20 % validation split; our figures come from the newest finished run
under the runs folder whose settings are exactly those (so a quick --limit try never fills a row).

A figure is shown only from a run that trained on the dataset's whole training set (training plus
validation images, as the run's config.json records them, equal to the official count: 50,000 for
CIFAR-10/100): a run on a fixture or a subset of the images keeps "—" with a note saying on how many
it trained. The test set a figure is on is shown beside it (the number of test images), and a note
says when it is not the official one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from workbench.core.datasets.registry import DATASETS as REGISTERED
from workbench.core.runs.folder import RunFolder, finite_number, read_run_folder
from workbench.core.training.config import TrainConfig

# The report's settings (ARCHITECTURES.md, first paragraph); TrainConfig's defaults follow them too.
REPORT_SETTINGS = {"epochs": 30, "batch_size": 256, "optimizer": "adam", "learning_rate": 1e-3,
                   "val_split": 0.2, "augment": False, "lr_schedule": "constant", "label_smoothing": 0.0,
                   "early_stopping_patience": 0, "limit": None}
DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
DASH = "—"
MAX_RUN_FOLDERS = 20_000  # scanning more folders than this for six rows would stall the table


@dataclass(frozen=True)
class ReportRun:
    dataset: str
    model: str  # the report's name for it
    arch: str
    options: dict[str, Any] = field(default_factory=dict)
    params: int | None = None  # the report's parameter count (ARCHITECTURES.md)
    top1: float | None = None  # the report's figures, as fractions; None where it gave none
    top5: float | None = None
    note: str = ""

    def config(self, **extra: Any) -> TrainConfig:
        return TrainConfig(dataset=self.dataset, arch=self.arch, arch_options=dict(self.options),
                           **REPORT_SETTINGS, **extra)

    @property
    def label(self) -> str:
        return f"report: {DATASETS[self.dataset]} {self.model}"


# CIFAR-10's all_conv ran without the input dropout (the report built that layer and then discarded it);
# CIFAR-100's ran with the input dropout on and the inner dropouts off (ARCHITECTURES.md, all_conv).
REPORT_RUNS = (
    ReportRun("cifar10", "model 1 (toy ResNet)", "toy_resnet", {}, 223_242, 0.769, 0.983,
              "converged within 15 epochs, clear over-fitting"),
    ReportRun("cifar10", "model 2 (embedded CNN)", "embedded_cnn", {}, 53_522, None, None, "\"awful results\""),
    ReportRun("cifar10", "model 3 (all-convolutional)", "all_conv", {"input_dropout": 0.0}, 839_352, 0.610, 0.945),
    ReportRun("cifar100", "model 1 (all-convolutional)", "all_conv", {"input_dropout": 0.2, "inner_dropout": 0.0},
              866_712, None, 0.689),
    ReportRun("cifar100", "model 2 (enlarged ResNet)", "toy_resnet_deep", {}, 340_324, None, 0.798,
              "curtailed by limited training time"),
    ReportRun("cifar100", "model 3 (simple CNN)", "simple_cnn", {}, 270_372, None, 0.674, "fast"),
)


def report_runs(dataset: str = "both") -> list[ReportRun]:
    if dataset not in ("both", *DATASETS):
        raise ValueError(f"Unknown report dataset {dataset!r}; choose cifar10, cifar100 or both.")
    return [r for r in REPORT_RUNS if dataset in ("both", r.dataset)]


@dataclass(frozen=True)
class ReportRow:
    spec: ReportRun
    run_dir: str | None = None  # our newest finished run with the report's settings
    params: int | None = None
    top1: float | None = None
    top5: float | None = None
    epochs: int | None = None
    seconds: float | None = None  # training time: the epochs' seconds added up
    test_images: int | None = None  # the test set the figures are on
    note: str = ""  # why a figure is withheld, or that the test set is not the official one

    def cells(self) -> dict[str, str]:
        """The row as the report lays it out: ours beside the report's, "—" where a figure is missing."""
        s = self.spec
        return {
            "dataset": DATASETS[s.dataset], "network": f"{s.model}: {s.arch}",
            "params": _count(self.params), "params_report": _count(s.params),
            "top1": _pct(self.top1), "top1_report": _pct(s.top1),
            "top5": _pct(self.top5), "top5_report": _pct(s.top5),
            "epochs": DASH if self.epochs is None else str(self.epochs), "epochs_report": "30",
            "time": _duration(self.seconds), "time_report": DASH,
            "test_images": _count(self.test_images), "note": self.note,
        }

    def to_json(self) -> dict[str, Any]:
        s = self.spec
        return {"dataset": s.dataset, "model": s.model, "arch": s.arch, "arch_options": s.options,
                "run_dir": self.run_dir, "params": self.params, "top1": self.top1, "top5": self.top5,
                "epochs": self.epochs, "seconds": self.seconds, "test_images": self.test_images, "note": self.note,
                "report": {"params": s.params, "top1": s.top1, "top5": s.top5, "epochs": 30, "note": s.note}}


COLUMNS = (  # (key, header) in the report's order, each of our figures before the report's
    ("dataset", "Dataset"), ("network", "Network"), ("params", "Parameters"), ("params_report", "Report"),
    ("top1", "Top-1"), ("top1_report", "Report"), ("top5", "Top-5"), ("top5_report", "Report"),
    ("test_images", "Test images"),  # beside the figures: ours are not always on the official 10,000
    ("epochs", "Epochs"), ("epochs_report", "Report"), ("time", "Time"), ("time_report", "Report"), ("note", "Note"),
)


def _count(n: int | None) -> str:
    return DASH if n is None else f"{n:,}"


def _pct(v: float | None) -> str:
    return DASH if v is None else f"{100 * v:.1f} %"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _matches(config: dict[str, Any], spec: ReportRun) -> bool:
    if config.get("dataset") != spec.dataset or config.get("arch") != spec.arch:
        return False
    if any(config.get(k) != v for k, v in REPORT_SETTINGS.items()):
        return False
    options = config.get("arch_options") or {}
    return options == spec.options


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def trained_on(stored: dict[str, Any]) -> int | None:
    """Training plus validation images of a run (its config.json), or None where either is not recorded."""
    train, val = _int(stored.get("train_images")), _int(stored.get("val_images"))
    return None if train is None or val is None else train + val


def _full(spec: ReportRun, stored: dict[str, Any]) -> bool:
    return trained_on(stored) == REGISTERED[spec.dataset].train_size


def _note(spec: ReportRun, stored: dict[str, Any], test_images: int | None) -> str:
    info, images = REGISTERED[spec.dataset], trained_on(stored)
    if images is None:
        return "no figure: the run did not record how many images it trained on"
    if images != info.train_size:
        return f"no figure: trained on {images:,} of {info.train_size:,} images"
    if test_images is not None and test_images != info.test_size:
        return f"tested on {test_images:,} of the {info.test_size:,} test images"
    return ""


def _row_from(spec: ReportRun, run: RunFolder) -> ReportRow:
    seconds = [r["seconds"] for r in run.history if r.get("seconds") is not None]
    full = _full(spec, run.stored)  # a subset's or a fixture's figure is no figure for the report
    test_images = _int(run.stored.get("test_images"))
    return ReportRow(
        spec=spec, run_dir=str(run.path), params=_int(run.stored.get("params")),
        top1=finite_number(run.result.get("test_top1")) if full else None,
        top5=finite_number(run.result.get("test_top5")) if full else None,
        epochs=_int(run.result.get("epochs_completed")), seconds=sum(seconds) if seconds else None,
        test_images=test_images, note=_note(spec, run.stored, test_images),
    )


def report_table(runs_root: str | os.PathLike | None = None, dataset: str = "both") -> list[ReportRow]:
    """One row per report run; ours from the newest finished matching run under ``runs_root``, a run on the
    whole training set before any newer one on fewer images."""
    if runs_root is None:
        from workbench.paths import default_runs_root

        runs_root = default_runs_root()
    specs = report_runs(dataset)
    best: dict[int, tuple[tuple[bool, str], ReportRow]] = {}
    try:
        entries = sorted((e for e in os.scandir(runs_root) if e.is_dir(follow_symlinks=False)),
                         key=lambda e: e.name)[:MAX_RUN_FOLDERS]
    except OSError:
        entries = []
    for entry in entries:
        run = read_run_folder(entry.path, history=False)
        if run is None or run.config is None or run.status != "finished":
            continue
        for n, spec in enumerate(specs):
            if _matches(run.config, spec):
                when = (_full(spec, run.stored), str(run.result.get("finished_at", "")))
                if n not in best or when >= best[n][0]:
                    best[n] = (when, _row_from(spec, read_run_folder(entry.path) or run))
    return [best[n][1] if n in best else ReportRow(spec=s) for n, s in enumerate(specs)]


def table_markdown(rows: list[ReportRow]) -> str:
    """The table as Markdown; "Report" columns hold the course report's own figures."""
    lines = ["| " + " | ".join(h for _, h in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = row.cells()
        lines.append("| " + " | ".join(cells[k].replace("|", "\\|") for k, _ in COLUMNS) + " |")
    return "\n".join(lines)
