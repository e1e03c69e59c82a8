"""Bad input ends in TrainingFailed with one readable sentence, never an exception."""

from __future__ import annotations

import threading

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
    assert "no run folder" in final.message
    (tmp_path / "empty").mkdir()
    final = failed(TrainConfig(dataset="builtin", resume=True, run_dir=str(tmp_path / "empty")))
    assert "no completed epoch" in final.message


def test_existing_run_folder_is_not_overwritten(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    final = failed(TrainConfig(dataset="builtin", run_dir=str(tmp_path / "run")))
    assert "already holds a run" in final.message


def test_bad_settings_from_a_dict_are_reported(tmp_path):
    # The GUI builds configs from dicts; an invalid one must not reach train() as an exception.
    config = TrainConfig(dataset="builtin", runs_root=str(tmp_path))
    object.__setattr__(config, "batch_size", 0)  # simulate a config that skipped validation
    assert "Batch size" in failed(config).message


def test_failing_event_receiver_becomes_failed_event(tmp_path):
    def explode(event):
        if isinstance(event, TrainingStarted):
            raise RuntimeError("receiver broke")

    final = train(TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=1, limit=64, test_limit=32,
                              batch_size=32, run_dir=str(tmp_path / "run")), explode)
    assert isinstance(final, TrainingFailed)
    assert final.message == "Training failed: receiver broke"
    assert "RuntimeError" in final.details
