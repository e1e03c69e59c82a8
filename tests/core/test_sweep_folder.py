"""The sweep folder: claiming a name, reading sweep.json with a size cap, ranking trials."""

import json

import pytest

from workbench.core.sweeps import folder as sweep_folder
from workbench.core.sweeps.folder import SweepFolderError, claim_sweep_folder, ranked, read_sweep


def test_a_taken_name_is_refused_and_left_alone(tmp_path):
    made = claim_sweep_folder(tmp_path, "s1")
    (made / "sweep.json").write_text("{}")
    with pytest.raises(SweepFolderError, match="exists already; give the sweep another --name"):
        claim_sweep_folder(tmp_path, "s1")
    assert (made / "sweep.json").read_text() == "{}"
    with pytest.raises(SweepFolderError, match="plain folder name"):
        claim_sweep_folder(tmp_path, "a/b")


def test_oversized_or_odd_files_are_refused_in_one_sentence(tmp_path, monkeypatch):
    (tmp_path / "sweep.json").write_text(json.dumps({"trials": [{"id": "x" * 100}]}))
    assert read_sweep(tmp_path)["trials"][0]["id"] == "x" * 100
    monkeypatch.setattr(sweep_folder, "MAX_SWEEP_JSON_BYTES", 50)
    with pytest.raises(SweepFolderError, match="is larger than"):
        read_sweep(tmp_path)
    monkeypatch.undo()
    (tmp_path / "sweep.json").write_text("[1, 2]")
    with pytest.raises(SweepFolderError, match="has no list of trials"):
        read_sweep(tmp_path)


def test_ranked_best_first_failed_last():
    trials = [{"id": "a", "best_val_top1": 0.5, "test_top1": 0.4}, {"id": "b", "status": "failed"},
              {"id": "c", "best_val_top1": 0.7}, {"id": "d", "best_val_top1": 0.5, "test_top1": 0.6},
              {"id": "e", "best_val_top1": float("nan")}]
    assert [t["id"] for t in ranked(trials)] == ["c", "d", "a", "b", "e"]
