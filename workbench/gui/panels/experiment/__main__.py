"""``python -m workbench.gui.panels.experiment``: the experiment form alone."""

from workbench.gui.panels.experiment.panel import ExperimentPanel
from workbench.gui.standalone import run_panel

if __name__ == "__main__":
    raise SystemExit(run_panel(ExperimentPanel, "Experiment"))
