"""Listing earlier runs and reading their history, including damaged and half-written ones."""

from __future__ import annotations

import json

from workbench.core.runs.summary import list_runs, load_run_config, summarize_run
from workbench.core.training import TrainConfig
from workbench.core.training.rundir import HISTORY_COLUMNS, read_history


def make_run(root, name, *, started, history_rows, result=None, partial_line=None, config=None):
    run = root / name
    run.mkdir(parents=True)
    config = config or TrainConfig(dataset="builtin", arch="simple_cnn", epochs=5)
    (run / "config.json").write_text(json.dumps({"config": config.to_dict(), "started": started}))
    lines = [",".join(HISTORY_COLUMNS[:10])]  # a history written before the wall_seconds column: still read
    for epoch, (val1, val5) in enumerate(history_rows):
        lines.append(f"{epoch},1.0,0.5,0.9,1.1,{val1},{val5},0.001,2.0,500.0")
    text = "\n".join(lines) + "\n" + (partial_line or "")
    (run / "history.csv").write_text(text)
    if result is not None:
        (run / "result.json").write_text(json.dumps(result))
    return run


def test_list_runs_summaries_newest_first(tmp_path):
    make_run(tmp_path, "a", started="2026-01-01T10:00:00", history_rows=[(0.5, 0.9), (0.7, 0.95), (0.6, 0.99)],
             result={"status": "finished", "test_top1": 0.66, "test_top5": 0.97, "model_path": "/x/model.h5"})
    make_run(tmp_path, "b", started="2026-02-01T10:00:00", history_rows=[(0.3, 0.8)],
             partial_line="1,0.9,0.6")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    (tmp_path / "stray.txt").write_text("x")
    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["b", "a"]
    b, a = runs
    assert a.status == "finished" and a.epochs_done == 3 and a.epochs_planned == 5
    assert a.best_val_top1 == 0.7 and a.best_val_top5 == 0.95  # top-5 of the best top-1 epoch
    assert a.test_top1 == 0.66 and a.test_top5 == 0.97 and a.model_path == "/x/model.h5"
    assert b.status == "incomplete" and b.epochs_done == 1 and b.test_top1 is None
    assert a.dataset == "builtin" and a.arch == "simple_cnn"


def test_read_history_skips_half_written_line_and_missing_files(tmp_path):
    run = make_run(tmp_path, "r", started="", history_rows=[(0.1, 0.2), (0.3, 0.4)], partial_line="2,0.5,0.")
    rows = read_history(run)
    assert [r["epoch"] for r in rows] == [0, 1]
    assert isinstance(rows[1]["val_top1"], float) and rows[1]["images_per_sec"] == 500.0
    assert read_history(tmp_path / "missing") == []
    (run / "history.csv").write_bytes(b"\xff\xfe garbage")
    assert read_history(run) == []


def test_list_runs_on_missing_root_and_config_reload(tmp_path):
    assert list_runs(tmp_path / "nowhere") == []
    config = TrainConfig(dataset="builtin", arch="resnet20", epochs=7, augment=True)
    run = make_run(tmp_path, "c", started="x", history_rows=[], config=config)
    assert load_run_config(run) == config
    assert summarize_run(run).epochs_done == 0
    assert load_run_config(tmp_path / "nowhere") is None


def test_real_run_is_listed(tmp_path):
    from workbench.core.training import TrainingFinished, train

    final = train(TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=1, batch_size=64, limit=64,
                              test_limit=32, runs_root=str(tmp_path)))
    assert isinstance(final, TrainingFinished), final
    (summary,) = list_runs(tmp_path)
    assert summary.run_dir == final.run_dir and summary.status == "finished"
    assert summary.epochs_done == 1 and summary.test_top1 == final.test_top1
    assert summary.resumable is False and summary.started
