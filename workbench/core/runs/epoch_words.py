"""How a run's length is said everywhere (log, runs table, settings diff, CLI, the resume offer): epochs done
of planned, or a time budget, never the budget's epoch cap as if it were planned."""

from __future__ import annotations

from typing import Any

from workbench.core.training.config import BUDGET_EPOCH_CAP


def budget_text(minutes: float) -> str:
    """"2-minute budget", "1.5-minute budget"."""
    return f"{minutes:g}-minute budget"


def budget_minutes(config: Any) -> float | None:
    """A run's time budget in minutes from a TrainConfig or its dict, or None (none, or not a number)."""
    value = config.get("minutes") if isinstance(config, dict) else getattr(config, "minutes", None)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return None
    return float(value)


def length_text(epochs: Any, minutes: float | None) -> str:
    """What a run was set to train for: "15 epochs", "2-minute budget", "2-minute budget, at most 30 epochs"."""
    if minutes is None:
        return f"{epochs} epoch{'' if epochs == 1 else 's'}"
    cap = f", at most {epochs} epochs" if isinstance(epochs, int) and epochs != BUDGET_EPOCH_CAP else ""
    return budget_text(minutes) + cap


def done_text(done: int, planned: Any, minutes: float | None) -> str:
    """Epochs done: "6 / 15", or "1 in a 2-minute budget" (the cap is no plan)."""
    if minutes is not None:
        return f"{done} in a {budget_text(minutes)}"
    return f"{done} / {planned}" if isinstance(planned, int) and not isinstance(planned, bool) else str(done)
