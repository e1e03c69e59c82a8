"""The test loss is the validation loss's kind: with label smoothing and weight penalties the final test,
flip-averaged or not, counts what Keras' fit counts for val_loss (it was plain cross-entropy beside a
smoothed, penalised validation loss: 1.50 against 2.20 at equal top-1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.core.training import TrainConfig, TrainingFinished, train
from workbench.core.training.rundir import read_history

SMOOTHING = 0.2
PENALTY = 0.05  # a big L2 factor, so the penalty's part of the loss is plain to see


def _mirror_symmetric(n: int, side: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images equal to their mirror image, so a flip-averaged test sees the very pixels validation sees."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, side, side, 3), dtype=np.uint8)
    x[:, :, side // 2:] = x[:, :, : side // 2][:, :, ::-1]
    return x, rng.integers(0, 10, size=n).astype(np.int32)


@pytest.mark.parametrize("tta_flip", [False, True])
def test_final_test_loss_equals_keras_validation_loss_on_the_same_images(tta_flip):
    import tensorflow as tf

    from workbench.core.architectures import build_model
    from workbench.core.datasets import DATASETS
    from workbench.core.metrics import TopKAccuracy
    from workbench.core.training.finish import evaluate_test
    from workbench.core.training.optim import make_loss
    from workbench.core.training.pipeline import Splits
    from workbench.core.training.session import RunSession

    config = TrainConfig(dataset="builtin", arch="resnet20", label_smoothing=SMOOTHING, tta_flip=tta_flip,
                         arch_options={"width": 4, "blocks_per_stage": 1, "weight_decay": PENALTY})
    model = build_model("resnet20", 10, input_shape=(16, 16, 3), width=4, blocks_per_stage=1, weight_decay=PENALTY)
    model.compile(optimizer="sgd", loss=make_loss(config, 10), metrics=[TopKAccuracy(k=1, name="top1")])
    x, y = _mirror_symmetric(40, 16)
    images = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)  # 16 + 16 + 8: a short last batch
    # what fit reports as val_loss: Model.evaluate on the validation batches
    val = model.evaluate(images, verbose=0, return_dict=True)
    run = RunSession(config=config, model=model, dataset_info=DATASETS["builtin"],
                     splits=Splits(train=None, val=None, test=images, train_images=0, val_images=0,
                                   test_images=len(x), steps_per_epoch=1))
    assert DATASETS["builtin"].mirror_safe  # so tta_flip takes the flip-averaging path
    test = evaluate_test(run)
    assert test["top1"] == pytest.approx(val["top1"])
    assert test["loss"] == pytest.approx(val["loss"], rel=1e-4)
    plain = float(np.mean(-np.log(np.take_along_axis(np.asarray(model(x, training=False)), y[:, None], 1))))
    assert val["loss"] > plain + 0.1  # the smoothing and the penalty count: not plain cross-entropy


def test_tiny_run_with_label_smoothing_reports_a_test_loss_of_the_validation_losss_kind(tmp_path: Path):
    """A real run (flip-averaged test, label smoothing, a big weight penalty): the test loss sits beside
    the last validation loss, not a penalty's worth below it."""
    config = TrainConfig(dataset="builtin", arch="resnet20", epochs=1, batch_size=32, limit=128, test_limit=128,
                         val_split=0.5, label_smoothing=SMOOTHING, tta_flip=True, learning_rate=1e-4,
                         arch_options={"width": 4, "blocks_per_stage": 1, "weight_decay": PENALTY},
                         run_dir=str(tmp_path / "run"))
    final = train(config)
    assert isinstance(final, TrainingFinished), final
    val_loss = read_history(final.run_dir)[-1]["val_loss"]
    # at learning rate 1e-4 for 2 batches the network is its initialisation: test and validation images
    # get the same kind of loss, and the penalty (~1 here) would show as a gap
    assert abs(final.test_loss - val_loss) < 0.25, (final.test_loss, val_loss)


def test_the_loss_axis_names_the_loss_that_was_counted():
    from workbench.core.training.optim import loss_label

    plain = TrainConfig(dataset="builtin", arch="simple_cnn")
    assert loss_label(plain) == "cross-entropy"
    smoothed = plain.replace(arch="resnet20", label_smoothing=0.1)
    assert loss_label(smoothed) == "cross-entropy, smoothing 0.1 + L2"  # resnet20's default weight decay
    assert loss_label(smoothed.replace(arch_options={"weight_decay": 0.0})) == "cross-entropy, smoothing 0.1"
