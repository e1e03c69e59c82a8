"""The runs table core: rows, diff, sort, filter, labels, delete/restore and export, on generated run folders."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from tests.core.run_fixtures import write_run
from workbench.core.atomic_write import write_text_atomic
from workbench.core.runs import export as run_export
from workbench.core.runs import meta as run_meta
from workbench.core.runs import table as run_table
from workbench.core.runs import trash as run_trash
from workbench.core.runs.filters import FilterError, filter_rows, sort_rows
from workbench.core.runs.table import load_table, settings_diff
from workbench.core.training import rundir
from workbench.core.training.lock import RunLock


@pytest.fixture
def three(tmp_path):
    write_run(tmp_path, "a", config={"arch": "resnet20", "learning_rate": 0.01}, final_top1=0.8,
              started="2026-11-03T10:00:00")
    write_run(tmp_path, "b", config={"arch": "simple_cnn", "learning_rate": 0.01}, final_top1=0.6,
              status="stopped", started="2026-11-02T10:00:00")
    write_run(tmp_path, "c", config={"arch": "resnet20", "learning_rate": 0.001, "arch_options": {"width": 32}},
              final_top1=0.75, status="incomplete", started="2026-11-01T10:00:00")
    return tmp_path


def _names(rows):
    return [r.get("folder") for r in rows]


def test_rows_hold_settings_and_results(three):
    table = load_table(three)
    assert _names(table.rows) == ["a", "b", "c"]  # newest first
    a = table.rows[0]
    assert a.get("arch") == "resnet20" and a.get("learning_rate") == 0.01 and a.get("status") == "finished"
    assert a.get("test_top1") == pytest.approx(0.79) and a.get("params") == 274_042
    assert a.get("epochs_done") == 10 and 100 < a.get("wall_time") < 140 and a.get("images_per_sec") > 0
    assert 0.7 < a.get("best_top1") < 0.85 and a.get("final_top1") is not None
    assert table.rows[2].get("arch_options.width") == 32 and table.rows[2].get("status") == "incomplete"
    assert "runs_root" not in a.values


def test_diff_lists_only_differing_settings(three):
    rows = load_table(three).rows
    assert set(settings_diff(rows)) == {"arch", "learning_rate", "arch_options.width"}
    assert settings_diff(rows[:2]) == ["arch"]
    assert settings_diff(rows[:1]) == []
    assert "arch" in run_table.default_columns(load_table(three))


def test_sort_blanks_last_and_both_directions(three):
    rows = load_table(three).rows
    assert _names(sort_rows(rows, "test_top1", descending=True)) == ["a", "b", "c"]
    assert _names(sort_rows(rows, "test_top1")) == ["b", "a", "c"]  # c has no result: blank, last
    assert _names(sort_rows(rows, "arch")) == ["a", "c", "b"]


def test_filters_by_field_and_text(three):
    rows = load_table(three).rows
    assert _names(filter_rows(rows, ["status=finished"])) == ["a"]
    assert _names(filter_rows(rows, ["arch=resnet20"])) == ["a", "c"]
    assert _names(filter_rows(rows, ["test_top1>0.7"])) == ["a"]
    assert _names(filter_rows(rows, ["arch!=resnet20"])) == ["b"]
    assert _names(filter_rows(rows, ["arch=resnet20", "learning_rate<0.005"])) == ["c"]
    assert _names(filter_rows(rows, ["SIMPLE"])) == ["b"]
    with pytest.raises(FilterError, match="not a number"):
        filter_rows(rows, ["test_top1>high"])
    with pytest.raises(FilterError, match="not a column"):
        filter_rows(rows, ["nosuch=1"], known=run_table.all_columns(load_table(three)))


def test_tag_note_rename_are_stored_and_filterable(three):
    run_meta.add_tag(three / "b", "baseline")
    run_meta.add_tag(three / "b", "keep")
    run_meta.set_note(three / "b", "lr too high\nrerun")
    run_meta.set_name(three / "b", "Simple CNN baseline")
    row = run_table.read_row(three / "b")
    assert row.get("tags") == "baseline keep" and row.get("note") == "lr too high\nrerun"
    assert row.get("name") == "Simple CNN baseline" and row.get("folder") == "b"
    assert _names(filter_rows(load_table(three).rows, ["tags=keep"])) == ["b"]
    with pytest.raises(run_meta.MetaError, match="one word"):
        run_meta.add_tag(three / "b", "two words")
    assert json.loads((three / "b" / "meta.json").read_text())["tags"] == ["baseline", "keep"]
    run_meta.remove_tag(three / "b", "keep")
    assert run_table.read_row(three / "b").get("tags") == "baseline"


@pytest.mark.parametrize("content", [
    '{"name": 5, "tags": "x", "note": ["\\u001b[31m"]}',
    '{"name": "\\u001b]0;pwned\\u0007ok\\u202e", "tags": ["good", "bad tag", 3], "note": "fine"}',
    "[1, 2]", "{not json", '{"tags": [' + ",".join(['"t%d"' % i for i in range(500)]) + "]}",
])
def test_hostile_meta_json_reads_safely(three, content):
    (three / "a" / "meta.json").write_text(content)
    row = run_table.read_row(three / "a")
    assert "\x1b" not in row.get("name") and "\u202e" not in row.get("name")
    assert len(row.get("tags").split()) <= run_meta.MAX_TAGS
    assert "bad tag" not in row.get("tags")
    assert row.get("status") == "finished"  # the run itself still reads


def test_huge_meta_and_history_are_skipped_with_a_note(three):
    (three / "a" / "meta.json").write_text('{"note": "' + "x" * (run_meta.MAX_META_BYTES + 10) + '"}')
    with open(three / "b" / "history.csv", "a") as f:
        line = "1,1,1,1,1,1,1,1,1,1\n"
        f.write(line * (rundir.MAX_HISTORY_BYTES // len(line) + 10))
    start = time.perf_counter()
    table = load_table(three)
    assert time.perf_counter() - start < 1.0
    a, b = table.rows[0], table.rows[1]
    assert a.get("note") == "" and any("larger than" in n for n in a.notes)
    assert b.get("epochs_done") == 0 and any("history.csv is larger" in n for n in b.notes)
    assert b.get("status") == "stopped"


def test_history_under_the_byte_cap_but_with_too_many_epochs_is_skipped_fast(three):
    line = "1,1,1,1,1,1,1,1,1,1\n"  # short rows pack many epochs into the byte cap
    with open(three / "a" / "history.csv", "a") as f:
        f.write(line * (rundir.MAX_HISTORY_BYTES // len(line) - 100))
    start = time.perf_counter()
    row = run_table.read_row(three / "a")
    assert time.perf_counter() - start < 1.0
    assert row.get("epochs_done") == 0 and any("more than 5000 epochs" in n for n in row.notes)


def test_a_fifo_in_place_of_result_json_does_not_hang(three):
    import os

    os.remove(three / "a" / "result.json")
    os.mkfifo(three / "a" / "result.json")
    row = run_table.read_row(three / "a")
    assert row.get("status") == "incomplete" and any("not a regular file" in n for n in row.notes)


def test_delete_restore_and_name_clash(three):
    trashed = run_trash.delete_run(three / "a")
    assert not (three / "a").exists() and trashed.parent.name == ".trash"
    assert "a" not in _names(load_table(three).rows)
    write_run(three, "a", config={"arch": "resnet_wide"})  # the name was taken again meanwhile
    restored = run_trash.restore_run(trashed)
    assert restored.name == "a-2" and (restored / "config.json").is_file()
    assert not (restored / run_trash.TRASH_NOTE).exists()
    # two deletions of folders with the same name both land in the trash
    first = run_trash.delete_run(three / "a")
    write_run(three, "a")
    second = run_trash.delete_run(three / "a")
    assert first != second and {e["original"] for e in run_trash.list_trash(three)} == {"a"}
    assert run_trash.find_trashed(three, "a") == second  # the newest
    with pytest.raises(run_trash.TrashError, match="no deleted run"):
        run_trash.find_trashed(three, "zzz")


def test_locked_run_is_refused(three):
    lock = RunLock.acquire(three / "b")
    try:
        with pytest.raises(run_trash.TrashError, match="being written"):
            run_trash.delete_run(three / "b")
    finally:
        lock.release()
    assert (three / "b" / "config.json").is_file()


def test_exports_are_strict_and_sanitised(three, tmp_path):
    run_meta.set_name(three / "a", "=HYPERLINK(\"x\")|pipe")
    rows = load_table(three).rows
    columns = ["name", "arch", "test_top1", "params"]
    text = run_export.to_csv(rows, columns)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == columns and parsed[1][0].startswith("'=")
    assert float(parsed[1][2]) == pytest.approx(0.79)
    md = run_export.to_markdown(rows, columns)
    assert md.splitlines()[0] == "| Name | arch | Test top-1 | Parameters |"
    assert "\\|pipe" in md and "79.0 %" in md and "274,042" in md
    assert all(line.count(" | ") == 3 for line in md.splitlines() if line.startswith("| "))
    out = tmp_path / "out.md"
    write_text_atomic(out, md)
    assert out.read_text() == md


def _with_config_text(root, folder, text: bytes):
    run = write_run(root, folder)
    (run / "config.json").write_bytes(text)
    return run


@pytest.mark.parametrize("key", ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1",
                                 " =1+1"])
def test_csv_neutralises_formulas_in_headers_and_cells(tmp_path, key):
    write_run(tmp_path, "plain")
    write_run(tmp_path, "a", config={"learning_rate": 0.01, key: key})
    table = load_table(tmp_path)
    (column,) = set(table.setting_keys) - set(next(r for r in table.rows if r.get("folder") == "plain").settings)
    text = run_export.to_csv([r for r in table.rows if r.get("folder") == "a"], ["name", column])
    header, row = list(csv.reader(io.StringIO(text)))
    for cell in (header[1], row[1]):
        assert cell.lstrip()[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


def test_one_config_with_many_keys_does_not_widen_the_table(tmp_path):
    write_run(tmp_path, "a", config={"learning_rate": 0.01})
    write_run(tmp_path, "wide", config={"learning_rate": 0.02, **{f"k{i}": i for i in range(40_000)},
                                        "arch_options": {f"o{i}": i for i in range(5_000)}})
    table = load_table(tmp_path)
    known = {"learning_rate", "arch", "batch_size", "epochs"}
    assert known <= set(table.setting_keys)
    assert len(run_table.all_columns(table)) <= 60 + run_table.MAX_OTHER_SETTINGS * 2 + 20
    assert len(run_table.default_columns(table)) < 200
    wide = next(r for r in table.rows if r.get("folder") == "wide")
    assert any("settings the workbench does not know" in n and "left out" in n for n in wide.notes), wide.notes
    assert len(run_export.to_csv(table.rows, run_table.all_columns(table)).splitlines()[0].split(",")) < 400


def test_a_config_with_one_bad_byte_is_listed_with_the_reason(tmp_path):
    write_run(tmp_path, "good")
    _with_config_text(tmp_path, "bad", b'{"config": {"arch": "resnet20\xff"}, "started": "x"}')
    table = load_table(tmp_path)
    bad = next((r for r in table.rows if r.get("folder") == "bad"), None)
    assert bad is not None, [r.get("folder") for r in table.rows]
    assert any("not UTF-8" in n and "config.json" in n for n in bad.notes), bad.notes
    assert bad.get("status") == "finished" and bad.get("test_top1") is not None  # what could be read is shown


def test_many_runs_with_their_own_keys_are_capped_over_the_table(tmp_path):
    for n in range(6):
        write_run(tmp_path, f"r{n}", config={f"mine{n}_{i}": i for i in range(run_table.MAX_OTHER_SETTINGS)})
    table = load_table(tmp_path)
    others = [k for k in table.setting_keys if k.startswith("mine")]
    assert len(others) == run_table.MAX_OTHER_COLUMNS < 6 * run_table.MAX_OTHER_SETTINGS
    assert any("only in --json" in n for n in table.notes)
    assert "learning_rate" in table.setting_keys
    assert not set(run_table.default_columns(table)) - set(run_table.all_columns(table)) - {"name"}
