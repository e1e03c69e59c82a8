"""The fixed probe images: chosen the same way every run, predicted after every epoch."""

import numpy as np

from workbench.core.datasets import load_dataset
from workbench.core.training import EpochEnded, TrainConfig, TrainingFinished, TrainingStarted, train
from workbench.core.training.probes import choose_probes


def test_probes_cover_every_class_and_are_stable():
    data = load_dataset("builtin")
    a = choose_probes(data.x_test, data.y_test)
    b = choose_probes(data.x_test, data.y_test)
    assert a.indices == b.indices and len(a.indices) == 25
    assert set(a.labels) == set(range(data.num_classes))
    assert np.array_equal(a.images, np.asarray(data.x_test)[list(a.indices)])
    assert a.labels == tuple(int(data.y_test[i]) for i in a.indices)
    assert not a.images.flags.writeable


def test_probe_predictions_arrive_with_every_epoch(tmp_path):
    events = []
    final = train(
        TrainConfig(dataset="builtin", arch="simple_cnn", epochs=3, batch_size=64, limit=1200,
                    run_dir=str(tmp_path / "run")),
        events.append,
    )
    assert isinstance(final, TrainingFinished), final
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert len(started.probe_indices) == 25 and started.probe_images.shape == (25, 32, 32, 3)
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert len(epochs) == 3
    for e in epochs:
        assert len(e.probe_predictions) == 25 and len(e.probe_confidences) == 25
        assert all(0 <= p < 5 for p in e.probe_predictions)
        assert all(0.0 <= c <= 1.0 for c in e.probe_confidences)
    right = np.mean(np.array(epochs[-1].probe_predictions) == np.array(started.probe_labels))
    assert right >= 0.8  # the built-in set is learnt in a few epochs; the probes show it
