"""`queue report --dataset cifar100` end to end on a small CIFAR-100-format fixture: the three runs train
through the queue, and the report table keeps "—" for them (a fixture's figure is no figure for the report)."""

from __future__ import annotations

import json

from tests.core.cifar_fixtures import write_cifar100
from workbench.cli import main
from workbench.core.runs import report_table as table
from workbench.core.runs.queue import RunQueue

FIXTURE_TRAIN, FIXTURE_TEST = 60, 20


def test_the_cifar100_report_runs_finish_on_a_fixture_and_keep_their_dashes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    # The report's settings but one epoch, for the queue and the table alike: the dash must come from the data.
    monkeypatch.setitem(table.REPORT_SETTINGS, "epochs", 1)
    fixture = write_cifar100(tmp_path / "data", n_train=FIXTURE_TRAIN, n_test=FIXTURE_TEST)
    assert main(["queue", "report", "--dataset", "cifar100", "--data-dir", str(fixture.root)]) == 0
    assert main(["queue", "run"]) == 0
    items = RunQueue().state().items
    assert [(i.config.arch, i.status) for i in items] == [
        ("all_conv", "done"), ("toy_resnet_deep", "done"), ("simple_cnn", "done")]
    capsys.readouterr()

    assert main(["queue", "report-table", "--json", "--dataset", "cifar100"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_dir"] for r in rows] == [i.run_dir for i in items]  # each row found its run
    for row in rows:
        assert row["top1"] is None and row["top5"] is None and row["epochs"] == 1
        assert row["note"] == f"no figure: trained on {FIXTURE_TRAIN} of 50,000 images"
        assert row["test_images"] == FIXTURE_TEST
    assert main(["queue", "report-table", "--markdown", "--dataset", "cifar100"]) == 0
    for line in capsys.readouterr().out.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[4] == cells[6] == table.DASH and cells[-1].endswith("of 50,000 images")

    # The same folder recording the whole training set shows its figure: the rule, not the run, kept it out.
    config_file = RunQueue().state().items[2].run_dir + "/config.json"
    with open(config_file) as f:
        stored = json.load(f)
    stored.update(train_images=40_000, val_images=10_000)
    with open(config_file, "w") as f:
        json.dump(stored, f)
    simple = table.report_table(dataset="cifar100")[2]
    assert simple.top5 is not None and simple.cells()["top5"].endswith(" %")
    assert simple.note == f"tested on {FIXTURE_TEST} of the 10,000 test images"
