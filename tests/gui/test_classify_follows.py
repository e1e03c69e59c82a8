"""The Classify tab follows the model just trained (Training tab) or just loaded in the Evaluate tab, and
keeps a model the user opened there themselves; models opened elsewhere are in its Recent list."""

from __future__ import annotations

import shutil

from tests.gui.conftest import LONG, wait_idle
from workbench.core.training.events import TrainingFinished
from workbench.gui.main_window import TAB_CLASSIFY, TAB_EVALUATE


def test_classify_follows_training_and_evaluate_but_keeps_the_users_own(qtbot, make_window, tmp_path):
    window = make_window()
    e = window.experiment
    e.set_dataset("builtin")
    e.set_arch("embedded_cnn")
    e.epochs.setValue(1)
    e.batch_size.setValue(50)
    e.limit.setValue(200)
    e.test_limit = 50
    classify = window.classify
    with qtbot.waitSignal(window.training.run_ended, timeout=LONG) as ended:
        assert window.start_training()
    wait_idle(qtbot, window)
    final = ended.args[0]
    assert isinstance(final, TrainingFinished)
    assert classify.loaded is None  # not loaded behind the user's back: only when the tab is shown

    # the model just trained opens when Classify is shown, with its dataset's test images on offer
    with qtbot.waitSignal(classify.model_loaded, timeout=LONG):
        window.tabs.setCurrentIndex(TAB_CLASSIFY)
    assert classify.loaded.path == final.model_path
    assert classify.dataset_combo.currentData() == "builtin"
    assert classify.test_button.isEnabled()
    assert classify.setup.picker.recent_button.isEnabled()  # Recent is not greyed out

    # a model loaded in Evaluate is followed
    best = final.best_model_path
    assert best
    with qtbot.waitSignal(classify.model_loaded, timeout=LONG):
        window.evaluate.open_model(best)
    assert classify.loaded.path == best and classify.loaded is window.evaluate.loaded

    # ... until the user opens a model in Classify themselves: then Evaluate's no longer replaces it
    own = tmp_path / "mine.h5"
    shutil.copy(final.model_path, own)
    with qtbot.waitSignal(classify.model_loaded, timeout=LONG):
        classify.setup.open_model(str(own))
    assert classify.has_own_model()
    window.tabs.setCurrentIndex(TAB_EVALUATE)
    with qtbot.waitSignal(window.evaluate.model_loaded, timeout=LONG):
        window.evaluate.open_model(final.model_path)
    assert classify.loaded.path == str(own)
    assert not classify.offer_model(final.model_path)  # a new run's model is not forced on it either
    wait_idle(qtbot, window)
