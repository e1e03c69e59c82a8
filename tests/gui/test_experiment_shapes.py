"""The window follows the dataset's image shape: every registered dataset is in the form with its image size,
the parameter count and the Model tab are built for that size, a network that cannot take it says why and
Start is disabled; with 5 classes top-5 is marked, not shown as 100 %. Real Qt (pytest-qt), real TensorFlow."""

from __future__ import annotations

import dataclasses


from tests.gui.conftest import LONG, wait_idle
from workbench.core.architectures import count_params
from workbench.core.datasets import DATASETS
from workbench.core.training.events import EpochEnded, TrainingFinished, TrainingStarted


def test_form_lists_every_dataset_and_counts_parameters_at_its_image_size(qtbot, make_window):
    window = make_window(count_params=True)
    form = window.experiment
    combo = form.dataset_combo
    assert [combo.itemData(i) for i in range(combo.count())] == list(DATASETS)
    assert combo.itemText(combo.findData("mnist")) == "MNIST (handwritten digits) · 28×28 grayscale"
    assert combo.itemText(combo.findData("cifar10")) == "CIFAR-10 · 32×32 RGB"
    form.set_arch("simple_cnn")
    form.set_dataset("mnist")
    assert form.image_shape() == (28, 28, 1) and "28×28 grayscale images" in form.classes_label.text()
    assert form.augment.text() == "random crop (no flips)" and "mirrored images change class" in form.augment.toolTip()
    qtbot.waitUntil(lambda: form.param_count() is not None, timeout=LONG)
    expected = count_params("simple_cnn", 10, input_shape=(28, 28, 1))
    assert form.param_count() == expected != count_params("simple_cnn", 10)  # the head follows the image size
    assert f"{expected:,}</b> for 10 classes, 28×28×1 images" in form.params_label.text()
    assert window.training.start_button.isEnabled()
    wait_idle(qtbot, window)


def test_model_tab_builds_the_network_for_the_dataset_shape(qtbot, make_window):
    from workbench.gui.main_window import TAB_MODEL

    window = make_window(count_params=True)
    window.experiment.set_arch("simple_cnn")
    window.experiment.set_dataset("mnist")
    with qtbot.waitSignal(window.model_view.summary_ready, timeout=LONG):
        window.tabs.setCurrentIndex(TAB_MODEL)
    summary = window.model_view.summary
    assert summary.input_shape == (28, 28, 1)
    assert summary.total_params == count_params("simple_cnn", 10, input_shape=(28, 28, 1))
    assert "28×28×1 images" in window.model_view.title.text()
    wait_idle(qtbot, window)


def test_a_network_that_cannot_take_the_images_disables_start_with_the_sentence(qtbot, make_window, monkeypatch):
    tiny = dataclasses.replace(DATASETS["builtin"], id="tiny", title="Tiny set", image_shape=(16, 16, 3))
    monkeypatch.setitem(DATASETS, "tiny", tiny)
    window = make_window()
    form = window.experiment
    form.fill_datasets()
    assert form.dataset_combo.itemText(form.dataset_combo.findData("tiny")) == "Tiny set · 16×16 RGB"
    form.set_arch("simple_cnn")
    with qtbot.waitSignal(form.train_problem_changed) as changed:
        form.set_dataset("tiny")
    sentence = changed.args[0]
    assert sentence.startswith("simple_cnn needs images of at least 22×22 pixels") and sentence.endswith(
        "not 16×16: Tiny set has 16×16×3 images, so choose another architecture.")
    assert "22×22 pixels" in form.params_label.text() and "parameters" not in form.params_label.text()
    assert not window.training.start_button.isEnabled() and not window.start_action.isEnabled()
    assert sentence in window.training.result_label.text() and window.training.start_button.toolTip() == sentence
    assert window.training.start_from_form() is False  # the shortcut path refuses too
    form.set_arch("resnet20")  # global pooling: any size will do
    assert form.train_problem() == "" and window.training.start_button.isEnabled()
    assert window.start_action.isEnabled() and window.training.result_label.text() == ""
    wait_idle(qtbot, window)


def test_five_classes_mark_top5_instead_of_showing_100_percent(qtbot):
    from workbench.gui.panels.training.panel import TrainingPanel

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    note = "top-5 is meaningless with 5 classes (every answer is among the top 5)"
    panel.on_event(TrainingStarted(run_dir="/tmp/run", dataset="builtin", arch="simple_cnn", device="CPU",
                                   params=1000, epochs=1, initial_epoch=0, steps_per_epoch=2, train_images=64,
                                   val_images=16, class_names=("a", "b", "c", "d", "e"), image_shape=(32, 32, 3),
                                   augmentation="no augmentation", top5_note=note))
    panel.on_event(EpochEnded(epoch=0, epochs=1, loss=1.0, top1=0.5, top5=None, val_loss=1.1, val_top1=0.4,
                              val_top5=None, learning_rate=1e-3, seconds=1.0, images_per_sec=64.0))
    panel.on_event(TrainingFinished(run_dir="/tmp/run", model_path="/tmp/run/model.h5", best_model_path=None,
                                    epochs_completed=1, test_top1=0.5, test_top5=None))
    assert panel.plots.plots["top5"].plot.titleLabel.text == "Top-5: meaningless with 5 classes"
    assert "meaningless with 5 classes" in panel.result_label.text() and "top-5 <b>" not in panel.result_label.text()
    log = panel.log_text()
    assert f"{note}, so it is not shown" in log and "top-5 –" not in log and "top-5 100" not in log


def test_mnist_trains_in_the_window_with_grayscale_probes(qtbot, make_window, tmp_path, monkeypatch):
    from tests.core.mnist_fixtures import write_mnist_npz

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    write_mnist_npz(tmp_path / "keras" / "datasets" / "mnist.npz", n_train=80, n_test=30)
    window = make_window(dataset="mnist")
    form = window.experiment
    form.set_arch("simple_cnn")
    form.epochs.setValue(1)
    form.batch_size.setValue(32)
    form.augment.setChecked(True)
    with qtbot.waitSignal(window.training.run_ended, timeout=LONG) as ended:
        assert window.start_training()
    final = ended.args[0]
    assert isinstance(final, TrainingFinished), getattr(final, "message", final)
    started = window.training.started
    assert started.image_shape == (28, 28, 1) and started.top5_note is None
    assert window.training.probes.true_labels is not None and len(window.training.probes.true_labels) == 25
    log = window.training.log_text()
    assert "Images 28×28×1 · augmentation: random crop (4-pixel padding) only — no flips" in log
    assert "top-5 <b>" in window.training.result_label.text()  # 10 classes: top-5 is shown
    wait_idle(qtbot, window)
