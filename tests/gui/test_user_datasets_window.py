"""The user's own images in the window: import through the Dataset tab's public methods (progress,
Cancel), the grid with their class names, the skipped-files list, remembered across a restart."""

from __future__ import annotations

import pytest

from tests.core.folder_fixtures import class_tree
from tests.core.user_fixtures import MESSY_CLASSES, messy_tree, user_home  # noqa: F401
from workbench.core.datasets import read_registry
from workbench.gui.panels.dataset_browser.panel import DatasetBrowserPanel
from workbench.gui.widgets.import_dialog import ImportRequest

LONG = 60_000


@pytest.fixture
def panel(qtbot):
    p = DatasetBrowserPanel()
    qtbot.addWidget(p)
    yield p
    p.tasks.cancel_all()
    p.tasks.wait_all()


def test_import_shows_their_classes_counts_and_skipped_files(qtbot, panel, user_home, tmp_path):
    root = messy_tree(tmp_path / "Mes photos")
    progress = []
    panel.import_progress.valueChanged.connect(progress.append)
    with qtbot.waitSignal(panel.dataset_added, timeout=LONG) as added:
        panel.start_import(ImportRequest(str(root), "Mes photos"))
        assert panel.stack.currentWidget() is panel.import_page and panel.import_cancel_button.isEnabled()
    assert added.args == ["Mes photos"]
    assert panel.is_showing_samples()
    assert panel.class_names() == list(MESSY_CLASSES)
    assert set(panel.shown_labels()) <= set(MESSY_CLASSES) and len(panel.shown_labels()) == 13
    assert panel.data.dataset.x_train.shape[1:] == (14, 20, 3)  # at their resolution, not CIFAR's
    assert panel.data.train_counts == (5, 5, 3)  # imbalance visible in the bars
    assert "held out" in panel.notes.text() and panel.skipped_button.text() == "Skipped files (3)…"
    dialog = panel.show_skipped()
    rows = dict(dialog.rows())
    assert rows["chien/broken.jpg"].startswith("damaged") and "Éléphant/empty.png" in rows
    assert progress and max(progress) == 17  # the bar reached every candidate file
    assert list(read_registry().datasets) == ["Mes photos"]


def test_cancel_leaves_nothing_registered(qtbot, panel, user_home, tmp_path):
    root = class_tree(tmp_path / "big", {"a": 300, "b": 300}, size=(64, 64))
    with qtbot.waitSignal(panel.import_cancelled, timeout=LONG):
        panel.start_import(ImportRequest(str(root), "big"))
        panel.cancel_import()
        assert panel.import_status.text() == "Cancelling…"
    qtbot.waitUntil(panel.tasks.is_idle, timeout=LONG)
    assert read_registry().datasets == {}
    assert panel.add_folder_button.isEnabled() and not panel.is_importing()


def test_a_bad_folder_fails_in_one_sentence(qtbot, panel, user_home, tmp_path):
    (tmp_path / "empty").mkdir()
    with qtbot.waitSignal(panel.import_failed, timeout=LONG) as failed:
        panel.start_import(ImportRequest(str(tmp_path / "empty"), "nothing"))
    assert "Traceback" not in failed.args[0] and panel.is_showing_missing()
    assert read_registry().datasets == {}


def test_the_dialog_suggests_the_folder_name_and_refuses_a_taken_one(qtbot, panel, user_home, tmp_path):
    root = messy_tree(tmp_path / "Holiday")
    dialog = panel.ask_and_import(str(root))
    assert dialog.name_edit.text() == "Holiday" and dialog.request().size is None and dialog.request().fit == "crop"
    offered = tuple(dialog.fit_combo.itemData(i) for i in range(dialog.fit_combo.count()))
    assert offered == ("crop", "pad", "stretch")  # the core's FIT_MODES, each rule the import applies
    dialog.name_edit.setText("cifar10")
    dialog.accept()
    assert dialog.isVisible() and "built-in" in dialog.problem.text()
    dialog.name_edit.setText("Holiday")
    with qtbot.waitSignal(panel.dataset_added, timeout=LONG):
        dialog.accept()


def test_the_window_lists_it_by_name_across_a_restart(qtbot, make_window, user_home, tmp_path):
    root = messy_tree(tmp_path / "pets")
    window = make_window()
    dialog = window.browser.ask_and_import(str(root))  # what a dropped folder does, after the tab switch
    with qtbot.waitSignal(window.browser.dataset_added, timeout=LONG):
        dialog.accept()
    assert window.experiment.dataset_id() == "pets"
    assert "Added pets" in window.status_label.text()
    window.shutdown()

    again = make_window(dataset="pets")
    qtbot.waitUntil(again.browser.is_showing_samples, timeout=LONG)
    assert again.experiment.dataset_id() == "pets"
    assert again.browser.class_names() == list(MESSY_CLASSES)
    assert again.browser.skipped_button.text() == "Skipped files (3)…"
    assert again.browser.import_result is not None and len(again.browser.import_result.skipped) == 3


def test_dropping_a_plain_image_folder_asks_to_import_it(qtbot, make_window, user_home, tmp_path):
    from workbench.gui.widgets.model_files import official_data

    root = messy_tree(tmp_path / "drop me")
    assert not official_data(str(root)) and official_data(str(tmp_path / "cifar-10-python.tar.gz"))
    window = make_window()
    window.open_dropped([str(root)])
    from workbench.gui.widgets.import_dialog import ImportDialog

    dialog = window.browser.findChild(ImportDialog)
    assert dialog is not None and dialog.name_edit.text() == "drop me"
    assert window.tabs.currentWidget() is window.browser
    dialog.reject()


def test_a_user_dataset_whose_folder_is_gone_says_so(qtbot, panel, user_home, tmp_path):
    import shutil

    from workbench.core.datasets import add_user_dataset

    root = messy_tree(tmp_path / "moved away")
    add_user_dataset("moved", root)
    shutil.rmtree(root)
    with qtbot.waitSignal(panel.load_failed, timeout=LONG):
        panel.set_dataset("moved")
    assert panel.is_showing_missing() and "is gone" in panel.missing_text.text()
    assert not panel.download_button.isEnabled()
