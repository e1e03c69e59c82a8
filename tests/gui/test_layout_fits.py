"""The window fits a 1280×720 screen in every state a user reaches, on every tab: long messages wrap or
elide instead of widening the window, the form scrolls instead of clipping, no label is cut
(layout_check.py says exactly what is checked)."""

from __future__ import annotations

import pytest

from tests.core.archive_server import ArchiveServer
from tests.core.folder_fixtures import class_tree
from tests.gui.conftest import LONG, wait_idle
from tests.gui.layout_check import fit_problems
from workbench.core.runs.queue import RunQueue
from workbench.core.training import TrainConfig
from workbench.gui.main_window import TAB_MAP
from workbench.gui.resources import stylesheet

LONG_NAME = "Holiday photos from the summer in the mountains and the lake"  # the longest name allowed (60)


@pytest.fixture(autouse=True)
def window_style(qapp):
    qapp.setStyleSheet(stylesheet())  # the window's sizes with its style sheet (tests' QApplication has none)
    yield
    qapp.setStyleSheet("")


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))  # datasets.json and queue.json of this test
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))


def _missing(qtbot, window, tmp_path, dataset: str = "cifar100") -> None:
    window.experiment.data_dir = str(tmp_path / "no-data-here")
    window.experiment.set_dataset(dataset)
    qtbot.waitUntil(window.browser.is_showing_missing, timeout=LONG)
    wait_idle(qtbot, window)


def _import(qtbot, window, root, name: str) -> None:
    dialog = window.browser.ask_and_import(str(root))
    dialog.name_edit.setText(name)
    assert not dialog.name_problem()
    with qtbot.waitSignal(window.browser.dataset_added, timeout=LONG):
        dialog.accept()
    wait_idle(qtbot, window)


def test_at_rest_and_with_the_dataset_missing(qtbot, make_window, tmp_path):
    window = make_window()
    wait_idle(qtbot, window)
    found = fit_problems(window, "at rest")
    _missing(qtbot, window, tmp_path)
    found += fit_problems(window, "CIFAR-100 missing")
    assert not found, "\n".join(found)


def test_a_failed_download_and_a_run_started_without_data(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    _missing(qtbot, window, tmp_path)
    with ArchiveServer(b"", mode="missing") as server:
        monkeypatch.setenv("WORKBENCH_CIFAR_MIRROR", server.url("/a/mirror/that/has/lost/its/files/"))
        window.browser.download_button.click()
        qtbot.waitUntil(lambda: window.browser.download_button.isEnabled(), timeout=LONG)
        wait_idle(qtbot, window)
    assert window.browser.download_status.text()  # the failure is said
    found = fit_problems(window, "download failed")
    window.start_training()
    wait_idle(qtbot, window)
    assert window.training.final_event is not None  # the run failed: CIFAR-100 is not on disk
    found += fit_problems(window, "run started with the data missing")
    window.experiment.set_dataset("builtin")  # another dataset: the stale failure goes
    qtbot.waitUntil(window.browser.is_showing_samples, timeout=LONG)
    wait_idle(qtbot, window)
    assert "CIFAR-100" not in window.training.result_label.text()
    assert not found, "\n".join(found)


def test_tiny_images_a_long_dataset_name_and_the_mnist_form(qtbot, make_window, tmp_path):
    window = make_window()
    _import(qtbot, window, class_tree(tmp_path / "tiny", {"ant": 12, "bee": 12}, size=(8, 8)), "tiny")
    assert window.experiment.train_problem()  # the network cannot take 8×8 images: Start says why
    found = fit_problems(window, "8×8 images")
    _import(qtbot, window, class_tree(tmp_path / "long", {"sea": 12, "hill": 12}, size=(32, 32)), LONG_NAME)
    found += fit_problems(window, "a long dataset name")
    _missing(qtbot, window, tmp_path, "mnist")
    found += fit_problems(window, "the MNIST form")
    assert not found, "\n".join(found)


def test_a_finished_run_and_a_queue_with_a_failed_item(qtbot, make_window, tmp_path):
    window = make_window()
    e = window.experiment
    e.set_arch("simple_cnn")
    e.epochs.setValue(1)
    e.batch_size.setValue(64)
    e.limit.setValue(128)
    e.test_limit = 64
    assert window.start_training()
    wait_idle(qtbot, window)
    assert window.training.model_path  # it finished and saved a model
    found = fit_problems(window, "a finished run")
    with qtbot.waitSignal(window.evaluate.model_loaded, timeout=LONG):
        window.evaluate.open_model(window.training.model_path)
    window.tabs.setCurrentIndex(TAB_MAP)  # the Map follows Evaluate's model and test set
    with qtbot.waitSignal(window.embedding_map.map_ready, timeout=LONG):
        window.embedding_map.draw()
    wait_idle(qtbot, window)
    found += fit_problems(window, "an embedding map drawn")
    RunQueue().add(TrainConfig(dataset=str(tmp_path / "photos that were moved away"), arch="simple_cnn",
                               epochs=1, runs_root=str(tmp_path / "runs")))
    window.queue.refresh()
    assert window.queue.run_queue()
    qtbot.waitUntil(lambda: not window.queue.is_active(), timeout=LONG)
    wait_idle(qtbot, window)
    assert [i.status for i in RunQueue().state().items] == ["failed"]
    found += fit_problems(window, "the queue with a failed item")
    assert not found, "\n".join(found)



def test_a_saved_geometry_larger_than_the_screen_is_fitted_and_an_oversized_one_never_saved(qtbot, gui_settings):
    from PySide6.QtWidgets import QWidget

    from workbench.gui.settings import SettingsReader
    from workbench.gui.window_fit import restore_geometry, save_geometry

    big = QWidget()
    qtbot.addWidget(big)
    space = big.screen().availableGeometry()
    big.setGeometry(space.x() + 200, space.y() + 100, space.width() + 1800, space.height() + 900)
    gui_settings.setValue("window/geometry", big.saveGeometry())  # what the old window saved when it had grown
    window = QWidget()
    qtbot.addWidget(window)
    reader = SettingsReader(gui_settings)
    restore_geometry(window, gui_settings, reader)
    assert not reader.rejected
    assert space.contains(window.geometry()), (window.geometry(), space)
    save_geometry(window, gui_settings)
    assert gui_settings.value("window/geometry") == window.saveGeometry()  # one that fits is kept
    window.resize(space.width() + 500, space.height() + 300)  # larger than the screen again, somehow
    save_geometry(window, gui_settings)
    assert gui_settings.value("window/geometry") is None  # not saved: the next start begins on the screen
