"""The training tab: ``TrainingPanel`` (control, panel.py) on ``TrainingView`` (widgets and drawing,
view.py); log text in text.py, saving in saving.py, what goes to other tabs in handoff.py."""

from workbench.gui.panels.training.handoff import ModelOffer, history_columns
from workbench.gui.panels.training.panel import TrainingPanel

__all__ = ["ModelOffer", "TrainingPanel", "history_columns"]
