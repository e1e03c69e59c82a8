"""Classify and Evaluate tabs in the main window, the probe strip during training, and handing the
trained model on: Evaluate on the run's test split gives the run's own test top-1."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.conftest import LONG, wait_idle
from workbench.core.training.events import TrainingFinished

EPOCHS = 2
TEST_LIMIT = 200


def _configure(window) -> None:
    e = window.experiment
    e.set_dataset("builtin")
    e.set_arch("simple_cnn")
    e.epochs.setValue(EPOCHS)
    e.batch_size.setValue(64)
    e.limit.setValue(300)
    e.val_split.setValue(20)
    e.test_limit = TEST_LIMIT


def test_window_has_classify_and_evaluate_tabs_with_shortcuts(qtbot, make_window):
    from workbench.gui.main_window import TAB_CLASSIFY, TAB_EVALUATE, TAB_MAP
    from workbench.gui.panels.classify import ClassifyPanel
    from workbench.gui.panels.evaluate import EvaluatePanel

    window = make_window()
    assert window.tabs.tabText(TAB_CLASSIFY) == "Classify"
    assert window.tabs.tabText(TAB_EVALUATE) == "Evaluate"
    assert isinstance(window.tabs.widget(TAB_CLASSIFY), ClassifyPanel)
    assert isinstance(window.tabs.widget(TAB_EVALUATE), EvaluatePanel)
    # each panel owns its tasks: one panel's cancel can never reach another's (or the training stop flag)
    owners = [t for t in window.all_tasks()]
    assert len({id(t) for t in owners}) == len(owners) == 10  # the window and 9 panels (Map and Queue included)
    shortcuts = {a.shortcut().toString(): a for a in window.actions()}
    for key, tab in (("Ctrl+5", TAB_CLASSIFY), ("Ctrl+6", TAB_EVALUATE), ("Ctrl+7", TAB_MAP)):
        shortcuts[key].trigger()
        assert window.tabs.currentIndex() == tab
    assert window.open_model_action.shortcut().toString() == "Ctrl+M"
    # nothing trained yet: the training panel offers no model
    assert window.training.model_offer() is None
    assert not window.training.evaluate_button.isEnabled()
    wait_idle(qtbot, window)


def test_probe_strip_then_model_reaches_evaluate_and_classify(qtbot, make_window):
    from workbench.gui.main_window import TAB_CLASSIFY, TAB_EVALUATE

    window = make_window()
    _configure(window)
    training = window.training
    with qtbot.waitSignal(training.run_ended, timeout=LONG) as ended:
        assert window.start_training()
        # the probe strip is filled from TrainingStarted ...
        qtbot.waitUntil(lambda: len(training.probes.true_labels) == 25, timeout=LONG)
        assert "label under each" in training.probe_title.text()
        assert len(training.probes._images) == 25
        assert all(not lab.pixmap().isNull() for lab in training.probes._images)
        assert set(training.probes.shown_texts()) == {"–"}  # no epoch has ended yet
    wait_idle(qtbot, window)
    final = ended.args[0]
    assert isinstance(final, TrainingFinished), getattr(final, "message", final)

    # ... and its predictions are set from every EpochEnded
    probes = training.probes
    assert len(probes.predicted) == 25 and (probes.predicted >= 0).all()
    names = set(window.browser.class_names())
    assert set(probes.predicted_names()) <= names
    assert all(shown and (name == shown or shown.endswith("…"))
               for name, shown in zip(probes.predicted_names(), probes.shown_texts()))
    acc = probes.accuracy()
    assert acc is not None and 0.0 <= acc <= 1.0
    assert f"after epoch {EPOCHS}" in training.probe_title.text()

    # the trained model goes to Evaluate with the run's test split and gives the run's test top-1
    offer = training.model_offer()
    assert offer is not None and offer.dataset_id == "builtin" and offer.test_limit == TEST_LIMIT
    assert training.evaluate_button.isEnabled()
    evaluate = window.evaluate
    with qtbot.waitSignal(evaluate.evaluation_finished, timeout=LONG) as done:
        training.evaluate_button.click()
    result = done.args[0]
    assert window.tabs.currentIndex() == TAB_EVALUATE
    assert evaluate.dataset_combo.currentData() == "builtin"
    assert result.n == TEST_LIMIT
    assert int(np.asarray(result.confusion).sum()) == result.n
    assert 0.0 <= result.top1 <= 1.0
    assert result.top1 == pytest.approx(final.test_top1, abs=1e-6)
    wait_idle(qtbot, window)

    # and to Classify, which shows test images of the run's dataset
    classify = window.classify
    with qtbot.waitSignal(classify.model_loaded, timeout=LONG):
        training.classify_button.click()
    assert window.tabs.currentIndex() == TAB_CLASSIFY
    with qtbot.waitSignal(classify.results_shown, timeout=LONG):
        classify.add_test_images(3)
    rows = classify.result_rows()
    assert len(rows) == 3 and all(r.ok and r.true_label in names for r in rows)
    wait_idle(qtbot, window)

    # dropping the model file on the window opens it in Classify; images dropped there are classified
    window.tabs.setCurrentIndex(TAB_EVALUATE)
    with qtbot.waitSignal(classify.model_loaded, timeout=LONG):
        window.open_dropped([final.model_path])
    assert window.tabs.currentIndex() == TAB_CLASSIFY
    wait_idle(qtbot, window)
    with qtbot.waitSignal(classify.results_shown, timeout=LONG):
        window.open_dropped([final.run_dir + "/not-an-image.txt"])
    assert not classify.result_rows()[-1].ok  # a bad file gets its own row with the reason
    wait_idle(qtbot, window)

    # closing leaves nothing running (the thread guard in conftest checks too)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=LONG)
    assert window.is_idle() and not training.is_running()


def test_run_end_offers_model_to_evaluate_tab_when_shown(qtbot, make_window):
    from workbench.gui.main_window import TAB_EVALUATE

    window = make_window()
    _configure(window)
    window.experiment.epochs.setValue(1)
    with qtbot.waitSignal(window.training.run_ended, timeout=LONG):
        window.start_training()
    wait_idle(qtbot, window)
    evaluate = window.evaluate
    with qtbot.waitSignal(evaluate.model_loaded, timeout=LONG):
        window.tabs.setCurrentIndex(TAB_EVALUATE)
    assert evaluate.limit_spin.value() == TEST_LIMIT
    assert evaluate.dataset_combo.currentData() == "builtin"
    assert evaluate.run is None  # offered and ready, not evaluated unasked
    wait_idle(qtbot, window)
