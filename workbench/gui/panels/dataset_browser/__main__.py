"""``python -m workbench.gui.panels.dataset_browser [DATASET]``: the dataset tab alone (built-in set by default)."""

import sys

from workbench.gui.panels.dataset_browser.panel import DatasetBrowserPanel
from workbench.gui.standalone import run_panel


def _make() -> DatasetBrowserPanel:
    panel = DatasetBrowserPanel()
    panel.set_dataset(sys.argv[1] if len(sys.argv) > 1 else "builtin")
    return panel


if __name__ == "__main__":
    raise SystemExit(run_panel(_make, "Dataset browser"))
