"""Screenshots of the real window, driven as a user would: ``take_screenshots(out_dir)``.

Used by ``python main.py screenshots --out DIR [--dataset ID|NAME|PATH] [--data-dir D]``; a PATH (an
image folder or archive) is added through the window first (import dialog, progress, skipped files). Runs offscreen,
keeps its settings and runs in a temporary folder, and trains a few hundred images for a few epochs.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QAbstractEventDispatcher, QCoreApplication, QEventLoop, QSettings, QThread  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402


# Optimizer steps the screenshot run takes at least (small user folders), with an epoch cap that keeps it short.
MIN_STEPS = 40
MAX_SMALL_SET_EPOCHS = 30


def _wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``predicate()`` holds or ``timeout_s`` has passed; never longer.

    The GUI thread sleeps in the event dispatcher (so timers and queued signals are served as
    promptly as under ``app.exec()``), and a helper thread wakes the dispatcher every 50 ms with the
    thread-safe ``QAbstractEventDispatcher.wakeUp()`` so the predicate and the deadline are checked
    even when no Qt event arrives. Earlier versions relied on a 50 ms ``QTimer`` quitting a nested
    ``QEventLoop``; if that timer was not delivered the wait never returned."""
    deadline = time.monotonic() + max(0.0, timeout_s)
    dispatcher = QAbstractEventDispatcher.instance(QThread.currentThread())
    if dispatcher is None:  # no event dispatcher yet (no application): plain polling
        while not predicate():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True
    stop = threading.Event()

    def wake() -> None:
        while not stop.wait(0.05):
            dispatcher.wakeUp()

    waker = threading.Thread(target=wake, name="wait-until-waker", daemon=True)
    waker.start()
    try:
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents
                                           | QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    finally:
        stop.set()
        waker.join(1.0)
    return True


def _settle(seconds: float = 0.3) -> None:
    _wait_until(lambda: False, seconds)


def _save(widget: QWidget, path: Path, saved: list[Path]) -> None:
    QApplication.processEvents()
    widget.grab().save(str(path))
    saved.append(path)


def dataset_problem(dataset_id: str, data_dir: str | None) -> str | None:
    """Why ``dataset_id`` (a built-in id, a user dataset's name, or an image folder / archive path, in
    ``data_dir`` for the built-in ones) cannot be shown, as one sentence in CLI terms; None when it can."""
    from workbench.core.datasets import DATASETS, dataset_available, find_user_dataset
    from workbench.core.datasets.user_archive import is_archive
    from workbench.core.datasets.resolve import looks_like_path, path_of

    if dataset_id not in DATASETS:
        if find_user_dataset(dataset_id) is not None:
            return None if dataset_available(dataset_id) else (
                f"The folder of your dataset {dataset_id!r} is gone; add it again with `datasets add`.")
        if looks_like_path(dataset_id):
            path = path_of(dataset_id)
            if path.is_dir() or (path.is_file() and is_archive(path)):
                return None
            return (f"{dataset_id} is not a folder or a .zip/.tar/.tar.gz archive; give --dataset a folder of "
                    "class folders, an archive of one, or a dataset id.")
        return (f"There is no dataset called {dataset_id!r}; use --dataset with one of "
                f"{', '.join(DATASETS)}, a name from `datasets`, or the path of an image folder or archive.")
    if data_dir is not None and not Path(data_dir).exists():
        return f"The --data-dir {data_dir} does not exist; give the folder or archive that holds {dataset_id}."
    if not dataset_available(dataset_id, data_dir):
        where = f" in {data_dir}" if data_dir else ""
        return (f"{DATASETS[dataset_id].title} is not on this computer{where}; download it with "
                f"`download {dataset_id}`, point --data-dir at it, or use --dataset builtin.")
    return None


def _import_shots(window, path: str, out: Path, saved: list[Path]) -> None:
    """The user's folder added as a user would: the import dialog, the progress bar part-way, the grid
    with their class names, and the skipped-files list."""
    browser = window.browser
    dialog = browser.ask_and_import(path)
    _settle(0.2)
    _save(dialog, out / "20-import-dialog.png", saved)
    taken: list[int] = []

    def grab_part_way(value: int) -> None:
        # Called on the GUI thread as the bar moves: the first value short of the end is the picture.
        if not taken and 0 < value < browser.import_progress.maximum():
            taken.append(value)
            _save(window, out / "21-import-progress.png", saved)

    browser.import_progress.valueChanged.connect(grab_part_way)
    dialog.accept()
    _wait_until(lambda: not browser.is_importing(), 600)
    browser.import_progress.valueChanged.disconnect(grab_part_way)
    _wait_until(browser.is_showing_samples, 60)
    _settle(0.3)
    _save(window, out / "22-user-dataset.png", saved)
    skipped = browser.show_skipped()
    if skipped is not None:
        _settle(0.2)
        _save(skipped, out / "23-skipped-files.png", saved)
        skipped.close()


def take_screenshots(out_dir, dataset_id: str = "builtin", data_dir: str | None = None,
                     epochs: int = 4, limit: int = 600, arch: str = "simple_cnn") -> list[Path]:
    """Open the MainWindow offscreen, use each panel, save one PNG per panel; returns the paths.
    Raises ValueError (one sentence, see ``dataset_problem``) for a dataset it cannot show, before writing."""
    problem = dataset_problem(dataset_id, data_dir)
    if problem:
        raise ValueError(problem)
    from workbench.gui.app import application
    from workbench.gui.main_window import (
        TAB_DATASET,
        TAB_MODEL,
        TAB_RUNS,
        TAB_TRAINING,
        MainWindow,
    )

    from workbench.core.datasets import DATASETS, find_user_dataset

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = application()
    work = Path(tempfile.mkdtemp(prefix="workbench-screens-"))
    # A folder or archive is added through the window as a user would, remembered in a scratch home
    # (never in the user's own list of datasets).
    import_path = None if dataset_id in DATASETS or find_user_dataset(dataset_id) else dataset_id
    old_home = os.environ.get("WORKBENCH_HOME")
    if import_path is not None:
        os.environ["WORKBENCH_HOME"] = str(work / "home")
    settings = QSettings(str(work / "gui.ini"), QSettings.Format.IniFormat)
    settings.setValue("experiment/dataset", "builtin" if import_path else dataset_id)
    if data_dir:
        settings.setValue("experiment/data_dir", str(data_dir))
    window = MainWindow(settings=settings, runs_root=str(work / "runs"))
    window.ask_before_closing = False
    window.resize(1280, 720)  # a small laptop screen: what every state must fit
    window.show()
    saved: list[Path] = []
    try:
        browser = window.browser
        _wait_until(lambda: browser.dataset_id is not None, 10)
        _wait_until(lambda: browser.is_showing_samples() or browser.is_showing_missing(), 600)
        window.tabs.setCurrentIndex(TAB_DATASET)
        if import_path is not None:
            _import_shots(window, import_path, out, saved)
        elif dataset_id not in DATASETS and browser.show_skipped() is not None:
            _settle(0.3)
            _save(browser.skipped_dialog, out / "23-skipped-files.png", saved)
            browser.skipped_dialog.close()
        _settle()
        _save(window, out / "01-dataset.png", saved)
        if browser.is_showing_samples():
            if browser.data is not None and browser.data.dataset.num_classes <= 25:
                browser.set_class_filter(min(1, browser.data.dataset.num_classes - 1))
                _save(browser, out / "02-dataset-filtered.png", saved)
                browser.set_class_filter(None)
            dialog = browser.open_sample(browser.shown_indices()[0])
            if dialog is not None:
                _settle(0.2)
                _save(dialog, out / "03-sample.png", saved)
                dialog.close()

        # model view for the architecture about to be trained
        window.experiment.set_arch(arch)
        window.tabs.setCurrentIndex(TAB_MODEL)
        _wait_until(lambda: window.model_view.summary is not None, 600)
        _settle()
        _save(window, out / "04-model.png", saved)

        # a short training run on the chosen dataset; a folder of a few hundred images gets enough
        # passes for about MIN_STEPS optimizer steps, or its Evaluate shot shows an untrained guess
        e = window.experiment
        if browser.data is not None and browser.data.imported is not None:
            steps_per_epoch = max(1, math.ceil(min(limit, len(browser.data.dataset.y_train)) * 0.8 / 64))
            epochs = max(epochs, min(MAX_SMALL_SET_EPOCHS, math.ceil(MIN_STEPS / steps_per_epoch)))
        e.epochs.setValue(epochs)
        e.batch_size.setValue(64)
        e.limit.setValue(limit)
        e.test_limit = 500
        _wait_until(lambda: e.param_count() is not None, 300)
        _save(e, out / "05-experiment.png", saved)
        window.start_training()
        training = window.training
        _wait_until(lambda: training.epochs_done >= min(2, epochs) or not training.is_running(), 900)
        _settle(0.3)
        _save(window, out / "06-training-live.png", saved)
        _wait_until(lambda: not training.is_running(), 1800)
        _settle(0.5)
        _save(window, out / "07-training-done.png", saved)
        _save(training.probe_box, out / "07b-probe-strip.png", saved)
        offer = training.model_offer()

        # the trained model in Evaluate (the run's test images) and Classify (a few test images)
        if offer is not None:
            evaluate = window.evaluate
            window.offer_to_evaluate(offer, evaluate_now=True)
            _wait_until(lambda: evaluate.run is not None or bool(evaluate.setup.last_error)
                        or (evaluate.loaded is not None and window.is_idle()), 600)
            _wait_until(window.is_idle, 60)
            _settle(0.5)
            _save(window, out / "12-evaluate.png", saved)
            r = evaluate.result
            if r is not None:
                # the most frequent confusion, else the best-filled diagonal cell
                conf = r.confusion.copy()
                off = conf.copy()
                for i in range(len(off)):
                    off[i, i] = 0
                cell = divmod(int(off.argmax()), off.shape[1]) if off.max() > 0 else divmod(int(conf.argmax()), conf.shape[1])
                evaluate.open_cell(*cell)
                if evaluate.cell_dialog is not None:
                    _settle(0.4)
                    _save(evaluate.cell_dialog, out / "13-evaluate-cell.png", saved)
                    evaluate.cell_dialog.close()
            classify = window.classify
            window.offer_to_classify(offer)
            _wait_until(lambda: classify.loaded is not None, 600)
            classify.add_test_images(6)
            _wait_until(lambda: len(classify.rows) >= 6 or "failed" in classify.status_label.text(), 600)
            _wait_until(window.is_idle, 60)
            _settle(0.5)
            _save(window, out / "14-classify.png", saved)
            window.tabs.setCurrentIndex(TAB_TRAINING)
        # a second, different run to compare with
        e.set_arch("embedded_cnn" if arch != "embedded_cnn" else "simple_cnn")
        window.start_training()
        _wait_until(lambda: not training.is_running(), 1800)

        window.tabs.setCurrentIndex(TAB_RUNS)
        _wait_until(lambda: window.is_idle(), 60)
        window.runs.refresh()
        _wait_until(lambda: window.is_idle() and len(window.runs.rows) > 0, 60)
        if window.runs.rows:
            window.runs.select_dirs([r.run_dir for r in window.runs.rows])
        _settle()
        _save(window, out / "08-runs.png", saved)
        if window.runs.rows:
            first = window.runs.rows[-1].run_dir  # newest first: the last row is the first run
            window.runs.open_run(first)
            _wait_until(lambda: window.tabs.currentIndex() == TAB_TRAINING and window.is_idle(), 60)
            window.runs.overlay_runs([r.run_dir for r in window.runs.rows if r.run_dir != first])
            _wait_until(lambda: bool(window.training.plots.overlay_names), 60)
            _settle()
            _save(window.training, out / "09-run-opened.png", saved)
            window.training.export_plots(str(out / "10-curves-export.png"))
            saved.append(out / "10-curves-export.png")

        # the download panel, as a user without the data sees it
        e.data_dir = str(work / "no-data-here")
        e.set_dataset("cifar100")
        window.tabs.setCurrentIndex(TAB_DATASET)
        _wait_until(lambda: browser.is_showing_missing() or browser.is_showing_samples(), 120)
        _settle()
        _save(window, out / "11-dataset-missing.png", saved)
    finally:
        window.shutdown()
        window.close()
        _wait_until(lambda: not window.isVisible(), 60)
        app.processEvents()
        if import_path is not None:
            if old_home is None:
                os.environ.pop("WORKBENCH_HOME", None)
            else:
                os.environ["WORKBENCH_HOME"] = old_home
    return saved


if __name__ == "__main__":
    import sys

    for p in take_screenshots(sys.argv[1] if len(sys.argv) > 1 else "screenshots-out"):
        print(p)
