"""What a training run shows on the terminal: a batch bar on a TTY, one line per epoch everywhere, and the
work after the last epoch (the test, the saving) as a bar on a TTY or one line per phase (`train`, `queue run`)."""

from __future__ import annotations

from typing import Any, TextIO

from workbench.cli.common import finite
from workbench.cli.progress import Progress
from workbench.core.runs.epoch_words import budget_text, length_text
from workbench.core.text import sanitize

# Longest error message or path we print: enough for any of our sentences with two long paths in them.
MAX_MESSAGE_CHARS = 2000


def epoch_line(event: Any, top5: bool = True) -> str:
    """One epoch's figures; `top5=False` leaves top-5 out (5 classes or fewer: it is always 100 %)."""
    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    val = ""
    if event.val_top1 is not None:
        val = f"  val loss {event.val_loss:.4f} top1 {pct(event.val_top1)}"
        val += f" top5 {pct(event.val_top5)}" if top5 else ""
    best = "  *best" if event.is_best else ""
    return (
        f"epoch {event.epoch + 1:>3}/{event.epochs}  loss {event.loss:.4f} top1 {pct(event.top1)}"
        + (f" top5 {pct(event.top5)}" if top5 else "")
        + f"{val}  lr {event.learning_rate:.2e}  {event.seconds:.1f}s {event.images_per_sec:,.0f} img/s{best}"
    )


class TrainReporter:
    """Turns training events into terminal output: a batch bar on a TTY, one line per epoch everywhere."""

    def __init__(self, log: TextIO, tty: bool | None = None) -> None:
        self.log = log
        self.tty = log.isatty() if tty is None else tty
        self.epochs: list[dict[str, Any]] = []
        self.top5_note: str | None = None  # why top-5 is left out (5 classes or fewer), once the run says
        self.batch_size_reductions: list[dict[str, Any]] = []  # out-of-memory halvings, for --json
        self._bar: Progress | None = None
        self._bar_for: object = None  # what the open bar counts: an epoch's batches or a phase's name
        self._phase = ""  # the last phase after the final epoch named in a plain log

    budget: float | None = None  # the run's time budget in minutes: epochs are then counted, not planned

    def _print(self, text: str) -> None:
        self.close_bar()
        print(text, file=self.log, flush=True)

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._bar_for = None

    def _bar_to(self, what: object, label: str, total: int, unit: str) -> Progress:
        if self._bar is None or self._bar_for != what:
            self.close_bar()
            self._bar = Progress(label, total, unit=unit, stream=self.log, tty=True)
            self._bar_for = what
        return self._bar

    def _phase_progress(self, event: Any) -> None:
        """Validation, the final test and the saving: a bar on a TTY; in a log one line when a phase after
        the last epoch begins (an epoch's validation is in its epoch line)."""
        from workbench.core.training.events import SAVING, VALIDATING

        new, self._phase = event.phase != self._phase, event.phase
        if self.tty and event.phase != SAVING:  # a file's write has no progress of its own to draw
            self._bar_to(event.phase, event.phase, event.total, "images").update(event.done)
        elif event.phase != VALIDATING and new:
            self._print(f"{event.phase} ({event.total:,} images)…" if event.phase != SAVING
                        else "saving the model…" if event.done == 0 else "saving the best epoch's model…")

    def __call__(self, event: Any) -> None:
        from workbench.core.training import (
            BatchProgress,
            BatchSizeReduced,
            EpochEnded,
            FinishingProgress,
            TrainingStarted,
        )

        if isinstance(event, TrainingStarted):
            resumed = f", resuming after epoch {event.initial_epoch}" if event.initial_epoch else ""
            if event.minutes:
                self.budget = event.minutes  # a queued run's too: its epochs are then a cap, not a plan
            self._print(
                f"training {sanitize(event.arch)} ({event.params:,} parameters) on {sanitize(event.dataset)} for "
                f"{length_text(event.epochs, event.minutes)}: "
                f"{event.train_images} train / {event.val_images} validation images, {event.device}{resumed}"
            )
            self._print(f"run directory: {sanitize(event.run_dir, MAX_MESSAGE_CHARS)}")
            self.top5_note = event.top5_note
            shape = "×".join(str(d) for d in event.image_shape)
            self._print(f"images {shape}, {event.augmentation}"
                        + (f"; {event.top5_note}, so it is not reported" if event.top5_note else ""))
        elif isinstance(event, BatchProgress) and self.tty:
            self._bar_to(("epoch", event.epoch), f"epoch {event.epoch + 1}", event.steps, "batches").update(event.batch)
        elif isinstance(event, FinishingProgress):
            self._phase_progress(event)
        elif isinstance(event, EpochEnded):
            self.epochs.append({
                "epoch": event.epoch + 1, "loss": finite(event.loss), "top1": finite(event.top1),
                "top5": None if self.top5_note else finite(event.top5), "val_loss": finite(event.val_loss),
                "val_top1": finite(event.val_top1), "val_top5": None if self.top5_note else finite(event.val_top5),
                "lr": finite(event.learning_rate), "seconds": event.seconds,
                "images_per_sec": event.images_per_sec,
            })
            line = epoch_line(event, top5=self.top5_note is None)
            if self.budget is not None:  # "epoch 3/1000" would show the cap, not a plan
                line = line.replace(f"/{event.epochs}", f" ({budget_text(self.budget)})", 1)
            self._print(line)
        elif isinstance(event, BatchSizeReduced):  # out of memory: the run goes on with half the batch
            self._print(sanitize(event.message))
            self.batch_size_reductions.append({"from_epoch": event.from_epoch + 1, "batch_size": event.batch_size,
                                               "learning_rate": event.learning_rate})
