"""TensorBoard fluency: a run's HParams session, its probe grid per epoch and the final confusion matrix,
read back with TensorBoard's own event reader (what its HParams and Images dashboards show)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from workbench.core.training import TrainConfig, TrainingFinished, train
from workbench.core.training.callbacks.tb_images import RIGHT, WRONG, confusion_image, probe_grid


def test_probe_grid_frames_right_green_and_wrong_red():
    images = np.zeros((3, 32, 32, 1), np.uint8)
    grid = probe_grid(images, labels=(0, 1, 2), predictions=(0, 0, 2), columns=3)
    assert grid.shape[2] == 3 and grid.shape[1] > 3 * 64  # upscaled to 64 px tiles
    tile = (grid.shape[1] - 2) // 3
    corners = [tuple(grid[3, 2 + i * tile + 1]) for i in range(3)]  # a pixel of each frame
    assert corners == [RIGHT, WRONG, RIGHT]


def test_confusion_image_darkens_the_diagonal():
    picture = confusion_image(np.array([[9, 1], [0, 10]]))
    assert picture.shape == (400, 400, 3)
    assert picture[300, 300].sum() < picture[10, 300].sum() < picture[300, 10].sum() + 1


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("tb") / "run"
    config = TrainConfig(dataset="builtin", arch="simple_cnn", epochs=2, batch_size=64, limit=192, test_limit=64,
                         learning_rate=0.002, arch_options={"dropout": 0.25}, run_dir=str(run))
    final = train(config)
    assert isinstance(final, TrainingFinished), final
    return run, final


def _accumulator(folder):
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    return events


def test_hparams_session_holds_the_settings(run_dir):
    from tensorboard.plugins.hparams import metadata

    run, _ = run_dir
    content = _accumulator(run / "logs").PluginTagToContent(metadata.PLUGIN_NAME)
    start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
    hparams = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
    assert hparams["learning_rate"] == pytest.approx(0.002) and hparams["arch"] == "simple_cnn"
    assert hparams["option.dropout"] == pytest.approx(0.25) and hparams["epochs"] == 2
    assert "run_dir" not in hparams  # where a run lives is not a setting to compare
    experiment = metadata.parse_experiment_plugin_data(content[metadata.EXPERIMENT_TAG])
    metrics = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
    assert ("validation", "epoch_top1") in metrics and ("", "test_top1") in metrics


def test_images_and_test_accuracy_are_readable(run_dir):
    from PIL import Image
    from tensorboard.util.tensor_util import make_ndarray

    run, final = run_dir
    events = _accumulator(run / "logs")
    tags = set(events.PluginTagToContent("images"))
    grid_tag = next(t for t in tags if t.startswith("probes"))
    confusion_tag = next(t for t in tags if t.startswith("confusion"))
    grids = events.Tensors(grid_tag)
    assert [e.step for e in grids] == [0, 1]  # one probe grid per epoch
    width, height, png = make_ndarray(grids[-1].tensor_proto)[:3]
    picture = np.asarray(Image.open(io.BytesIO(png)))
    assert picture.shape[:2] == (int(height), int(width))
    framed = {tuple(p) for p in picture[3, :, :3]}  # the top frame row of the first tile row
    assert RIGHT in framed or WRONG in framed
    confusion = make_ndarray(events.Tensors(confusion_tag)[0].tensor_proto)
    assert Image.open(io.BytesIO(confusion[2])).size == (400, 400)  # 5 classes x 80 px
    test_top1 = float(make_ndarray(events.Tensors("test_top1")[0].tensor_proto))
    assert test_top1 == pytest.approx(final.test_top1, abs=1e-6)  # the same figure the run reports
