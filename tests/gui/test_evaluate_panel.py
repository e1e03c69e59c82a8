"""Evaluate panel on the built-in dataset: scores match numpy, the matrix sums to n, cells open their images."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from tests.gui.conftest import LOAD_TIMEOUT, SHOTS, save_shot  # noqa: E402
from workbench.gui.panels.evaluate import EvaluatePanel  # noqa: E402

LIMIT = 300


@pytest.fixture(scope="module")
def builtin_model(tmp_path_factory):
    """simple_cnn trained one short epoch on the built-in shapes (so the matrix is not one column)."""
    import keras

    from workbench.core.architectures import build_model
    from workbench.core.datasets import load_dataset
    from workbench.core.modelio import save_model

    keras.utils.set_random_seed(1)
    ds = load_dataset("builtin")
    model = build_model("simple_cnn", ds.num_classes)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(ds.x_train[:1000].astype("float32"), ds.y_train[:1000], epochs=1, batch_size=50, verbose=0)
    return str(save_model(model, tmp_path_factory.mktemp("eval") / "shapes.h5", class_names=ds.class_names,
                          dataset_id="builtin", arch="simple_cnn"))


@pytest.fixture()
def panel(qtbot):
    w = EvaluatePanel()
    qtbot.addWidget(w)
    w.resize(1300, 820)
    w.show()
    yield w
    w.shutdown()


def test_scores_match_numpy_and_cells_open_their_images(qtbot, panel, builtin_model, tmp_path):
    from workbench.core.datasets import load_dataset

    with qtbot.waitSignal(panel.model_loaded, timeout=LOAD_TIMEOUT) as blocker:
        panel.open_model(builtin_model)
    loaded = blocker.args[0]
    assert panel.dataset_combo.currentData() == "builtin"  # picked from the model's metadata
    panel.set_dataset("builtin")
    panel.set_limit(LIMIT)
    with qtbot.waitSignal(panel.evaluation_finished, timeout=60_000) as done:
        panel.evaluate()
    result = done.args[0]

    ds = load_dataset("builtin")
    x, y = ds.x_test[:LIMIT], np.asarray(ds.y_test[:LIMIT])
    probs = loaded.predict_proba(x)
    top1 = float(np.mean(probs.argmax(axis=1) == y))
    k = min(5, probs.shape[1])
    topk = float(np.mean([y[i] in np.argsort(-probs[i])[:k] for i in range(len(y))]))
    assert result.n == LIMIT
    assert result.top1 == pytest.approx(top1, abs=1e-9)
    assert result.top5 == pytest.approx(topk, abs=1e-9)
    assert int(panel.confusion.matrix.sum()) == LIMIT
    assert f"{top1 * 100:.2f} %" in panel.score_label.text()
    assert len(panel.accuracy_bars.labels()) == ds.num_classes

    # Click the fullest cell: the grid opens with exactly that cell's images.
    m = panel.confusion.matrix
    t, p = np.unravel_index(int(np.argmax(m)), m.shape)
    with qtbot.waitSignal(panel.cell_opened, timeout=5_000) as opened:
        qtbot.mouseClick(panel.confusion, Qt.MouseButton.LeftButton, pos=panel.confusion.cell_rect(int(t), int(p)).center())
    assert opened.args == [int(t), int(p), int(m[t, p])]
    dialog = panel.cell_dialog
    assert dialog is not None and dialog.count == int(m[t, p])
    shown = dialog.grid.indices
    assert len(shown) == min(int(m[t, p]), 200)
    conf = probs[shown, p]
    assert np.all(np.diff(conf) <= 1e-6)  # most confident first

    out_csv = tmp_path / "confusion.csv"
    panel.export_csv(out_csv)
    with open(out_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][1:1 + ds.num_classes] == list(ds.class_names)
    assert sum(int(v) for row in rows[1:] for v in row[1:1 + ds.num_classes]) == LIMIT
    assert panel.export_png(tmp_path / "confusion.png") and (tmp_path / "confusion.png").stat().st_size > 0

    save_shot(panel, "evaluate_builtin.png")
    save_shot(dialog, "evaluate_cell_grid.png")
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.export_png(SHOTS / "evaluate_confusion_export.png")


def test_a_dataset_with_other_classes_is_refused_with_a_sentence(qtbot, panel, builtin_model, tmp_path):
    """The dataset loads (a small CIFAR-100 on disk), so the refusal comes from the class check itself
    (it once came from a missing folder, and the test passed without ever reaching the check)."""
    from tests.core.cifar_fixtures import write_cifar100
    from workbench.core.datasets import DATASETS

    write_cifar100(tmp_path, n_train=20, n_test=10)
    with qtbot.waitSignal(panel.model_loaded, timeout=LOAD_TIMEOUT) as loaded:
        panel.open_model(builtin_model)
    n = loaded.args[0].num_classes
    assert n != 100
    assert panel.set_dataset("cifar100", str(tmp_path))
    with qtbot.waitSignal(panel.evaluation_failed, timeout=60_000) as failed:
        panel.evaluate()
    message = failed.args[0]
    assert message == (f"The model predicts {n} classes but {DATASETS['cifar100'].title} has 100; "
                       "pick a dataset with the same classes.")
    assert panel.evaluate_button.isEnabled() and panel.run is None


def test_superclass_view_of_a_100_class_result(qtbot, panel):
    """The CIFAR-100 toggle: fed a synthetic 100-class result, the matrix switches to 20 superclasses."""
    from workbench.core.datasets import DATASETS
    from workbench.core.evaluation import _result
    from workbench.gui.panels.evaluate import EvaluationRun

    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 100, n)
    probs = rng.dirichlet(np.ones(100) * 0.3, n).astype(np.float32)
    probs[np.arange(n) % 2 == 0, y[np.arange(n) % 2 == 0]] += 2.0
    probs /= probs.sum(axis=1, keepdims=True)
    fine = _result(DATASETS["cifar100"].class_names, y, probs, 1.0)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    panel._on_finished(EvaluationRun("cifar100", fine, fine.superclass_result(), images))
    assert panel.coarse_check.isVisibleTo(panel)
    assert panel.confusion.num_classes == 100
    save_shot(panel, "evaluate_cifar100.png")
    panel.set_superclasses(True)
    assert panel.confusion.num_classes == 20 and int(panel.confusion.matrix.sum()) == n
    save_shot(panel, "evaluate_cifar100_superclasses.png")
    with qtbot.waitSignal(panel.cell_opened, timeout=5_000) as opened:
        panel.open_cell(3, 3)
    assert opened.args[2] == int(panel.confusion.matrix[3, 3])
