"""``python -m workbench.gui.panels.training``: the training tab alone, on the built-in dataset."""

from workbench.core.training.config import TrainConfig
from workbench.gui.panels.training.panel import TrainingPanel
from workbench.gui.standalone import run_panel


def _make() -> TrainingPanel:
    return TrainingPanel(config_provider=lambda: TrainConfig(dataset="builtin", arch="simple_cnn", epochs=3, limit=1000))


if __name__ == "__main__":
    raise SystemExit(run_panel(_make, "Training"))
