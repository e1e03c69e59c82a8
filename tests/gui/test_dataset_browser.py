"""The dataset browser: sample grid labels, paging, filter, switching datasets, missing data."""

from __future__ import annotations

import numpy as np

from tests.core.cifar_fixtures import write_cifar10
from tests.gui.conftest import wait_idle
from workbench.core.datasets import DATASETS, load_dataset
from workbench.gui.panels.dataset_browser.panel import DatasetBrowserPanel

LOAD_MS = 60_000


def _load(qtbot, panel: DatasetBrowserPanel, dataset_id: str, data_dir=None) -> None:
    with qtbot.waitSignal(panel.dataset_loaded, timeout=LOAD_MS):
        panel.set_dataset(dataset_id, data_dir)
    qtbot.waitUntil(panel.tasks.is_idle, timeout=LOAD_MS)


def test_builtin_grid_shows_25_images_with_their_labels(qtbot):
    panel = DatasetBrowserPanel()
    qtbot.addWidget(panel)
    _load(qtbot, panel, "builtin")
    data = load_dataset("builtin")
    assert len(panel.grid.indices) == 25
    expected = [data.class_names[int(data.y_train[i])] for i in panel.grid.indices]
    assert panel.shown_labels() == expected
    assert panel.shown_indices() == list(range(25))
    # every tile holds a 64 px pixmap (nearest-neighbour scaled from 32 px)
    pix = panel.grid.tiles[0].image_label.pixmap()
    assert pix.width() == 64 and pix.height() == 64
    assert panel.grid.tiles[0].text_label.text() == expected[0]


def test_pixels_are_drawn_crisp_and_not_transposed(qtbot):
    panel = DatasetBrowserPanel()
    qtbot.addWidget(panel)
    _load(qtbot, panel, "builtin")
    data = load_dataset("builtin")
    image = panel.grid.tiles[3].image_label.pixmap().toImage()
    src = np.asarray(data.x_train[3])
    for (r, c) in [(0, 0), (5, 27), (30, 2), (17, 9)]:
        colour = image.pixelColor(c * 2 + 1, r * 2 + 1)  # 64 / 32 = 2 px per source pixel
        assert (colour.red(), colour.green(), colour.blue()) == tuple(int(v) for v in src[r, c])


def test_fake_cifar10_grid_paging_filter_and_test_split(qtbot, tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=20, n_test=30)
    panel = DatasetBrowserPanel()
    qtbot.addWidget(panel)
    _load(qtbot, panel, "cifar10", str(fake.root))
    names = fake.class_names
    assert panel.class_names() == list(DATASETS["cifar10"].class_names)
    assert panel.shown_labels() == [names[int(y)] for y in fake.y_train[:25]]
    assert panel.page_count() == 4  # 100 training images
    panel.next_page()
    assert panel.shown_indices() == list(range(25, 50))
    assert panel.shown_labels() == [names[int(y)] for y in fake.y_train[25:50]]
    panel.previous_page()
    assert panel.shown_indices() == list(range(25))

    target = int(fake.y_train[0])
    panel.set_class_filter(target)
    assert panel.shown_indices() == [int(i) for i in np.flatnonzero(fake.y_train == target)[:25]]
    assert set(panel.shown_labels()) == {names[target]}

    panel.set_class_filter(None)
    panel.set_split("test")
    assert panel.shown_labels() == [names[int(y)] for y in fake.y_test[:25]]
    assert panel.bars.counts.tolist() == np.bincount(fake.y_test, minlength=10).tolist()

    panel.shuffle()
    shown = panel.shown_indices()
    assert len(shown) == 25 and len(set(shown)) == 25
    assert panel.shown_labels() == [names[int(fake.y_test[i])] for i in shown]

    dialog = panel.open_sample(shown[0])
    qtbot.addWidget(dialog)
    assert f"#{shown[0]}" in dialog.windowTitle()


def test_missing_dataset_shows_download_panel(qtbot, tmp_path):
    panel = DatasetBrowserPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_missing, timeout=LOAD_MS):
        panel.set_dataset("cifar100", str(tmp_path / "nothing-here"))
    qtbot.waitUntil(panel.tasks.is_idle, timeout=LOAD_MS)
    assert panel.is_showing_missing()
    assert panel.download_button.isEnabled()
    assert "nothing-here" in panel.missing_text.text()
    assert panel.last_error is not None and panel.last_error.is_a("DatasetNotFound")
    # window terms: the buttons on this page, never a CLI flag or a Python keyword
    text = panel.missing_text.text()
    assert "Press Download (about 161 MB)" in text and "Open folder or archive…" in text
    assert "--" not in text and "download=True" not in text


def test_cli_terms_in_a_core_message_become_buttons():
    from workbench.gui.wording import in_window_terms

    said = in_window_terms("The archive is damaged; run it again with --download, or pass --data-dir DIR.")
    assert said == ("The archive is damaged; press Download on the Dataset tab, or use "
                    "Open folder or archive… on the Dataset tab.")


def test_open_folder_after_missing_loads_it(qtbot, tmp_path):
    panel = DatasetBrowserPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_missing, timeout=LOAD_MS):
        panel.set_dataset("cifar10", str(tmp_path / "empty"))
    fake = write_cifar10(tmp_path / "mine", n_train_per_batch=10, n_test=10)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=LOAD_MS):
        panel.use_path(str(fake.folder))  # the official folder itself
    qtbot.waitUntil(panel.tasks.is_idle, timeout=LOAD_MS)
    assert panel.is_showing_samples()
    assert panel.shown_labels() == [fake.class_names[int(y)] for y in fake.y_train[:25]]


def test_switching_dataset_in_window_updates_grid_and_classes(qtbot, make_window, tmp_path):
    fake = write_cifar10(tmp_path / "data", n_train_per_batch=20, n_test=20)
    window = make_window(dataset="builtin", data_dir=str(fake.root))
    qtbot.waitUntil(window.browser.is_showing_samples, timeout=LOAD_MS)
    assert window.browser.class_names() == list(DATASETS["builtin"].class_names)
    with qtbot.waitSignal(window.browser.dataset_loaded, timeout=LOAD_MS):
        window.experiment.set_dataset("cifar10")
    assert window.browser.class_names() == list(DATASETS["cifar10"].class_names)
    assert window.browser.shown_labels() == [fake.class_names[int(y)] for y in fake.y_train[:25]]
    with qtbot.waitSignal(window.browser.dataset_missing, timeout=LOAD_MS):
        window.experiment.set_dataset("cifar100-coarse")
    assert window.browser.is_showing_missing()
    assert window.browser.class_names() == list(DATASETS["cifar100-coarse"].class_names)
    wait_idle(qtbot, window)


def test_dropping_a_dataset_folder_on_the_window_loads_it(qtbot, make_window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    fake = write_cifar10(tmp_path / "dropped", n_train_per_batch=10, n_test=10)
    window = make_window(dataset="builtin")
    qtbot.waitUntil(window.browser.is_showing_samples, timeout=LOAD_MS)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(fake.folder))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.browser.dataset_loaded, timeout=LOAD_MS):
        window.dropEvent(event)
    assert window.experiment.dataset_id() == "cifar10"  # the folder name tells which dataset it is
    assert window.experiment.data_dir == str(fake.folder)
    assert window.browser.shown_labels() == [fake.class_names[int(y)] for y in fake.y_train[:25]]
    wait_idle(qtbot, window)
