"""`runs` on the command line: epochs done of planned, and a time budget as a budget."""

from __future__ import annotations

from tests.core.run_fixtures import write_run
from workbench.core.training.config import BUDGET_EPOCH_CAP


def test_the_runs_command_says_epochs_done_of_planned_and_budgets(tmp_path, capsys):
    from workbench.cli import main

    write_run(tmp_path, "a-stopped", epochs=6, config={"epochs": 15}, status="stopped")
    write_run(tmp_path, "b-budget", epochs=1, config={"epochs": BUDGET_EPOCH_CAP, "minutes": 2.0})
    assert main(["runs", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "6 / 15" in out and "1 in a 2-minute budget" in out and "1000" not in out
