"""What a run is doing now, in words (the status bar), and how long it has left, counting the work after
the last batch (validation, the final test, saving) from measured speeds; no widgets, tested without a window."""

from __future__ import annotations

from workbench.core.training.events import (
    CONFUSION,
    SAVING,
    TESTING,
    TESTING_FLIPPED,
    VALIDATING,
    BatchProgress,
    FinishingProgress,
    TrainingStarted,
)

# A forward pass costs about a third of a training step (forward and backward): the guess for the test's
# speed until a validation or test pass has been measured.
INFERENCE_SPEEDUP = 3.0
MIN_MEASURED_S = 0.2  # a phase's speed is trusted once it has run this long


def activity(event: object, started: TrainingStarted | None) -> str | None:
    """The status bar's line for ``event``; None for events that do not say (an epoch's end: the next batch
    or phase does; the final event: its own sentence, view.show_final)."""
    if isinstance(event, TrainingStarted):
        return f"Training epoch {event.initial_epoch + 1}" + ("" if event.minutes else f"/{event.epochs}") + "…"
    if isinstance(event, BatchProgress):
        planned = "" if started is None or started.minutes else f"/{started.epochs}"
        return f"Training epoch {event.epoch + 1}{planned}…"
    if isinstance(event, FinishingProgress):
        return {VALIDATING: "Validating…", CONFUSION: "Testing (confusion matrix)…", TESTING: "Testing…",
                TESTING_FLIPPED: "Testing with flips…", SAVING: "Saving the model…"}.get(event.phase)
    return None


def final_phase_label(e: FinishingProgress) -> str:
    """The progress bar's text for a phase, e.g. "testing 1,200/2,000"."""
    return f"{e.phase} {e.done:,}/{e.total:,}"


class RunClock:
    """What the ETA needs to remember across events: the run's shape and the measured speeds."""

    def __init__(self, started: TrainingStarted | None = None) -> None:
        self.started = started
        self.train_speed: float | None = None  # training images per second
        self.test_speed: float | None = None  # images per second through the network alone (one pass)

    def note_training_speed(self, images_per_sec: float) -> None:
        if images_per_sec > 0:
            self.train_speed = images_per_sec

    def note_phase(self, e: FinishingProgress) -> None:
        """Measure the network's speed from a validation or test pass."""
        if e.phase in (VALIDATING, CONFUSION, TESTING, TESTING_FLIPPED) and e.done > 0 and e.seconds >= MIN_MEASURED_S:
            self.test_speed = e.done / e.seconds * (2 if e.phase == TESTING_FLIPPED else 1)

    def _pass_speed(self) -> float | None:
        if self.test_speed:
            return self.test_speed
        return self.train_speed * INFERENCE_SPEEDUP if self.train_speed else None

    def final_seconds(self, passes: int | None = None) -> float:
        """Seconds the passes over the test images after the last epoch take (all of them by default)."""
        s = self.started
        if s is None or not s.test_images:
            return 0.0
        speed = self._pass_speed()
        n = s.final_passes if passes is None else passes
        return n * s.test_images / speed if speed else 0.0

    def phase_eta(self, e: FinishingProgress, last_epoch: bool) -> float | None:
        """Seconds left during phase ``e``; None where the phase is an ordinary epoch's validation (the
        training ETA, which averages whole epochs, already holds it)."""
        if e.phase == VALIDATING and not last_epoch:
            return None
        if e.done > 0 and e.seconds > 0:
            left = (e.total - e.done) * e.seconds / e.done
        else:
            speed = self._pass_speed()
            factor = 2 if e.phase == TESTING_FLIPPED else 1
            left = (e.total - e.done) * factor / speed if speed and e.phase != SAVING else 0.0
        passes = self.started.final_passes if self.started is not None else 0
        after = {VALIDATING: passes, CONFUSION: passes - 1}.get(e.phase, 0)
        return left + self.final_seconds(max(0, after))
