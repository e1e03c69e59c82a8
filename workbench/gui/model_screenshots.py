"""Screenshots of why a trained model decides, in the real window: ``take_model_screenshots(out, model, …)``.

Used by ``python main.py screenshots --model PATH --dataset ID [--data-dir D] --out DIR``: the model is
copied to a scratch folder first (Calibrate writes its temperature into the file it evaluates, and the
user's file is not ours to change), then shown in Evaluate (Grad-CAM on the confident mistakes, the
reliability diagram before and after calibrating), the Model tab's layers, the Map and Classify.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings

from workbench.gui.screenshots import _save, _settle, _wait_until


def _most_confident_mistake(result) -> int | None:
    wrong = np.flatnonzero(result.y_pred != result.y_true)
    if not len(wrong):
        return None
    return int(wrong[np.argmax(result.confidence[wrong])])


def take_model_screenshots(out_dir, model_path: str, dataset_id: str, data_dir: str | None = None) -> list[Path]:
    """Open the window at 1280×720 with a copy of ``model_path`` and save the explain views; returns the paths."""
    from workbench.gui.app import application
    from workbench.gui.main_window import TAB_CLASSIFY, TAB_EVALUATE, TAB_MAP, TAB_MODEL, MainWindow
    from workbench.gui.widgets.sample_grid import SampleDialog

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = application()
    work = Path(tempfile.mkdtemp(prefix="workbench-model-screens-"))
    model = work / Path(model_path).name
    shutil.copyfile(model_path, model)
    settings = QSettings(str(work / "gui.ini"), QSettings.Format.IniFormat)
    settings.setValue("experiment/dataset", dataset_id)
    if data_dir:
        settings.setValue("experiment/data_dir", str(data_dir))
    window = MainWindow(settings=settings, runs_root=str(work / "runs"))
    window.ask_before_closing = False
    window.resize(1280, 720)
    window.show()
    saved: list[Path] = []
    try:
        ev = window.evaluate
        window.tabs.setCurrentIndex(TAB_EVALUATE)
        ev.data_dir = data_dir
        ev.set_dataset(dataset_id, data_dir)
        loaded: list = []
        ev.model_loaded.connect(loaded.append)
        ev.open_model(str(model))
        if not _wait_until(lambda: bool(loaded) or bool(ev.setup.last_error), 600) or not loaded:
            raise ValueError(f"{model_path} could not be opened: {ev.setup.last_error or 'timed out'}")
        done: list = []
        ev.evaluation_finished.connect(done.append)
        ev.evaluate()
        _wait_until(lambda: bool(done), 900)
        result = ev.result
        shown: list = []
        ev.gradcam.overlays_shown.connect(shown.append)
        ev.gradcam.check.setChecked(True)
        _wait_until(lambda: bool(shown), 300)
        _settle(0.5)
        _save(window, out / "50-evaluate-gradcam.png", saved)
        worst = _most_confident_mistake(result)
        if worst is not None:
            image, looked = ev.gradcam.enlarged(worst, ev.run.images[worst])
            pred, true = int(result.y_pred[worst]), int(result.y_true[worst])
            dialog = SampleDialog(image, worst, f"true {result.class_names[true]} → predicted "
                                  f"{result.class_names[pred]} ({result.probabilities[worst, pred] * 100:.1f} %)"
                                  f"<br>{looked}", "test", window)
            dialog.show()
            _settle(0.4)
            _save(dialog, out / "51-gradcam-confident-mistake.png", saved)
            dialog.close()

        # reliability before and after fitting a temperature (on the copy)
        ev.side_tabs.setCurrentIndex(1)
        _settle(0.4)
        _save(window, out / "52-calibration-before.png", saved)
        done.clear()
        refused: list = []
        ev.calibration.calibration_failed.connect(refused.append)  # e.g. a temperature that would not help
        ev.calibration.calibrate_button.click()
        _wait_until(lambda: bool(done) or bool(refused), 900)  # Calibrate stores T in the copy, then evaluates
        _wait_until(window.is_idle, 300)
        _settle(0.5)
        _save(window, out / "53-calibration-after.png", saved)
        from workbench.gui.widgets.reliability import ReliabilityDiagram

        # the same diagram at a readable size (in the tab it shares 1280×720 with the confusion matrix)
        for name, shown_result in (("53b-reliability-before.png", result), ("53c-reliability-after.png", ev.result)):
            if shown_result is None or shown_result.reliability is None:
                continue
            big = ReliabilityDiagram()
            big.set_bins(shown_result.reliability.bins)
            big.resize(480, 400)
            big.show()
            _settle(0.4)
            _save(big, out / name, saved)
            big.close()

        # the layers of the most confident mistake, in the Model tab
        window.tabs.setCurrentIndex(TAB_MODEL)
        view = window.model_view
        view.views.setCurrentWidget(view.layers_view)
        layers_shown: list = []
        view.layers_view.shown.connect(layers_shown.append)
        index = worst if worst is not None else 0
        view.layers_view.show_test_image(index)
        _wait_until(lambda: view.layers_view.answer is not None
                    and f"#{index}" in view.layers_view.answer.source, 300)
        relus = [l.name for l in view.layers_view.answer.layers.layers if "relu" in l.name.lower()]
        if relus:
            view.layers_view.select_layer(relus[len(relus) // 2])
        _settle(0.5)
        _save(window, out / "54-layers.png", saved)

        # the embedding map: PCA at once, then t-SNE, then a click on the worst mistake
        window.tabs.setCurrentIndex(TAB_MAP)
        emb = window.embedding_map
        maps: list = []
        emb.map_ready.connect(maps.append)
        emb.draw()
        _wait_until(lambda: bool(maps), 900)
        _settle(0.5)
        _save(window, out / "55-map-pca.png", saved)
        tsne: list = []
        emb.tsne_ready.connect(tsne.append)
        emb.set_method("tsne")
        _wait_until(lambda: bool(tsne), 900)
        _settle(0.5)
        _save(window, out / "56-map-tsne.png", saved)
        if worst is not None:
            emb.open_point(worst)
            _wait_until(lambda: emb.point_dialog is not None and window.is_idle(), 300)
            _settle(0.6)
            _save(emb.point_dialog, out / "57-map-point.png", saved)
            emb.point_dialog.close()

        # Classify: a few test images with their overlays
        window.tabs.setCurrentIndex(TAB_CLASSIFY)
        classify = window.classify
        overlays: list = []
        classify.gradcam.overlay_shown.connect(lambda row, seconds: overlays.append(seconds))
        classify.data_dir = data_dir
        classify.set_dataset(dataset_id, data_dir)
        classify.add_test_images(6)
        _wait_until(lambda: len(overlays) >= 6, 300)
        _wait_until(window.is_idle, 60)
        _settle(0.5)
        _save(window, out / "58-classify-gradcam.png", saved)
    finally:
        window.shutdown()
        window.close()
        _wait_until(lambda: not window.isVisible(), 60)
        app.processEvents()
        shutil.rmtree(work, ignore_errors=True)
    return saved
