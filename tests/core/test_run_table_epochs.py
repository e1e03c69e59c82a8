"""The runs table says epochs done of planned, and a time budget as a budget (never its epoch cap)."""

from __future__ import annotations

import json

from workbench.core.runs.export import cell_text, to_markdown
from workbench.core.runs.table import default_columns, load_table, settings_diff
from workbench.core.training.config import BUDGET_EPOCH_CAP

from tests.core.run_fixtures import write_run


def _rows(root):
    return {r.get("folder"): r for r in load_table(root).rows}


def test_epochs_done_of_planned_and_a_budget_as_a_budget(tmp_path):
    write_run(tmp_path, "a-stopped", epochs=6, config={"epochs": 15}, status="stopped")
    write_run(tmp_path, "b-budget", epochs=1, config={"epochs": BUDGET_EPOCH_CAP, "minutes": 2.0})
    write_run(tmp_path, "c-capped", epochs=3, config={"epochs": 30, "minutes": 1.5})
    rows = _rows(tmp_path)
    stopped, budget, capped = rows["a-stopped"], rows["b-budget"], rows["c-capped"]
    assert cell_text(stopped, "epochs_done") == "6 / 15" and cell_text(stopped, "epochs") == "15"
    assert cell_text(budget, "epochs_done") == "1 in a 2-minute budget"
    assert cell_text(budget, "epochs") == "2-minute budget"
    assert cell_text(capped, "epochs") == "1.5-minute budget, at most 30 epochs"
    assert budget.get("epochs") == BUDGET_EPOCH_CAP  # the value stays what the config says (filters, CSV, --json)
    # The settings diff and the Markdown export show the budget, never "1000".
    assert "epochs" in settings_diff([stopped, budget])
    text = to_markdown([stopped, budget], ["folder", "epochs", "epochs_done"])
    assert "2-minute budget" in text and "1000" not in text and "6 / 15" in text
    columns = default_columns(load_table(tmp_path))
    assert columns.index("epochs_done") == columns.index("status") + 1  # "stopped · 6 / 15" side by side


def test_wall_time_counts_every_part_of_a_resumed_run(tmp_path):
    run = write_run(tmp_path, "resumed", epochs=4, seconds_per_epoch=10.0)
    lines = (run / "history.csv").read_text().splitlines()
    # The second part (resumed at epoch 2) started its clock again at 0.
    header, rows = lines[0], [line.split(",") for line in lines[1:]]
    for i, cells in enumerate(rows):
        cells[-1] = str(10.0 * (i + 1 if i < 2 else i - 1))
    (run / "history.csv").write_text("\n".join([header] + [",".join(c) for c in rows]) + "\n")
    stored = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**stored, "resumed": [{"at": "", "from_epoch": 2}]}))
    (run / "result.json").unlink()
    assert _rows(tmp_path)["resumed"].get("wall_time") == 40.0
    result = {"status": "finished", "wall_seconds": 47.5}
    (run / "result.json").write_text(json.dumps(result))  # the engine's own figure, final test included
    assert _rows(tmp_path)["resumed"].get("wall_time") == 47.5

