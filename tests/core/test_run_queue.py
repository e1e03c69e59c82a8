"""The run queue: persistence, hostile queue files, order, pause, stop, failure continues, one runner at a time."""

from __future__ import annotations

import json
import os
import threading

import pytest

from workbench.core.runs.queue import QueueError, RunQueue, queue_running, read_queue
from workbench.core.runs.queue_runner import QueueRunner, plan_config
from workbench.core.training import TrainConfig, TrainingFailed, TrainingFinished, TrainingStopped
from workbench.core.training.lock import LOCK_FILE

TINY = dict(dataset="builtin", arch="embedded_cnn", epochs=1, batch_size=64, limit=128, test_limit=64)


@pytest.fixture
def queue(tmp_path):
    return RunQueue(tmp_path / "home" / "queue.json")


def _config(tmp_path, **changes):
    return TrainConfig(**{**TINY, "runs_root": str(tmp_path / "runs"), **changes})


class FakeTrain:
    """Stands in for the engine where only the runner's bookkeeping is under test; records the order."""

    def __init__(self, on_call=None):
        self.configs = []
        self.on_call = on_call

    def __call__(self, config, on_event, stop):
        self.configs.append(config)
        if self.on_call:
            result = self.on_call(config, stop)
            if result is not None:
                return result
        return TrainingFinished(run_dir=config.run_dir, model_path="m.h5", best_model_path=None,
                                epochs_completed=config.epochs, test_top1=0.5, test_top5=None)


def test_items_persist_in_order_and_can_be_moved_removed_and_cleared(queue, tmp_path):
    a, b, c = (queue.add(_config(tmp_path, seed=n), label=f"item {n}") for n in range(3))
    again = RunQueue(queue.path).state()  # a second reader (another process) sees the same queue
    assert [i.id for i in again.items] == [a.id, b.id, c.id]
    assert again.items[1].config.seed == 1 and again.items[1].label == "item 1"
    assert [i.id for i in queue.move(c.id, 1).items] == [c.id, a.id, b.id]
    assert [i.id for i in queue.move(c.id, 99).items] == [a.id, b.id, c.id]  # clamped to the end
    assert [i.id for i in queue.remove(b.id).items] == [a.id, c.id]
    with pytest.raises(QueueError, match="no item 'nope'"):
        queue.remove("nope")
    assert queue.clear().items == ()
    assert json.loads(queue.path.read_text())["items"] == []


def test_concurrent_adds_from_threads_are_not_lost(queue, tmp_path):
    config = _config(tmp_path)
    threads = [threading.Thread(target=lambda: [queue.add(config) for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(queue.state().items) == 40  # every read-modify-write held the edit lock


HOSTILE = {
    "not json": b"{not json",
    "binary": b"\xff\xfe\x00garbage",
    "a list": b"[]",
    "no format": json.dumps({"items": []}).encode(),
    "bad status": json.dumps({"format": 1, "items": [{"id": "abcd1234", "status": "exploded", "config": {}}]}).encode(),
    "bad id": json.dumps({"format": 1, "items": [{"id": "../../x", "status": "queued", "config": {}}]}).encode(),
    "bad settings": json.dumps({"format": 1, "items": [
        {"id": "abcd1234", "status": "queued", "config": {"epochs": "many"}}]}).encode(),
    "invalid value": json.dumps({"format": 1, "items": [
        {"id": "abcd1234", "status": "queued", "config": {"epochs": -3}}]}).encode(),
    "duplicate ids": json.dumps({"format": 1, "items": [
        {"id": "abcd1234", "status": "queued", "config": {}}, {"id": "abcd1234", "status": "queued", "config": {}}]}).encode(),
    "run_dir not a path": json.dumps({"format": 1, "items": [
        {"id": "abcd1234", "status": "queued", "config": {}, "run_dir": 5}]}).encode(),
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_queue_files_are_refused_in_one_sentence_and_clear_repairs_them(queue, name):
    queue.path.parent.mkdir(parents=True)
    queue.path.write_bytes(HOSTILE[name])
    with pytest.raises(QueueError) as info:
        queue.state()
    message = str(info.value)
    assert str(queue.path) in message and "queue clear" in message and "\n" not in message
    with pytest.raises(QueueError):
        queue.add(TrainConfig(**TINY))  # a refused edit writes nothing
    assert queue.path.read_bytes() == HOSTILE[name]
    assert queue.clear().items == ()
    assert read_queue(queue.path).items == ()


def test_oversized_and_fifo_queue_files_are_refused_without_reading_them(queue, monkeypatch):
    from workbench.core.runs import queue as run_queue

    queue.path.parent.mkdir(parents=True)
    monkeypatch.setattr(run_queue, "MAX_QUEUE_BYTES", 1000)
    queue.path.write_bytes(b" " * 5000)
    with pytest.raises(QueueError, match="larger than"):
        queue.state()
    queue.path.unlink()
    os.mkfifo(queue.path)  # reading a FIFO would hang forever
    with pytest.raises(QueueError, match="cannot be read"):
        queue.state()


def test_items_run_in_order_and_a_failed_run_does_not_stop_the_queue(queue, tmp_path):
    """Real engine: the middle item fails at start (unknown dataset), the last still runs."""
    first = queue.add(_config(tmp_path, seed=1))
    bad = queue.add(_config(tmp_path, dataset="no_such_dataset"))
    last = queue.add(_config(tmp_path, seed=2))
    seen = []
    ran = QueueRunner(queue, on_item=lambda i: seen.append((i.id, i.status))).run()
    assert [(i.id, i.status) for i in ran] == [(first.id, "done"), (bad.id, "failed"), (last.id, "done")]
    assert seen == [(first.id, "running"), (first.id, "done"), (bad.id, "running"), (bad.id, "failed"),
                    (last.id, "running"), (last.id, "done")]
    state = queue.state()
    assert [i.status for i in state.items] == ["done", "failed", "done"]
    assert "no_such_dataset" in state.item(bad.id).message
    assert state.item(bad.id).run_dir is None  # the refused run left no folder behind
    for item in (state.item(first.id), state.item(last.id)):
        assert os.path.isfile(os.path.join(item.run_dir, "result.json"))
    assert state.item(first.id).run_dir < state.item(last.id).run_dir  # started in queue order


def test_pause_stops_after_the_current_run_and_resume_goes_on(queue, tmp_path):
    items = [queue.add(_config(tmp_path, seed=n)) for n in range(3)]
    fake = FakeTrain(on_call=lambda config, stop: queue.set_paused(True) and None)
    ran = QueueRunner(queue, train_fn=fake).run()
    assert [i.id for i in ran] == [items[0].id]  # the run in progress finished; nothing after it started
    assert queue.state().paused
    assert QueueRunner(queue, train_fn=fake).run() == []  # still paused
    queue.set_paused(False)
    fake.on_call = None
    ran = QueueRunner(queue, train_fn=fake).run()
    assert [i.id for i in ran] == [items[1].id, items[2].id]
    assert [c.seed for c in fake.configs] == [0, 1, 2]


def test_stop_marks_the_item_stopped_and_it_resumes_first_next_time(queue, tmp_path):
    items = [queue.add(_config(tmp_path, seed=n)) for n in range(2)]

    def stopped(config, stop):
        stop.set()
        os.makedirs(os.path.join(config.run_dir, "checkpoint"), exist_ok=True)
        open(os.path.join(config.run_dir, "checkpoint", "last.h5"), "wb").close()  # one epoch done
        return TrainingStopped(run_dir=config.run_dir, model_path=None, epochs_completed=1)

    fake = FakeTrain(on_call=stopped)
    ran = QueueRunner(queue, train_fn=fake).run()
    assert [(i.id, i.status) for i in ran] == [(items[0].id, "stopped")]
    folder = ran[0].run_dir
    fake.on_call = None
    ran = QueueRunner(queue, train_fn=fake).run()
    assert [(i.id, i.status) for i in ran] == [(items[0].id, "done"), (items[1].id, "done")]
    assert fake.configs[1].resume and fake.configs[1].run_dir == folder  # the same folder, resumed
    assert not fake.configs[2].resume


def test_a_failing_engine_result_continues_and_only_one_runner_at_a_time(queue, tmp_path):
    queue.add(_config(tmp_path))
    queue.add(_config(tmp_path, seed=3))
    inner_error = []

    def second_runner(config, stop):
        assert queue_running(queue.path)
        try:
            QueueRunner(queue, train_fn=FakeTrain()).run()
        except QueueError as exc:
            inner_error.append(str(exc))
        return TrainingFailed(message="The device ran out of memory.", run_dir=None)

    ran = QueueRunner(queue, train_fn=FakeTrain(on_call=second_runner)).run()
    assert [i.status for i in ran] == ["failed", "failed"]
    assert inner_error and "already running" in inner_error[0]
    assert not queue_running(queue.path)


def test_plan_config_resumes_only_where_a_checkpoint_exists(queue, tmp_path):
    item = queue.add(_config(tmp_path))
    config, folder = plan_config(item)
    assert not config.resume and config.run_dir == folder and os.path.isdir(folder)
    from dataclasses import replace

    crashed = replace(item, status="running", run_dir=folder)  # died before its first epoch ended
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write("{}")  # what the killed start wrote
    config, again = plan_config(crashed)
    assert not config.resume and again == folder and set(os.listdir(folder)) <= {LOCK_FILE}  # same folder, again
    with open(os.path.join(folder, "history.csv"), "w") as f:
        f.write("epoch,loss\n0,1.0\n")  # an epoch ended: that folder is never emptied
    config, other = plan_config(crashed)
    assert not config.resume and other != folder and os.path.exists(os.path.join(folder, "history.csv"))
    os.makedirs(os.path.join(folder, "checkpoint"))
    open(os.path.join(folder, "checkpoint", "last.h5"), "wb").close()
    config, same = plan_config(crashed)
    assert config.resume and same == folder


def test_an_unwritable_home_is_one_sentence_not_a_traceback(tmp_path):
    blocker = tmp_path / "home"
    blocker.write_text("a file where the folder should be")
    queue = RunQueue(blocker / "queue.json")
    with pytest.raises(QueueError, match="cannot be read .Not a directory"):
        queue.state()
    with pytest.raises(QueueError, match="cannot be saved in .*WORKBENCH_HOME"):
        queue.add(TrainConfig(**TINY))
    with pytest.raises(QueueError, match="cannot be saved"):
        QueueRunner(queue).run()
