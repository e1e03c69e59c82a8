"""The training tab's control: Start / Stop / Resume, an earlier run opened from the Runs tab, the
trained model handed on, saving and export. Widgets and drawing are in view.py.

The engine runs in a child process supervised by a TrainingWorker on a thread owned by this panel's
PanelTasks; its events arrive through queued signals into ``on_event``; Stop sets the threading.Event the
worker turns into a stop message to the child.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from workbench.core.datasets import DATASETS
from workbench.core.training.child import ChildOutput, TrainingProcessDied
from workbench.core.training.config import TrainConfig
from workbench.core.training.optim import loss_label
from workbench.core.training.topk import top5_note
from workbench.core.training.events import (
    BatchProgress,
    BatchSizeReduced,
    EpochEnded,
    FinishingProgress,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
from workbench.gui.panels.training.handoff import ModelOffer, existing_model, history_columns
from workbench.gui.panels.training.progress import activity
from workbench.gui.panels.training.resume_offer import ResumeOffer
from workbench.gui.panels.training.saving import convert_model, copy_atomically, failure_sentence, model_target
from workbench.gui.panels.training.text import pct, start_line
from workbench.gui.panels.training.view import ERROR_COLOUR, START_TOOLTIP, TrainingView
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.rich_text import html_text
from workbench.gui.worker import TrainingWorker

TRAINING = "training"  # task names in this panel's PanelTasks
SAVING = "save-model"


class TrainingPanel(TrainingView):
    running_changed = Signal(bool)
    run_started = Signal(str)  # run directory
    run_ended = Signal(object)  # the final event
    device_known = Signal(str)
    status_message = Signal(str)
    model_saved = Signal(str)
    save_failed = Signal(str)  # one sentence; also shown in the tab (result line and log)
    evaluate_requested = Signal(object)  # ModelOffer: "Evaluate this model"
    classify_requested = Signal(object)  # ModelOffer: "Classify with this model"

    def __init__(self, config_provider: Callable[[], TrainConfig] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)
        self.tasks.task_finished.connect(self._on_task_finished)
        self.config_provider = config_provider or TrainConfig
        self.worker: TrainingWorker | None = None
        self.config: TrainConfig | None = None
        self.run_dir: str | None = None
        self.model_path: str | None = None
        self.final_event: object | None = None
        self.epochs_done = 0
        self.test_metrics: dict[str, float | None] = {}
        self._saving_to = ""  # the target of the conversion running in SAVING
        self.start_problem = ""  # why the form's network cannot train on its dataset: Start is disabled
        self._problem_shown = False  # the result line shows start_problem (cleared with it)
        self._activity = ""  # what the status bar last heard the run is doing

        self.evaluate_button.clicked.connect(self.request_evaluate)
        self.classify_button.clicked.connect(self.request_classify)
        self.start_button.clicked.connect(self.start_from_form)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.save_button.clicked.connect(self.save_model_dialog)
        self.export_button.clicked.connect(self.export_plots_dialog)
        self.csv_button.clicked.connect(self.export_history_dialog)
        self.save_failed.connect(self._on_save_failed)
        self.resume_offer = ResumeOffer(self, self.offer_bar)  # a run cut short, offered once the window is up
        self._update_buttons()

    # --- state ----------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.worker is not None

    def can_resume(self) -> bool:
        return (
            not self.is_running()
            and self.config is not None
            and self.run_dir is not None
            and (isinstance(self.final_event, TrainingStopped)
                 or (isinstance(self.final_event, TrainingProcessDied) and self.final_event.epochs_completed > 0))
        )

    def set_start_problem(self, problem: str) -> None:
        """Disable Start with `problem` shown (the form's network cannot take its dataset's images); ""
        enables it again."""
        self.start_problem = problem
        self.start_button.setToolTip(problem or START_TOOLTIP)
        if problem and not self.is_running():
            self.result_label.setText(f"<span style='color:{ERROR_COLOUR}'>Cannot start: {html_text(problem)}</span>")
            self._problem_shown = True
        elif self._problem_shown:
            self.result_label.setText("")
            self._problem_shown = False
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running and not self.start_problem)
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(self.can_resume())
        has_model = bool(self.model_path) and not running
        self.save_button.setEnabled(has_model)
        self.evaluate_button.setEnabled(has_model)
        self.classify_button.setEnabled(has_model)
        self.csv_button.setEnabled(bool(self.run_dir) and (Path(self.run_dir) / "history.csv").exists())

    # --- start / stop / resume ------------------------------------------------------------------
    @Slot()
    def start_from_form(self) -> bool:
        try:
            config = self.config_provider()
        except ValueError as exc:
            self.log_line(f"Cannot start: {exc}")
            self.status_message.emit(f"Cannot start: {exc}")
            return False
        return self.start(config)

    def start(self, config: TrainConfig, *, keep_curves: bool = False) -> bool:
        """Start a run on a worker thread. Returns False (and logs why) when it cannot start."""
        if self.is_running():
            return False
        self.config = config
        self.final_event = None
        self.model_path = None
        self.test_metrics = {}
        if not keep_curves:
            self.plots.reset()
            self.plots.clear_overlays()
            self.run_dir = None
        self.show_starting(start_line(config))
        self.plots.set_loss_label(loss_label(config))
        worker = TrainingWorker(config)
        worker.event.connect(self.on_event)
        self.worker = worker
        self.tasks.start_worker(worker, TRAINING)
        self.plots.start_live()
        self._update_buttons()
        self.running_changed.emit(True)
        self._activity = f"{'Resuming' if config.resume else 'Starting'} training…"
        self.status_message.emit(self._activity)
        return True

    @Slot()
    def stop(self) -> None:
        if self.worker is not None and not self.worker.stop_event.is_set():
            self.worker.stop_event.set()
            self.progress.setFormat("stopping after this batch…")
            self.log_line("Stop requested; finishing the current batch and saving the model…")
            self.status_message.emit("Stopping…")

    @Slot()
    def resume(self) -> bool:
        if not self.can_resume():
            return False
        config = self.config.replace(resume=True, run_dir=self.run_dir)
        return self.start(config, keep_curves=True)

    def resume_run(self, run_dir: str, config: TrainConfig, history_rows: Sequence[Mapping[str, Any]] = ()) -> bool:
        """Resume an earlier run (from the runs panel); its saved curves are shown first."""
        if self.is_running():
            return False
        self.plots.clear_overlays()
        self.plots.set_history(history_columns(history_rows))
        self.run_dir = run_dir
        return self.start(config.replace(resume=True, run_dir=run_dir), keep_curves=True)

    def show_run(self, run_dir: str, history_rows: Sequence[Mapping[str, Any]], result: Mapping[str, Any] | None,
                 config: TrainConfig | None = None, resumable: bool = False) -> None:
        """Show a finished run's curves (not while training)."""
        if self.is_running():
            return
        self.plots.clear_overlays()
        self.plots.set_history(history_columns(history_rows))
        self.clear_probes()
        self.probe_title.setText("<b>Probe images</b> are followed while a run trains; an earlier run opened "
                                 "from the Runs tab does not keep them. Resume it to see them again.")
        self.run_dir = run_dir
        self.config = config
        self.progress.setValue(0)
        self.progress.setFormat(f"earlier run: {Path(run_dir).name}")
        self.clear_stats()
        result = dict(result or {})
        status = str(result.get("status", ""))
        model = result.get("model_path") or existing_model(run_dir)
        self.model_path = str(model) if model else None
        self.final_event = None
        if (resumable or status == "stopped") and config is not None:
            self.final_event = TrainingStopped(run_dir, self.model_path, int(result.get("epochs_completed", 0) or 0))
        t1, t5 = result.get("test_top1"), result.get("test_top5")
        info = DATASETS.get(config.dataset) if config is not None else None
        note = top5_note(info.num_classes) if info is not None else None
        self.plots.set_top5_note(note)
        self.plots.set_loss_label(loss_label(config) if config is not None else None)
        if t1 is not None:
            n = len(history_rows)
            self.plots.set_test(float(n), {"top1": t1, "top5": None if note else t5, "loss": result.get("test_loss")})
            self.plots.refresh()
            self.result_label.setText(f"Test top-1 <b>{pct(t1)}</b> · "
                                      + (f"<i>{html_text(note)}</i>" if note else f"top-5 <b>{pct(t5)}</b>"))
        else:
            self.result_label.setText("")
        self.log_line(f"Opened run {run_dir} ({len(history_rows)} epochs{', ' + status if status else ''}).")
        self._update_buttons()

    def clear_run(self) -> None:
        """Back to idle, no run shown (an offered run was dismissed)."""
        if self.is_running():
            return
        self.plots.reset()
        self.clear_stats()
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.result_label.setText("")
        self.run_dir = self.config = self.final_event = self.model_path = None
        self._update_buttons()

    # --- events from the engine (queued from the worker thread) ---------------------------------
    @Slot(object)
    def on_event(self, event: object) -> None:
        self._note_activity(event)
        if isinstance(event, BatchProgress):
            self.show_batch(event)
        elif isinstance(event, FinishingProgress):
            self.show_phase(event)
        elif isinstance(event, EpochEnded):
            self.epochs_done = event.epoch + 1
            self.show_epoch(event)
            self._update_buttons()
        elif isinstance(event, TrainingStarted):
            self.run_dir = event.run_dir
            self.epochs_done = event.initial_epoch
            self.device_known.emit(event.device)
            self.show_started(event)
            self.run_started.emit(event.run_dir)
            self._update_buttons()
        elif isinstance(event, (TrainingFinished, TrainingStopped, TrainingFailed)):
            self._on_final(event)
        elif isinstance(event, BatchSizeReduced):  # out of memory: the run goes on with half the batch
            self.log_line(event.message)
            self._drop_batches_after(event.from_epoch)
        elif isinstance(event, ChildOutput):  # the training process's stderr (TensorFlow's start-up lines)
            self.log_line("\n".join(event.lines))

    def _note_activity(self, event: object) -> None:
        """Tell the status bar what the run is doing now, once per change (not per batch)."""
        text = activity(event, self.started)
        if text and text != self._activity:
            self._activity = text
            self.status_message.emit(text)

    def _drop_batches_after(self, epoch: float) -> None:
        """Forget the per-batch points of the epoch that ran out of memory: it is trained again."""
        for p in self.plots.plots.values():
            keep = sum(1 for x in p.batch_x if x <= epoch)
            del p.batch_x[keep:], p.batch_y[keep:]
            p.batch_dirty = True
        self.plots.refresh()

    def _on_final(self, e: TrainingFinished | TrainingStopped | TrainingFailed) -> None:
        self.final_event = e
        self.model_path = e.model_path
        if isinstance(e, TrainingFinished):
            self.test_metrics = {"top1": e.test_top1, "top5": e.test_top5, "loss": e.test_loss}
        elif isinstance(e, TrainingStopped) and e.test_top1 is not None:
            self.test_metrics = {"top1": e.test_top1, "top5": e.test_top5}
        self.status_message.emit(self.show_final(e))
        self.run_ended.emit(e)

    @Slot(str)
    def _on_task_finished(self, name: str) -> None:
        if name != TRAINING or self.worker is None:
            return
        self.worker = None
        self.plots.stop_live()
        self.plots.follow_data()
        if self.final_event is None:
            self.log_line("The training thread ended without a final report.")
        self._update_buttons()
        self.running_changed.emit(False)

    def wait_for_thread(self, timeout_ms: int = 120_000) -> bool:
        """Block until the training thread ended (only for application shutdown)."""
        if self.worker is None:
            return True
        ok = self.tasks.wait_all(timeout_ms)
        if ok:
            self._on_task_finished(TRAINING)
        return ok

    # --- handing the trained model to other tabs --------------------------------------------------
    def model_offer(self) -> ModelOffer | None:
        """The run's model with the data it was tested on, or None without a model (``model_path`` is
        cleared when a run starts and set by its final event)."""
        if not self.model_path:
            return None
        c = self.config
        return ModelOffer(
            model_path=str(self.model_path),
            dataset_id=c.dataset if c is not None else None,
            data_dir=c.data_dir if c is not None else None,
            test_limit=int(c.test_limit or 0) if c is not None else 0,
            test_top1=self.test_metrics.get("top1") if self.test_metrics else None,
        )

    @Slot()
    def request_evaluate(self) -> None:
        offer = self.model_offer()
        if offer is not None:
            self.evaluate_requested.emit(offer)

    @Slot()
    def request_classify(self) -> None:
        offer = self.model_offer()
        if offer is not None:
            self.classify_requested.emit(offer)

    # --- saving and export ----------------------------------------------------------------------
    @Slot()
    def save_model_dialog(self) -> None:
        if not self.model_path:
            return
        fmt = Path(self.model_path).suffix or ".h5"
        start = str(Path(self.run_dir or ".") / f"model{fmt}")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save model", start, "HDF5 model (*.h5);;Keras model (*.keras)"
        )
        if path:
            self.save_model_as(path)

    def save_model_as(self, path: str) -> bool:
        """Copy the run's model to ``path`` (.h5 default); another format is converted on a worker.
        A failure emits ``save_failed`` with one sentence, which the tab shows."""
        if not self.model_path or not Path(self.model_path).exists():
            self.save_failed.emit("There is no trained model to save yet; train or open a run first.")
            return False
        target = model_target(path)
        source = Path(self.model_path)
        if source.suffix.lower() == target.suffix.lower():
            try:
                copy_atomically(source, target)
            except OSError as exc:
                self.save_failed.emit(failure_sentence("the model", target, exc))
                return False
            self._on_converted(str(target))
            return True
        self.log_line(f"Converting {source.name} to {target.suffix} …")
        self._saving_to = str(target)
        self.tasks.start(
            convert_model, str(source), str(target), name=SAVING,
            on_success=self._on_converted, on_failure=self._on_convert_failed,
        )
        return True

    @Slot(object)
    def _on_converted(self, target: str) -> None:
        self.log_line(f"Model saved to {target}")
        self.status_message.emit(f"Model saved to {target}")
        self.model_saved.emit(target)

    @Slot(object)
    def _on_convert_failed(self, error: TaskError) -> None:
        self.save_failed.emit(failure_sentence("the model", self._saving_to, error.message))

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self.show_error(message)
        self.status_message.emit(message)

    @Slot()
    def export_plots_dialog(self) -> None:
        start = str(Path(self.run_dir or ".") / "curves.png")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plots", start, "PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"
        )
        if path:
            self.export_plots(path)

    def export_plots(self, path: str) -> Path | None:
        try:
            out = self.plots.export(path)
        except (ValueError, OSError) as exc:
            self.save_failed.emit(failure_sentence("the plots", path, exc))
            return None
        self.log_line(f"Plots exported to {out}")
        return out

    @Slot()
    def export_history_dialog(self) -> None:
        if not self.run_dir:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export history", str(Path(self.run_dir) / "history-export.csv"), "CSV (*.csv)"
        )
        if path:
            self.export_history(path)

    def export_history(self, path: str) -> Path | None:
        source = Path(self.run_dir or "") / "history.csv"
        if not self.run_dir or not source.exists():
            self.log_line("This run has no history.csv yet.")
            return None
        try:
            copy_atomically(source, path)
        except OSError as exc:
            self.save_failed.emit(failure_sentence("the history", path, exc))
            return None
        self.log_line(f"History exported to {path}")
        return Path(path)
