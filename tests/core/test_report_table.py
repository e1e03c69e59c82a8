"""The report's table from fixture run folders (no CIFAR training): which run fills a row, and the layout."""

from __future__ import annotations

import json

from workbench.cli import main
from workbench.core.runs.report_table import DASH, REPORT_RUNS, report_runs, report_table, table_markdown
from workbench.core.runs.queue import RunQueue
from workbench.core.training.rundir import HISTORY_COLUMNS


def make_run(root, name, spec, *, status="finished", top1=0.8, top5=0.97, finished="2026-01-01T10:00:00",
             epoch_seconds=(60.0, 61.0), images=(40_000, 10_000, 10_000), **config_changes):
    """A finished run folder as the engine leaves it; ``images``: training, validation and test images recorded."""
    folder = root / name
    folder.mkdir(parents=True)
    config = {**spec.config().to_dict(), **config_changes}
    counts = dict(zip(("train_images", "val_images", "test_images"), images))
    (folder / "config.json").write_text(json.dumps({"format": 1, "config": config, "params": spec.params, **counts}))
    (folder / "result.json").write_text(json.dumps({
        "status": status, "test_top1": top1, "test_top5": top5, "epochs_completed": len(epoch_seconds),
        "finished_at": finished}))
    rows = [",".join(HISTORY_COLUMNS)] + [
        ",".join([str(n), "1", "0.5", "0.9", "1", "0.5", "0.9", "0.001", str(s), "100", str(sum(epoch_seconds[:n + 1]))])
        for n, s in enumerate(epoch_seconds)]
    (folder / "history.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_rows_fill_from_the_newest_finished_run_with_the_reports_settings(tmp_path):
    toy, embedded, all_conv10, all_conv100 = REPORT_RUNS[:4]
    make_run(tmp_path, "a-old", toy, top1=0.70, finished="2026-01-01T10:00:00")
    new = make_run(tmp_path, "b-new", toy, top1=0.78, finished="2026-01-02T10:00:00")
    make_run(tmp_path, "c-quick", embedded, limit=500)  # a quick try is not the report's run
    make_run(tmp_path, "d-failed", embedded, status="failed")
    make_run(tmp_path, "e-other-options", all_conv10, arch_options={"input_dropout": 0.2})
    make_run(tmp_path, "f-c100", all_conv100, top1=0.42, top5=0.71, epoch_seconds=(3000.0, 700.0))
    (tmp_path / "g-junk").mkdir()
    (tmp_path / "g-junk" / "config.json").write_text("[not json")

    rows = report_table(tmp_path)
    assert [r.spec for r in rows] == list(REPORT_RUNS)
    assert rows[0].run_dir == str(new) and rows[0].top1 == 0.78 and rows[0].epochs == 2
    assert rows[0].seconds == 121.0 and rows[0].params == 223_242
    assert rows[1].run_dir is None and rows[2].run_dir is None  # quick, failed and other-options runs left out
    cells = rows[0].cells()
    assert cells["top1"] == "78.0 %" and cells["top1_report"] == "76.9 %" and cells["time"] == "2:01"
    assert cells["params"] == cells["params_report"] == "223,242"
    assert rows[1].cells()["top1"] == DASH and rows[1].cells()["top1_report"] == DASH  # no figure either side
    assert rows[3].cells()["time"] == "1:01:40" and rows[3].cells()["top5_report"] == "68.9 %"
    assert [r.spec.dataset for r in report_table(tmp_path, "cifar100")] == ["cifar100"] * 3


def test_a_figure_only_from_a_run_on_the_whole_training_set_with_its_test_set_said(tmp_path):
    toy, embedded, all_conv10 = REPORT_RUNS[:3]
    full = make_run(tmp_path, "a-full", toy, top1=0.77, finished="2026-01-01T10:00:00", images=(40_000, 10_000, 2_000))
    make_run(tmp_path, "b-subset-newer", toy, top1=0.99, finished="2026-01-05T10:00:00", images=(480, 120, 2_000))
    make_run(tmp_path, "c-fixture", embedded, top1=0.93, images=(480, 120, 100))
    make_run(tmp_path, "d-unrecorded", all_conv10, top1=0.65, images=())

    toy_row, embedded_row, all_conv_row = report_table(tmp_path, "cifar10")
    assert toy_row.run_dir == str(full)  # the whole-set run wins over a newer run on 600 images
    cells = toy_row.cells()
    assert cells["top1"] == "77.0 %" and cells["test_images"] == "2,000"
    assert cells["note"] == "tested on 2,000 of the 10,000 test images"
    fixture = embedded_row.cells()
    assert embedded_row.top1 is None and fixture["top1"] == fixture["top5"] == DASH
    assert fixture["note"] == "no figure: trained on 600 of 50,000 images" and fixture["epochs"] == "2"
    assert all_conv_row.top1 is None and "did not record" in all_conv_row.note
    lines = table_markdown([toy_row, embedded_row]).splitlines()
    assert "| Top-5 | Report | Test images | Epochs |" in lines[0] and lines[0].endswith("| Note |")
    assert "| 77.0 % |" in lines[2] and "| 2,000 |" in lines[2]  # the test set's size beside the figures
    assert lines[2].endswith("| tested on 2,000 of the 10,000 test images |")
    assert "93.0 %" not in lines[3] and "trained on 600 of 50,000 images" in lines[3]


def test_markdown_and_json_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    make_run(tmp_path / "runs", "run1", REPORT_RUNS[5], top5=0.70)
    markdown = table_markdown(report_table())
    lines = markdown.splitlines()
    assert lines[0].startswith("| Dataset | Network | Parameters | Report | Top-1 | Report | Top-5")
    assert len(lines) == 2 + len(REPORT_RUNS)
    assert "| 70.0 % | 67.4 % |" in lines[-1] and DASH in lines[2]
    assert main(["queue", "report-table", "--json", "--dataset", "cifar100"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["arch"] for d in data] == ["all_conv", "toy_resnet_deep", "simple_cnn"]
    assert data[2]["top5"] == 0.70 and data[2]["report"]["top5"] == 0.674 and data[0]["top5"] is None


def test_queue_report_queues_the_reports_runs_with_its_settings(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    assert main(["queue", "report", "--dataset", "cifar10"]) == 0
    items = RunQueue().state().items
    assert [(i.config.dataset, i.config.arch) for i in items] == [
        ("cifar10", "toy_resnet"), ("cifar10", "embedded_cnn"), ("cifar10", "all_conv")]
    for item in items:
        c = item.config
        assert (c.epochs, c.batch_size, c.optimizer, c.learning_rate, c.val_split) == (30, 256, "adam", 1e-3, 0.2)
        assert item.label.startswith("report: CIFAR-10 model")
    assert main(["queue", "report"]) == 0
    assert len(RunQueue().state().items) == 3 + 6
    assert [s.arch for s in report_runs("cifar100")] == ["all_conv", "toy_resnet_deep", "simple_cnn"]
