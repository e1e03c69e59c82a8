"""Asynchronous successive halving (ASHA, Li et al. 2018): the rule that stops weak trials early.

Rungs sit at ``min_epochs * eta**k`` completed epochs. A trial reaching a rung records its metric there
and goes on only while it is in the top ``1/eta`` of the trials recorded at that rung so far (at least
the best one always goes on). Independent of any backend: the state is a plain mapping, so a
multiprocessing manager's dict can share it between worker processes.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping


def rung_epochs(min_epochs: int, eta: int, max_epochs: int) -> tuple[int, ...]:
    """Epoch counts at which a trial is judged; the last epoch is not a rung (the trial is done then)."""
    if min_epochs < 1 or eta < 2:
        raise ValueError("ASHA needs --asha-min-epochs of at least 1 and --asha-eta of at least 2.")
    out, r = [], min_epochs
    while r < max_epochs:
        out.append(r)
        r *= eta
    return tuple(out)


def keeps_going(recorded: list[float], value: float, eta: int) -> bool:
    """ASHA's promotion rule: is ``value`` in the top 1/eta of ``recorded`` (which includes it)?"""
    if math.isnan(value):
        return False  # a diverged trial has nothing to promote
    keep = max(1, len(recorded) // eta)
    better = sum(1 for v in recorded if not math.isnan(v) and v > value)
    return better < keep


class AshaRungs:
    """Records each trial's metric (higher is better) at each rung and answers "go on?"."""

    def __init__(self, min_epochs: int, eta: int, max_epochs: int,
                 store: MutableMapping[str, float] | None = None) -> None:
        self.eta = eta
        self.rungs = rung_epochs(min_epochs, eta, max_epochs)
        self.store = {} if store is None else store  # "<rung>:<trial>" -> metric; flat so a proxy dict works

    def report(self, trial: str, epochs_done: int, value: float) -> bool:
        """Record a trial after ``epochs_done`` epochs; False means stop it now."""
        if epochs_done not in self.rungs:
            return True
        self.store[f"{epochs_done}:{trial}"] = float(value)
        prefix = f"{epochs_done}:"
        recorded = [v for k, v in list(self.store.items()) if k.startswith(prefix)]
        return keeps_going(recorded, float(value), self.eta)
