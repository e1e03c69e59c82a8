"""Bad input ends in TrainingFailed with one readable sentence, never an exception."""

from __future__ import annotations

import threading

import pytest

from workbench.core.training import TrainConfig, TrainingFailed, TrainingStarted, train


def failed(config):
    events = []
    final = train(config, events.append, threading.Event())
    assert isinstance(final, TrainingFailed), final
    assert events == [final]  # nothing started
    assert "\n" not in final.message and "Traceback" not in final.message
    return final


def test_unknown_dataset(tmp_path):
    final = failed(TrainConfig(dataset="imagenet", runs_root=str(tmp_path)))
    assert "Unknown dataset 'imagenet'" in final.message
    assert list(tmp_path.iterdir()) == []  # no run folder is left behind


def test_missing_cifar_files(tmp_path):
    final = failed(TrainConfig(dataset="cifar10", data_dir=str(tmp_path / "empty"), runs_root=str(tmp_path)))
    assert "cifar" in final.message.lower()
    assert final.run_dir is None


def test_unknown_architecture_and_option(tmp_path):
    assert "Unknown architecture" in failed(TrainConfig(dataset="builtin", arch="vgg99", runs_root=str(tmp_path))).message
    final = failed(TrainConfig(dataset="builtin", arch="simple_cnn", arch_options={"depth": 3}, runs_root=str(tmp_path)))
    assert "depth" in final.message


def test_resume_without_run_or_checkpoint(tmp_path):
    final = failed(TrainConfig(dataset="builtin", resume=True, run_dir=str(tmp_path / "nothing")))
    assert f"There is no run folder {tmp_path / 'nothing'} to resume" in final.message
    final = failed(TrainConfig(dataset="builtin", resume=True))
    assert final.message == "Resuming needs the folder of an earlier run; none was given."  # not "folder None"
    (tmp_path / "empty").mkdir()
    final = failed(TrainConfig(dataset="builtin", resume=True, run_dir=str(tmp_path / "empty")))
    assert "holds no readable config.json" in final.message
    (tmp_path / "empty" / "config.json").write_text('{"config": {"dataset": "builtin"}}')
    final = failed(TrainConfig(dataset="builtin", resume=True, run_dir=str(tmp_path / "empty")))
    assert "no completed epoch" in final.message
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == ["config.json"]  # nothing written


def test_existing_run_folder_is_not_overwritten(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    final = failed(TrainConfig(dataset="builtin", run_dir=str(tmp_path / "run")))
    assert "already holds a run" in final.message


@pytest.mark.parametrize("changes, words", [
    (dict(batch_size=0), "Batch size"), (dict(seed=-1), "seed must be between 0"),
    (dict(seed=2**40), "seed must be between 0"), (dict(test_limit=-1), "test limit"),
    (dict(early_stopping_patience=-2), "patience"),
])
def test_bad_settings_are_refused_by_the_one_validation_path(changes, words):
    # The constructor is the only check (the GUI builds configs from dicts too): an invalid config cannot
    # exist, so the engine does not check again. A seed of -1 used to fail only after the run folder existed.
    with pytest.raises(ValueError, match=words):
        TrainConfig.from_dict({**TrainConfig(dataset="builtin").to_dict(), **changes})


def test_failing_event_receiver_becomes_failed_event(tmp_path):
    def explode(event):
        if isinstance(event, TrainingStarted):
            raise RuntimeError("receiver broke")

    final = train(TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=1, limit=64, test_limit=32,
                              batch_size=32, run_dir=str(tmp_path / "run")), explode)
    assert isinstance(final, TrainingFailed)
    assert final.message == "Training failed: receiver broke"
    assert "RuntimeError" in final.details
