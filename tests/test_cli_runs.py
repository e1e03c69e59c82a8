"""`main.py runs`: listing, sorting, filtering, exports, labels, delete/restore, and usage errors (exit 2)."""

from __future__ import annotations

import csv
import json
import re

import pytest

from workbench.cli import main
from tests.core.run_fixtures import write_run


@pytest.fixture
def root(tmp_path):
    write_run(tmp_path, "r1", config={"arch": "resnet20", "learning_rate": 0.01}, final_top1=0.8,
              started="2026-11-02T10:00:00")
    write_run(tmp_path, "r2", config={"arch": "simple_cnn", "learning_rate": 0.01}, final_top1=0.6,
              status="failed", started="2026-11-01T10:00:00")
    return tmp_path


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_list_json_is_strict_and_shows_the_diff(root, capsys):
    assert main(["runs", "--root", str(root), "--json"]) == 0
    data = _json(capsys)
    assert data["diff"] == ["arch"] and "arch" in data["columns"] and "learning_rate" not in data["columns"]
    assert [r["folder"] for r in data["runs"]] == ["r1", "r2"]
    assert data["runs"][0]["test_top1"] == pytest.approx(0.79)


def test_sort_filter_columns_and_text(root, capsys):
    assert main(["runs", "--root", str(root), "--sort", "test_top1", "--columns", "name,test_top1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Name", "Test", "top-1"] and lines[1].startswith("r2") and lines[2].startswith("r1")
    assert main(["runs", "--root", str(root), "--filter", "status=finished", "--json"]) == 0
    assert [r["folder"] for r in _json(capsys)["runs"]] == ["r1"]


def test_exports(root, tmp_path, capsys):
    out = tmp_path / "t.csv"
    assert main(["runs", "--root", str(root), "--csv", str(out), "--columns", "folder,arch,test_top1"]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["folder", "arch", "test_top1"] and rows[1][:2] == ["r1", "resnet20"]
    md = tmp_path / "t.md"
    assert main(["runs", "--root", str(root), "--markdown", str(md)]) == 0
    assert md.read_text().startswith("| Name | dataset | arch |")


def test_labels_delete_restore(root, capsys):
    assert main(["runs", "--root", str(root), "tag", "r2", "lr-bug"]) == 0
    assert main(["runs", "--root", str(root), "note", "r2", "diverged"]) == 0
    assert "tags lr-bug" in capsys.readouterr().out
    assert main(["runs", "--root", str(root), "rename", "r2", "Broken one", "--json"]) == 0
    assert _json(capsys)["name"] == "Broken one"
    assert main(["runs", "--root", str(root), "--filter", "tags=lr-bug", "--json"]) == 0
    (row,) = _json(capsys)["runs"]
    assert row["name"] == "Broken one" and row["note"] == "diverged"
    assert main(["runs", "--root", str(root), "delete", "r2"]) == 0
    assert not (root / "r2").exists()
    capsys.readouterr()
    assert main(["runs", "--root", str(root), "trash", "--json"]) == 0
    assert [e["original"] for e in _json(capsys)] == ["r2"]
    assert main(["runs", "--root", str(root), "restore", "r2"]) == 0
    assert (root / "r2" / "config.json").is_file()


@pytest.mark.parametrize("argv, words", [
    (["--sort", "nope"], "not a column"),
    (["--filter", "test_top1>high"], "not a number"),
    (["--columns", "name,zzz"], "zzz"),
    (["tag", "nope", "x"], "no run 'nope'"),
    (["tag", "r1", "two words"], "one word"),
    (["restore", "r1"], "no deleted run"),
])
def test_usage_errors_exit_2_with_one_sentence(root, capsys, argv, words):
    before = sorted(p.name for p in root.rglob("*"))
    assert main(["runs", "--root", str(root), *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in root.rglob("*")) == before  # a refused command writes nothing


def test_csv_and_markdown_together_is_a_usage_error(root, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["runs", "--root", str(root), "--csv", str(tmp_path / "a"), "--markdown", str(tmp_path / "b")])
    assert exc.value.code == 2


def test_sweep_trials_show_their_sweep_and_filter_by_it(root, capsys):
    from tests.core.test_run_table_sweeps import write_sweep_folder

    write_sweep_folder(root, "lr-sweep", [0.01, 0.2])
    assert main(["runs", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "Sweep" in out.splitlines()[0].split() and "Trial" in out.splitlines()[0].split()
    assert "lr-sweep/trial-002" in out and "4 of 4 runs" in out
    assert main(["runs", "--root", str(root), "--filter", "sweep=lr-sweep", "--json"]) == 0
    data = _json(capsys)
    assert [r["folder"] for r in data["runs"]] == ["lr-sweep/trial-002", "lr-sweep/trial-001"]
    assert {r["sweep"] for r in data["runs"]} == {"lr-sweep"} and data["diff"] == ["learning_rate"]
    assert main(["runs", "--root", str(root), "tag", "lr-sweep/trial-001", "best", "--json"]) == 0
    assert _json(capsys)["tags"] == ["best"]
    assert main(["runs", "--root", str(root), "delete", "lr-sweep/trial-001"]) == 0
    assert not (root / "lr-sweep" / "trial-001").exists() and "runs restore" in capsys.readouterr().out
    assert main(["runs", "--root", str(root), "restore", "lr-sweep/trial-001"]) == 0
    assert (root / "lr-sweep" / "trial-001" / "config.json").is_file()
    assert main(["runs", "--root", str(root), "restore", "../lr-sweep/trial-001"]) == 2
    assert "not a path outside the runs folder" in capsys.readouterr().err


def test_without_sweeps_no_sweep_column(root, capsys):
    assert main(["runs", "--root", str(root)]) == 0
    assert "Sweep" not in capsys.readouterr().out.splitlines()[0]


def test_a_linked_run_is_refused_alike_by_tag_note_rename_and_delete(root, tmp_path, capsys):
    outside = write_run(tmp_path / "elsewhere", "real")
    (root / "linked").symlink_to(outside)
    before = sorted(p.name for p in outside.iterdir())
    errors = []
    for argv in (["tag", "linked", "best"], ["note", "linked", "hi"], ["rename", "linked", "x"],
                 ["delete", "linked"]):
        assert main(["runs", *argv, "--root", str(root)]) == 2, argv
        errors.append(capsys.readouterr().err.strip())
    assert len(set(errors)) == 1, errors  # the same sentence from every action
    assert errors[0].startswith("error: ") and "symbolic link" in errors[0] and "\n" not in errors[0]
    assert "no config.json" not in errors[0]
    assert sorted(p.name for p in outside.iterdir()) == before  # nothing written outside the root
    assert (root / "linked").is_symlink() and not (root / ".trash").exists()


def test_a_linked_meta_json_is_not_written_through(root, tmp_path, capsys):
    target = tmp_path / "victim.txt"
    target.write_text("keep me")
    (root / "r1" / "meta.json").symlink_to(target)
    assert main(["runs", "tag", "r1", "best", "--root", str(root)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_a_run_folder_named_with_a_non_utf8_byte_lists_and_exports(root, tmp_path, capsys):
    import os

    bad = write_run(root, os.fsdecode(b"bad\xffrun"))
    (bad / "config.json").write_bytes(b'{"config": {"arch": "x\xff"}}')
    assert main(["runs", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "bad\\xffrun" in out and "not UTF-8 text" in out  # the byte shown as text.printable shows it
    out.encode("utf-8")  # printable as UTF-8: no raw byte reaches the terminal
    for flag, name in (("--csv", "o.csv"), ("--markdown", "o.md")):
        assert main(["runs", "--root", str(root), flag, str(tmp_path / name)]) == 0
        assert re.search(r"bad\\+xffrun", (tmp_path / name).read_text(encoding="utf-8"))  # Markdown doubles "\\"
