"""The dataset browser's Download button and Cancel, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.core.archive_server import ArchiveServer
from tests.core.cifar_fixtures import file_md5, make_archive, write_cifar10
from workbench.core.datasets import DATASETS
from workbench.gui.panels.dataset_browser.panel import DatasetBrowserPanel

LOAD_MS = 60_000


@pytest.fixture
def archive(tmp_path):
    # ~1.5 MB: many 256 KB chunks, so the progress bar moves and Cancel lands mid-transfer
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=100, n_test=100, seed=7)
    path = make_archive(fake.folder, tmp_path / "served" / "cifar-10-python.tar.gz")
    return fake, path.read_bytes(), file_md5(path)


def _missing_panel(qtbot, dest) -> DatasetBrowserPanel:
    panel = DatasetBrowserPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_missing, timeout=LOAD_MS):
        panel.set_dataset("cifar10", str(dest))
    qtbot.waitUntil(panel.tasks.is_idle, timeout=LOAD_MS)
    assert panel.is_showing_missing() and panel.download_button.isEnabled()
    return panel


def test_download_button_fetches_the_archive_and_shows_the_grid(qtbot, tmp_path, monkeypatch, archive):
    fake, payload, md5 = archive
    # the mirror serves this test's own archive, so the checksum to expect is its own
    monkeypatch.setitem(DATASETS, "cifar10", dataclasses.replace(DATASETS["cifar10"], md5=md5))
    dest = tmp_path / "downloads"
    panel = _missing_panel(qtbot, dest)
    seen: list[int] = []
    with ArchiveServer(payload) as server:
        monkeypatch.setenv("WORKBENCH_CIFAR_MIRROR", server.url("/mirror/"))
        panel.download_progress.valueChanged.connect(seen.append)
        with qtbot.waitSignal(panel.dataset_loaded, timeout=LOAD_MS):
            panel.download_button.click()
        qtbot.waitUntil(panel.tasks.is_idle, timeout=LOAD_MS)
    assert server.requests[0][0] == "/mirror/cifar-10-python.tar.gz"
    assert seen and max(seen) == 1000  # the bar moved and reached the end
    assert panel.is_showing_samples()
    assert panel.shown_labels() == [fake.class_names[int(y)] for y in fake.y_train[:25]]
    assert (dest / "cifar-10-batches-py").is_dir()
    assert panel.download_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_cancel_stops_the_download_and_leaves_nothing_half_done(qtbot, tmp_path, monkeypatch, archive):
    _, payload, md5 = archive
    monkeypatch.setitem(DATASETS, "cifar10", dataclasses.replace(DATASETS["cifar10"], md5=md5))
    dest = tmp_path / "downloads"
    panel = _missing_panel(qtbot, dest)
    with ArchiveServer(payload, mode="slow") as server:
        monkeypatch.setenv("WORKBENCH_CIFAR_MIRROR", server.url("/mirror/"))
        panel.download_button.click()
        assert panel.cancel_button.isEnabled() and not panel.download_button.isEnabled()
        qtbot.waitUntil(lambda: panel.download_progress.value() > 0, timeout=LOAD_MS)
        panel.cancel_button.click()
        qtbot.waitUntil(panel.tasks.is_idle, timeout=LOAD_MS)
    assert panel.download_status.text() == "Download cancelled."
    assert panel.is_showing_missing()
    assert panel.download_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert not (dest / "cifar-10-batches-py").exists()
    assert not (dest / "cifar-10-python.tar.gz").exists()


def test_wrong_checksum_is_one_sentence_and_the_panel_stays_usable(qtbot, tmp_path, monkeypatch, archive):
    _, payload, _ = archive  # served as is: not the official archive, so the official checksum fails
    dest = tmp_path / "downloads"
    panel = _missing_panel(qtbot, dest)
    with ArchiveServer(payload) as server:
        monkeypatch.setenv("WORKBENCH_CIFAR_MIRROR", server.url("/mirror/"))
        panel.download_button.click()
        qtbot.waitUntil(panel.tasks.is_idle, timeout=LOAD_MS)
    text = panel.download_status.text()
    assert text.startswith("Download failed: ") and "checksum" in text and DATASETS["cifar10"].md5 in text
    assert "Traceback" not in text and "\n" not in text
    assert panel.is_showing_missing() and panel.download_button.isEnabled()
    assert not (dest / "cifar-10-batches-py").exists()
    assert not np.any([p.suffix == ".part" for p in dest.glob("*")])
