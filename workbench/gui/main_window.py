"""The main window: experiment controls on the left, Dataset / Model / Training / Runs /
Classify / Evaluate / Map tabs on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QWidget,
)

from workbench.core.datasets.user_datasets import registry_path
from workbench.gui.panels.classify import ClassifyPanel
from workbench.gui.panels.dataset_browser.panel import DatasetBrowserPanel
from workbench.gui.panels.embedding_map import EmbeddingMapPanel
from workbench.gui.panels.evaluate import EvaluatePanel
from workbench.gui.panels.experiment.panel import ExperimentPanel
from workbench.gui.panels.experiment.text import cpu_device_text
from workbench.gui.panels.model_panel import fill_dataset_combo
from workbench.gui.panels.model_view import ModelViewPanel
from workbench.gui.panels.queue import QueuePanel
from workbench.gui.panels.runs import RunDetails, RunsPanel
from workbench.gui.panels.training import ModelOffer, TrainingPanel, history_columns
from workbench.gui.setting_values import PLOT_X_AXES, PLOT_X_AXIS_KEY
from workbench.gui.settings import SettingsReader, open_settings, rejected_note
from workbench.gui.status_bar import WindowStatus
from workbench.gui.tasks import PanelTasks
from workbench.gui.widgets.file_watch import FileWatch
from workbench.gui.widgets.model_files import MODEL_FILTER, official_data_path, split_paths
from workbench.gui.window_fit import restore_geometry, save_geometry
from workbench.gui.wording import in_window_terms

TAB_DATASET, TAB_MODEL, TAB_TRAINING, TAB_RUNS, TAB_CLASSIFY, TAB_EVALUATE, TAB_MAP = range(7)
FORM_WIDTH = 360  # the form's first width; narrower (FORM_MIN_WIDTH at most), it wraps and then scrolls
FORM_MIN_WIDTH = 340
TAB_NAMES = ("&Dataset", "&Model", "&Training", "R&uns", "&Classify", "&Evaluate", "Ma&p")


def _probe_devices():
    """Worker-thread function: ask TensorFlow which device will train (imports it there)."""
    from workbench.core.training.devices import probe_devices

    return probe_devices()


class MainWindow(QMainWindow):
    background_started = Signal()

    def __init__(self, settings: QSettings | None = None, runs_root: str | None = None,
                 count_params: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("CIFAR Workbench")
        self.setObjectName("MainWindow")
        self.settings = settings if settings is not None else open_settings()
        self.ask_before_closing = True  # tests set False: closing while training then stops without asking
        self._background_started = False
        self._close_pending = False
        self._closing_done = False

        self.tasks = PanelTasks(self)  # the window's own (the device probe); each panel owns its tasks
        self.experiment = ExperimentPanel()
        self.experiment.auto_count_params = count_params
        self.browser = DatasetBrowserPanel()
        self.model_view = ModelViewPanel()
        self.training = TrainingPanel(config_provider=self.experiment.config)
        self.runs = RunsPanel()
        self.classify = ClassifyPanel()
        self.evaluate = EvaluatePanel()
        self.embedding_map = EmbeddingMapPanel()
        self._offer: ModelOffer | None = None  # the last trained model, not yet handed to Evaluate
        self._evaluate_when_loaded = False

        self.tabs = QTabWidget()
        self.tabs.addTab(self.browser, "Dataset")
        self.tabs.addTab(self.model_view, "Model")
        self.tabs.addTab(self.training, "Training")
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.addTab(self.classify, "Classify")
        self.tabs.addTab(self.evaluate, "Evaluate")
        self.tabs.addTab(self.embedding_map, "Map")
        self.queue = QueuePanel(self.training, runs_root=runs_root)
        self.tabs.addTab(self.queue, "Queue")
        scroll = QScrollArea()
        scroll.setWidget(self.experiment)
        scroll.setWidgetResizable(True)
        # The form wraps its rows when narrow and scrolls sideways rather than clip what it cannot wrap.
        margin = scroll.verticalScrollBar().sizeHint().width() + 2 * scroll.frameWidth()
        scroll.setMinimumWidth(min(FORM_MIN_WIDTH, self.experiment.minimumSizeHint().width() + margin))
        form_width = max(FORM_WIDTH, scroll.minimumWidth())
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([form_width, 1000])
        self.setCentralWidget(self.splitter)

        self.status = WindowStatus(self.statusBar(), cpu_device_text())
        self.status_label, self.device_label = self.status.message, self.status.device_label
        self.settings_note = self.status.settings_note
        self._build_actions()
        self.setAcceptDrops(True)

        self.settings_rejected = self._load_settings()
        if runs_root is not None:
            self.experiment.runs_root = runs_root
        self.runs.runs_root = self.experiment.runs_root

        self.experiment.dataset_changed.connect(self._on_dataset_changed)
        self.experiment.arch_changed.connect(self._on_arch_changed)
        self.experiment.train_problem_changed.connect(self._on_train_problem)
        self.training.set_start_problem(self.experiment.train_problem())
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.browser.data_dir_chosen.connect(self._on_data_dir_chosen)
        self.browser.dataset_loaded.connect(self._on_dataset_loaded)
        self.browser.dataset_missing.connect(self._on_dataset_missing)
        self.browser.dataset_added.connect(self._on_dataset_added)
        self.browser.import_failed.connect(self._on_import_failed)
        self.browser.import_cancelled.connect(self._on_import_cancelled)
        self.training.running_changed.connect(self._on_running_changed)
        self.training.device_known.connect(self.status.device_from_run)
        self.training.status_message.connect(self.show_status)
        self.training.run_ended.connect(self._on_run_ended)
        self.training.evaluate_requested.connect(self._on_evaluate_requested)
        self.training.classify_requested.connect(self._on_classify_requested)
        self.training.resume_offer.offered.connect(lambda _run_dir: self._update_actions())
        self.evaluate.model_loaded.connect(self._on_evaluate_model_loaded)
        self.evaluate.model_loaded.connect(self.classify.follow_model)  # Classify follows it too
        self.evaluate.model_loaded.connect(self._on_model_for_layers)  # and the Model tab's layers view
        self.classify.model_loaded.connect(self._on_model_for_layers)
        self.evaluate.model_loaded.connect(self.embedding_map.follow_model)  # and the Map, on its test set
        self.evaluate.evaluation_failed.connect(self.show_status)
        self.classify.status_changed.connect(self.show_status)
        self.runs.open_requested.connect(self._on_open_run)
        self.runs.overlay_requested.connect(self._on_overlay_runs)
        self.runs.clear_overlays_requested.connect(self._on_clear_overlays)
        self.queue.runs_root = self.experiment.runs_root
        self.queue.status_message.connect(self.show_status)
        self.queue.report_data_wanted.connect(self._on_report_data_wanted)
        self.queue.queue_running_changed.connect(lambda _active: self._update_actions())
        self.experiment.queue_requested.connect(self.queue.add_config)
        self.experiment.queue_refused.connect(lambda why: self.show_status(f"Cannot queue: {why}"))
        self.runs.resume_requested.connect(self._on_resume_run)
        for tasks in self.all_tasks():
            tasks.idle.connect(self._on_tasks_idle)
        self.datasets_watch = FileWatch(registry_path(), self)  # datasets added or removed from the CLI
        self.datasets_watch.changed.connect(self._on_datasets_file_changed)

        self._restore_window()
        self._update_actions()
        if self.settings_rejected:
            self.status.note_settings(rejected_note(self.settings_rejected))

    # --- settings -------------------------------------------------------------------------------
    def _load_settings(self) -> list[str]:
        """Fill the form from gui.ini; returns the settings that were reset. A broken file never keeps the
        window from opening: whatever cannot be read keeps its default."""
        try:
            return self.experiment.load_settings(self.settings)
        except Exception:  # noqa: BLE001 - last resort; load_settings checks every value it reads
            return ["experiment"]

    def _restore_window(self) -> None:
        reader = SettingsReader(self.settings)
        restore_geometry(self, self.settings, reader)
        tab = reader.value("window/tab", TAB_DATASET, lo=0, hi=self.tabs.count() - 1)
        self.tabs.setCurrentIndex(tab)
        self.training.wall_axis.setChecked(reader.value(PLOT_X_AXIS_KEY, "epoch", choices=PLOT_X_AXES) == "wall")
        self.settings_rejected.extend(reader.rejected)

    # --- actions --------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcuts=(), tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        m = self.menuBar()
        file = m.addMenu("&File")
        self.open_data_action = self._action("Open dataset &folder…", self.browser.choose_folder, ["Ctrl+O"])
        self.open_archive_action = self._action("Open dataset &archive…", self.browser.choose_archive, ["Ctrl+Shift+O"])
        self.add_images_action = self._action("Add &image folder…", self.browser.add_image_folder, ["Ctrl+I"],
                                              "Import a folder of your own images (one subfolder per class)")
        self.add_images_archive_action = self._action("Add images from a&rchive…", self.browser.open_image_archive,
                                                      ["Ctrl+Shift+I"], "Import a .zip/.tar/.tar.gz of class folders")
        self.save_action = self._action("&Save model…", self.training.save_model_dialog, [QKeySequence.StandardKey.Save])
        self.export_action = self._action("&Export plots…", self.training.export_plots_dialog, ["Ctrl+E"])
        self.export_csv_action = self._action("Export &history CSV…", self.training.export_history_dialog, ["Ctrl+Shift+E"])
        self.open_model_action = self._action("Open &model…", self.open_model_dialog, ["Ctrl+M"],
                                              "Open a Keras model (.h5 / .keras) in the Classify tab")
        self.quit_action = self._action("&Quit", self.close, [QKeySequence.StandardKey.Quit])
        for a in (self.add_images_action, self.add_images_archive_action, None, self.open_data_action,
                  self.open_archive_action, self.open_model_action, None, self.save_action,
                  self.export_action,
                  self.export_csv_action, None, self.quit_action):
            file.addSeparator() if a is None else file.addAction(a)
        run = m.addMenu("&Run")
        self.start_action = self._action("&Start training", self.start_training, ["Ctrl+R"])
        self.stop_action = self._action("S&top training", self.training.stop, ["Esc", "Ctrl+."])
        self.resume_action = self._action("&Resume stopped run", self.training.resume, ["Ctrl+Shift+R"])
        self.refresh_runs_action = self._action("Refresh &runs", self.runs.refresh, ["F5"])
        self.add_to_queue_action = self._action("&Add to queue", self.experiment.queue_button.click, ["Ctrl+Shift+Q"])
        self.run_queue_action = self._action("Run &queue", self.queue.run_queue)
        self.report_action = self._action("Reproduce the re&port…", self.reproduce_report, [],
                                          "Queue the course report's runs and show its table beside ours")
        for a in (self.start_action, self.stop_action, self.resume_action, None, self.refresh_runs_action, None,
                  self.add_to_queue_action, self.run_queue_action, self.report_action):
            run.addSeparator() if a is None else run.addAction(a)
        view = m.addMenu("&View")
        for i, name in enumerate(TAB_NAMES):
            action = self._action(name, self._show_tab_from_action, [f"Ctrl+{i + 1}"])
            action.setData(i)
            view.addAction(action)
        data = m.addMenu("&Data")
        data.addAction(self._action("&Next page", self.browser.next_page, ["Ctrl+Right"]))
        data.addAction(self._action("&Previous page", self.browser.previous_page, ["Ctrl+Left"]))
        data.addAction(self._action("S&huffle", self.browser.shuffle, ["Ctrl+H"]))

    @Slot()
    def reproduce_report(self) -> None:
        """Ask about the report's six runs (time here, missing data), on the Queue tab with the report's table."""
        self.tabs.setCurrentWidget(self.queue)
        self.queue.ask_report("both")

    @Slot(str, str)
    def _on_report_data_wanted(self, action: str, dataset_id: str) -> None:
        """From the report's question: download or open the missing data on the Dataset tab."""
        self.experiment.set_dataset(dataset_id)
        self.tabs.setCurrentIndex(TAB_DATASET)
        (self.browser.start_download if action == "download" else self.browser.choose_folder)()

    def _show_tab_from_action(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.tabs.setCurrentIndex(int(action.data()))

    def _update_actions(self) -> None:
        running = self.training.is_running()
        self.start_action.setEnabled(not running and not self.experiment.train_problem())
        self.stop_action.setEnabled(running)
        self.resume_action.setEnabled(self.training.can_resume())
        self.experiment.setEnabled(not running or self.queue.is_active())  # runs can be queued meanwhile

    # --- startup --------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if not self._background_started:
            self._background_started = True
            # Deferred: nothing touches a worker (or TensorFlow) before the window is on screen.
            QTimer.singleShot(0, self._start_background)

    @Slot()
    def _start_background(self) -> None:
        self.experiment.start_background_work()
        if self.experiment.auto_count_params:  # tests that keep TensorFlow out turn both off
            self.tasks.start(_probe_devices, name="devices", on_success=self.status.device_probed)
        self.browser.set_dataset(self.experiment.dataset_id(), self.experiment.data_dir)
        if self.tabs.currentIndex() == TAB_MODEL:
            self._show_model()
        self.runs.refresh()
        self.training.resume_offer.look(self.settings, self.experiment.runs_root)  # a run cut short last time
        self.background_started.emit()

    @Slot(str)
    def show_status(self, text: str) -> None:
        self.status.show(text)

    # --- panel wiring ---------------------------------------------------------------------------
    @Slot(str)
    def _on_dataset_changed(self, dataset_id: str) -> None:
        if not self.training.is_running():
            self.training.clear_failure()  # the last run's failure was about the other dataset
        if self._background_started:
            shown = self.browser.data
            if not (shown is not None and shown.dataset_id == dataset_id and self.browser.is_showing_samples()):
                self.browser.set_dataset(dataset_id, self.experiment.data_dir)  # (a just-imported one is shown)
            if self.tabs.currentIndex() == TAB_MODEL:
                self._show_model()

    @Slot(str)
    def _on_arch_changed(self, _arch: str) -> None:
        if self._background_started and self.tabs.currentIndex() == TAB_MODEL:
            self._show_model()

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        if index == TAB_MODEL and self._background_started:
            self._show_model()
        elif index == TAB_MAP:
            ev = self.evaluate  # the Map shows Evaluate's model on Evaluate's test set
            self.embedding_map.set_dataset(ev.dataset_combo.currentData(), ev.data_dir or self.experiment.data_dir)
        elif index in (TAB_CLASSIFY, TAB_EVALUATE):
            panel = self.classify if index == TAB_CLASSIFY else self.evaluate
            if panel.data_dir is None:
                panel.data_dir = self.experiment.data_dir  # test images come from where the data is
            if index == TAB_EVALUATE and self._offer is not None and self.evaluate.loaded is None \
                    and not getattr(self.evaluate.setup, "busy", False):
                self.offer_to_evaluate(self._offer, evaluate_now=False)  # the last run's model, ready to go

    @Slot(str)
    def _on_train_problem(self, problem: str) -> None:
        self.training.set_start_problem(problem)  # Train is disabled, with the reason beside it
        self._update_actions()

    def _show_model(self) -> None:
        self.model_view.show_model(self.experiment.arch_name(), self.experiment.num_classes(),
                                   self.experiment.options(), input_shape=self.experiment.image_shape())

    @Slot(str)
    def _on_data_dir_chosen(self, path: str) -> None:
        self.experiment.data_dir = path

    @Slot(str)
    def _on_dataset_loaded(self, dataset_id: str) -> None:
        data = self.browser.data
        if data is not None:
            ds = data.dataset
            self.show_status(f"{dataset_id}: {len(ds.y_train):,} training and {len(ds.y_test):,} test images")

    @Slot(str)
    def _on_dataset_added(self, name: str) -> None:
        """The user's images were imported: offer them in the experiment's list and select them."""
        self.experiment.fill_datasets()
        for combo in (self.evaluate.dataset_combo, self.classify.dataset_combo):
            if combo.findData(name) < 0:
                combo.addItem(name, name)
        self.experiment.set_dataset(name)
        data = self.browser.data
        result = getattr(data, "imported", None)
        if result is not None:
            self.show_status(f"Added {name}: {result.summary()}")

    @Slot()
    def _on_datasets_file_changed(self) -> None:
        """datasets.json changed (e.g. `datasets add` in a terminal): list the datasets again, keeping choices."""
        self.experiment.fill_datasets()
        for combo in (self.evaluate.dataset_combo, self.classify.dataset_combo):
            fill_dataset_combo(combo)

    @Slot(str)
    def _on_import_failed(self, message: str) -> None:
        self.show_status(in_window_terms(message))

    @Slot()
    def _on_import_cancelled(self) -> None:
        self.show_status("Import cancelled; nothing was added.")

    @Slot(str)
    def _on_dataset_missing(self, dataset_id: str) -> None:
        self.show_status(f"{dataset_id} is not on disk yet — see the Dataset tab to download or open it.")

    @Slot(bool)
    def _on_running_changed(self, running: bool) -> None:
        self._update_actions()
        if running and not self.queue.is_active():  # queued runs leave the user on the tab they chose
            self.tabs.setCurrentIndex(TAB_TRAINING)
        elif self._close_pending:
            QTimer.singleShot(0, self.close)

    @Slot(object)
    def _on_run_ended(self, event: object) -> None:
        self._update_actions()
        if not self._close_pending:
            self.runs.refresh()
            # Offered, not loaded: the Evaluate tab opens it when first shown, or at "Evaluate this model".
            self._offer = self.training.model_offer() if getattr(event, "model_path", None) else None
            if self._offer is not None:  # Classify follows the model just trained
                self.classify.offer_model(self._offer.model_path, self._offer.dataset_id, self._offer.data_dir)

    # --- trained models into Classify / Evaluate ----------------------------------------------
    def offer_to_evaluate(self, offer: ModelOffer, evaluate_now: bool = True) -> None:
        """Open ``offer``'s model in the Evaluate tab on the run's dataset and test images (the same
        first N the run was tested on); with ``evaluate_now`` the evaluation starts once it is loaded."""
        self._offer = None
        ev = self.evaluate
        if offer.dataset_id:
            ev.set_dataset(offer.dataset_id, offer.data_dir or self.experiment.data_dir)
        ev.set_limit(offer.test_limit)
        self._evaluate_when_loaded = evaluate_now
        ev.open_model(offer.model_path)
        self.tabs.setCurrentIndex(TAB_EVALUATE)

    def offer_to_classify(self, offer: ModelOffer) -> None:
        """Open ``offer``'s model in the Classify tab, with test images from the run's dataset."""
        if offer.dataset_id:
            self.classify.set_dataset(offer.dataset_id, offer.data_dir or self.experiment.data_dir)
        self.open_model(offer.model_path)

    @Slot(object)
    def _on_evaluate_requested(self, offer: ModelOffer) -> None:
        self.offer_to_evaluate(offer, evaluate_now=True)

    @Slot(object)
    def _on_classify_requested(self, offer: ModelOffer) -> None:
        self.offer_to_classify(offer)

    @Slot(object)
    def _on_evaluate_model_loaded(self, _loaded: object) -> None:
        if self._evaluate_when_loaded:
            self._evaluate_when_loaded = False
            self.evaluate.evaluate()

    @Slot(object)
    def _on_model_for_layers(self, loaded: object) -> None:
        panel = self.sender()  # Classify or Evaluate: its test set and data folder suit the model
        dataset = panel.dataset_combo.currentData() if hasattr(panel, "dataset_combo") else None
        data_dir = getattr(panel, "data_dir", None) or self.experiment.data_dir
        self.model_view.follow_model(loaded, dataset, data_dir)
        self.model_view.follow_loaded(loaded)  # and its layer graph, when "the loaded model" is chosen

    @Slot()
    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", MODEL_FILTER)
        if path:
            self.open_model(path)

    def open_model(self, path: str) -> None:
        """Open a model file in the Classify tab (and show that tab)."""
        self.classify.open_model(str(path))
        self.tabs.setCurrentIndex(TAB_CLASSIFY)

    @Slot()
    def start_training(self) -> bool:
        return self.training.start_from_form()

    @Slot(object)
    def _on_open_run(self, details: RunDetails) -> None:
        if self.training.is_running():
            self.show_status("A run is training; open earlier runs when it has ended (or overlay them).")
            return
        resumable = bool(getattr(details.summary, "resumable", False))
        self.training.show_run(details.run_dir, details.history, details.result, details.config, resumable)
        self.tabs.setCurrentIndex(TAB_TRAINING)
        self._update_actions()

    @Slot(object)
    def _on_overlay_runs(self, details: list) -> None:
        for d in details:
            self.training.plots.add_overlay(Path(d.run_dir).name, history_columns(d.history))
        self.tabs.setCurrentIndex(TAB_TRAINING)
        self.show_status(f"Overlaid {len(details)} run(s) on the training plots.")

    @Slot()
    def _on_clear_overlays(self) -> None:
        self.training.plots.clear_overlays()

    @Slot(object)
    def _on_resume_run(self, details: RunDetails) -> None:
        config = details.config
        if config is None:
            self.show_status("This run has no readable config.json, so it cannot be resumed.")
            return
        done = int(getattr(details.summary, "epochs_done", 0) or len(details.history))
        if done >= config.epochs:
            wanted = self.experiment.epochs.value()
            if wanted <= done:
                self.show_status(f"This run already completed {done} epochs; set Epochs above {done} to continue it.")
                return
            config = config.replace(epochs=wanted)
        self.training.resume_run(details.run_dir, config, details.history)

    # --- drag and drop --------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_dropped(paths)
            event.acceptProposedAction()

    def open_dropped(self, paths: list[str]) -> None:
        """A model file opens in Classify; images dropped on the Classify tab are classified there;
        anything else is a dataset folder or archive."""
        on_classify = self.tabs.currentIndex() == TAB_CLASSIFY
        models, others = split_paths(paths)
        if models:
            self.open_model(models[0])
            if others and on_classify:
                self.classify.add_images(others)  # queued until the model is loaded
        elif on_classify:
            self.classify.add_images(others)
        elif others:
            self.open_data_path(others[0])

    def open_data_path(self, path: str) -> None:
        """A dropped CIFAR/MNIST folder or archive is used for the selected dataset; any other folder or
        .zip/.tar/.tar.gz is the user's own images, imported (after asking for a name) on the Dataset tab."""
        if not official_data_path(path):
            self.tabs.setCurrentIndex(TAB_DATASET)
            self.browser.ask_and_import(path)
            return
        name = Path(path).name.lower()
        self.experiment.data_dir = path
        self.tabs.setCurrentIndex(TAB_DATASET)
        wanted = self.experiment.dataset_id()
        if "cifar-100" in name and wanted not in ("cifar100", "cifar100-coarse"):
            wanted = "cifar100"
        elif "cifar-10-" in name:
            wanted = "cifar10"
        if wanted != self.experiment.dataset_id():
            self.experiment.set_dataset(wanted)  # loads from the new data_dir via dataset_changed
        else:
            self.browser.use_path(path)

    # --- closing --------------------------------------------------------------------------------
    def confirm_close(self) -> bool:
        if not self.ask_before_closing:
            return True
        answer = QMessageBox.question(
            self, "Training is running",
            "A run is still training. Stop it (the model so far is saved) and close?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.training.is_running():
            if not self._close_pending:
                if not self.confirm_close():
                    event.ignore()
                    return
                self._close_pending = True
                self.training.stop()
                self.show_status("Stopping the run before closing…")
            event.ignore()  # closes again from _on_running_changed once the thread has ended
            return
        if not self.is_idle():
            self._close_pending = True
            for tasks in self.all_tasks():
                tasks.cancel_all()
            self.show_status("Finishing background work before closing…")
            event.ignore()  # closes again from _on_tasks_idle
            return
        if not self._closing_done:
            self._closing_done = True
            self._save_settings()
            self.classify.shutdown()  # every panel is idle here: these only close dialogs
            self.queue.shutdown()  # gives the queue's runner lock back
            self.evaluate.shutdown()
            self.embedding_map.shutdown()
        event.accept()

    @Slot()
    def _on_tasks_idle(self) -> None:
        if self._close_pending and not self.training.is_running() and self.is_idle():
            QTimer.singleShot(0, self.close)

    def all_tasks(self) -> list[PanelTasks]:
        """The window's and every panel's background tasks."""
        panels = (self.experiment, self.browser, self.model_view, self.training, self.runs, self.classify,
                  self.evaluate, self.embedding_map, self.queue)
        return [self.tasks] + [p.tasks for p in panels]

    def is_idle(self) -> bool:
        """No background task of any panel (training included) is running or has undelivered results."""
        return all(tasks.is_idle() for tasks in self.all_tasks())

    def _save_settings(self) -> None:
        s = self.settings
        self.experiment.save_settings(s)
        save_geometry(self, s)
        s.setValue("window/tab", self.tabs.currentIndex())
        s.setValue(PLOT_X_AXIS_KEY, self.training.plots.x_axis)
        s.sync()

    def shutdown(self, timeout_ms: int = 120_000) -> None:
        """Stop everything and wait (blocking) — for scripts and tests that must not leave threads."""
        self.training.stop()
        for tasks in self.all_tasks():
            if tasks is not self.training.tasks:
                tasks.cancel_all()
        self.training.wait_for_thread(timeout_ms)
        self.classify.shutdown()
        self.evaluate.shutdown()
        self.embedding_map.shutdown()
        for tasks in self.all_tasks():
            tasks.wait_all(timeout_ms)
        QApplication.processEvents()
