"""A broken gui.ini never keeps the window from opening: each bad value falls back to its default and
the status bar names it."""

from __future__ import annotations

from workbench.core.training.config import TrainConfig
from workbench.gui.settings import settings_path

BROKEN = """[experiment]
dataset=no-such-dataset
arch=builtin
epochs=inf
seed=99999999999
batch_size=abc
learning_rate=nan
label_smoothing=7
optimizer=bogus
augment=maybe
val_split=-3
limit=12.5
arch_options={"simple_cnn": {"no_such_option": 3}}

[window]
tab=99
geometry=garbage
"""


def test_a_broken_gui_ini_opens_the_window_with_defaults_and_says_which(qtbot, tmp_path, monkeypatch):
    from workbench.gui.main_window import TAB_DATASET, MainWindow

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(BROKEN, encoding="utf-8")

    window = MainWindow(runs_root=str(tmp_path / "runs"), count_params=False)  # settings from WORKBENCH_HOME
    qtbot.addWidget(window)
    window.ask_before_closing = False
    with qtbot.waitSignal(window.background_started, timeout=10_000):
        window.show()
    defaults = TrainConfig()
    e = window.experiment
    assert e.epochs.value() == defaults.epochs and e.seed.value() == defaults.seed
    assert e.batch_size.value() == defaults.batch_size
    assert e.learning_rate.value() == defaults.learning_rate
    assert e.dataset_id() != "no-such-dataset" and e.optimizer.currentData() == defaults.optimizer
    assert window.tabs.currentIndex() == TAB_DATASET
    browser = window.browser
    qtbot.waitUntil(lambda: browser.is_showing_samples() or browser.is_showing_missing(), timeout=30_000)
    note = window.settings_note.text()  # still there after the dataset's own status message
    assert window.settings_note.isVisible() and window.status_label.text() not in ("", note)
    for key in ("epochs", "seed", "batch_size", "learning_rate", "label_smoothing", "optimizer", "augment",
                "val_split", "limit", "dataset", "arch", "arch_options"):
        assert f"experiment/{key}" in note, key
    assert "window/tab" in note and "window/geometry" in note and str(path) in note
    window.shutdown()


def test_good_settings_come_back_without_a_note(qtbot, tmp_path, monkeypatch):
    from workbench.gui.main_window import MainWindow

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    first = MainWindow(runs_root=str(tmp_path / "runs"), count_params=False)
    qtbot.addWidget(first)
    first.experiment.epochs.setValue(7)
    first.experiment.seed.setValue(2**31 - 1)
    first._save_settings()
    second = MainWindow(runs_root=str(tmp_path / "runs"), count_params=False)
    qtbot.addWidget(second)
    assert second.experiment.epochs.value() == 7 and second.experiment.seed.value() == 2**31 - 1
    assert second.settings_rejected == [] and not second.settings_note.isVisibleTo(second)
