"""Sweeps in the runs table: each trial of a sweep folder is a row named by its sweep; damaged sweep.json skipped."""

from __future__ import annotations

import json
from pathlib import Path

from tests.core.run_fixtures import write_run
from workbench.core.runs import table as run_table
from workbench.core.runs.filters import filter_rows
from workbench.core.runs.table import load_table
from workbench.core.sweeps import folder as sweep_folder


def write_sweep_folder(root: Path, name: str, lrs: list[float], pending: int = 0) -> Path:
    """A sweep folder as the `sweep` command leaves it: sweep.json plus one run folder per started trial."""
    folder = root / name
    folder.mkdir(parents=True)
    trials = []
    for i, lr in enumerate(lrs):
        tid = sweep_folder.trial_id(i)
        write_run(folder, tid, config={"learning_rate": lr, "run_dir": str(folder / tid)},
                  final_top1=0.5 + lr, started=f"2026-11-0{i + 1}T10:00:00", seed=i)
        trials.append({"id": tid, "run_dir": tid, "settings": {"learning_rate": lr}, "status": "finished",
                       "best_val_top1": 0.5 + lr})
    for j in range(pending):
        tid = sweep_folder.trial_id(len(lrs) + j)
        trials.append({"id": tid, "run_dir": tid, "settings": {"learning_rate": 0.5}, "status": "pending"})
    (folder / "sweep.json").write_text(json.dumps({"kind": "sweep", "name": name, "backend": "local",
                                                   "log_scaled": [], "trials": trials}))
    return folder


def _folders(rows):
    return sorted(r.get("folder") for r in rows)


def test_trials_are_rows_named_by_their_sweep_and_filterable(tmp_path):
    write_run(tmp_path, "plain", config={"learning_rate": 0.1}, started="2026-10-01T10:00:00")
    write_sweep_folder(tmp_path, "lr-sweep", [0.01, 0.1, 0.2], pending=1)
    write_sweep_folder(tmp_path, "other", [0.05])
    table = load_table(tmp_path)
    assert _folders(table.rows) == ["lr-sweep/trial-001", "lr-sweep/trial-002", "lr-sweep/trial-003",
                                    "other/trial-001", "plain"]  # the pending trial has no run folder yet
    trial = next(r for r in table.rows if r.get("folder") == "lr-sweep/trial-002")
    assert trial.get("sweep") == "lr-sweep" and trial.get("trial") == "trial-002"
    assert trial.get("learning_rate") == 0.1 and trial.get("status") == "finished"
    assert trial.run_dir == str(tmp_path / "lr-sweep" / "trial-002") and "run_dir" not in trial.values
    assert next(r for r in table.rows if r.get("folder") == "plain").get("sweep") is None
    known = run_table.all_columns(table)
    assert _folders(filter_rows(table.rows, ["sweep=lr-sweep"], known)) == [
        "lr-sweep/trial-001", "lr-sweep/trial-002", "lr-sweep/trial-003"]
    assert _folders(filter_rows(table.rows, ["sweep=other"], known)) == ["other/trial-001"]
    assert _folders(filter_rows(table.rows, ["lr-sweep", "learning_rate>0.05"])) == [
        "lr-sweep/trial-002", "lr-sweep/trial-003"]
    columns = run_table.default_columns(table)
    assert columns.index("sweep") < columns.index("learning_rate") and "trial" in columns


def test_without_sweeps_the_sweep_column_stays_out_but_filters_are_known(tmp_path):
    write_run(tmp_path, "a", config={"learning_rate": 0.1})
    table = load_table(tmp_path)
    assert "sweep" not in run_table.default_columns(table)
    assert filter_rows(table.rows, ["sweep=x"], run_table.all_columns(table)) == []


def test_damaged_huge_or_hostile_sweep_json_is_skipped_with_a_note(tmp_path, monkeypatch):
    write_run(tmp_path, "plain")
    write_sweep_folder(tmp_path, "good", [0.01])
    (write_sweep_folder(tmp_path, "cut", [0.01]) / "sweep.json").write_text('{"trials": [')
    outside = write_sweep_folder(tmp_path, "escape", [0.01])
    (outside / "sweep.json").write_text(json.dumps({"trials": [{"id": "x", "run_dir": "../plain"},
                                                               {"id": "y", "run_dir": "/etc"}, "junk"]}))
    big = write_sweep_folder(tmp_path, "big", [0.01])
    data = json.loads((big / "sweep.json").read_text())
    (big / "sweep.json").write_text(json.dumps({**data, "padding": "x" * 5000}))
    monkeypatch.setattr(sweep_folder, "MAX_SWEEP_JSON_BYTES", 4000)  # the others are well under
    table = load_table(tmp_path)
    assert _folders(table.rows) == ["good/trial-001", "plain"]
    text = " ".join(table.notes)
    assert "cut/sweep.json is not valid JSON" in text and "big/sweep.json is larger than" in text
    assert text.count("without a plain folder name") == 3 and "Its trials were skipped." in text


def test_trials_count_toward_the_run_cap(tmp_path, monkeypatch):
    write_sweep_folder(tmp_path, "s1", [0.01, 0.02, 0.03])
    write_sweep_folder(tmp_path, "s2", [0.01, 0.02])
    monkeypatch.setattr(run_table, "MAX_RUNS", 2)
    table = load_table(tmp_path)
    assert _folders(table.rows) == ["s1/trial-001", "s1/trial-002"]
    assert any("only the first 2 were read" in n for n in table.notes)
