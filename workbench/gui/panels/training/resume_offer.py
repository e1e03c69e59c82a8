"""The Training tab's offer to resume a run that was cut short (the window closed mid-run, a crash, a power
cut): a bar with what the run had done, Resume and Dismiss. The window's last started run is remembered in
gui.ini, and so are dismissals (a run at the epoch it was dismissed at). Finding the run is core's
(core/runs/cut_short.py), on the panel's task thread."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from workbench.core.runs.cut_short import CutShortRun, find_cut_short
from workbench.gui.widgets.rich_text import html_text

LAST_RUN_KEY = "training/last_run"
DISMISSED_KEY = "training/dismissed"
MAX_DISMISSED = 50  # remembered dismissals; the oldest are forgotten (their runs are in the Runs tab)
FIND = "find-cut-short"  # task name in the panel's PanelTasks


class ResumeOfferBar(QFrame):
    """"Run X stopped at epoch 6 of 15, 0:40 trained — Resume / Dismiss"; hidden when nothing is offered."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resumeOffer")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setWordWrap(True)  # a long run name wraps (or is cut, whole in the tooltip): never wider
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the run from its last completed epoch")
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Do not offer this run again (it stays in the Runs tab)")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 3, 6, 3)
        row.addWidget(self.label, 1)
        row.addWidget(self.resume_button)
        row.addWidget(self.dismiss_button)
        self.hide()


def read_offer(runs_root: str | None, last_started: str | None, dismissed: tuple[str, ...]) -> tuple[Any, ...]:
    """Worker-thread function: the cut-short run to offer (or None), with its config and history rows."""
    from workbench.core.runs.folder import read_run_folder
    from workbench.core.runs.summary import load_run_config

    if runs_root is None:
        from workbench.paths import default_runs_root

        runs_root = str(default_runs_root())
    run = find_cut_short(runs_root, last_started, dismissed)
    if run is None:
        return (None, None, (), None)
    folder = read_run_folder(run.run_dir)
    history = tuple(dict(r) for r in folder.history) if folder else ()
    return (run, load_run_config(run.run_dir), history, folder.result if folder else None)


def _strings(value: Any) -> list[str]:
    """A list of strings read from gui.ini (one string reads as a str; anything else as nothing)."""
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


class ResumeOffer(QObject):
    """Looks for a cut-short run once the window is up, shows it in ``bar``, and remembers in ``settings``
    the runs the tab starts and the offers dismissed. ``panel`` is the TrainingPanel."""

    offered = Signal(str)  # the offered run's folder ("" when the offer is withdrawn)

    def __init__(self, panel: Any, bar: ResumeOfferBar) -> None:
        super().__init__(panel)
        self.panel, self.bar = panel, bar
        self.settings: QSettings | None = None
        self.run: CutShortRun | None = None
        self._details: tuple[Any, Any, Any] = (None, (), None)  # config, history rows, result
        bar.resume_button.clicked.connect(self.resume)
        bar.dismiss_button.clicked.connect(self.dismiss)
        panel.run_started.connect(self._on_run_started)

    def look(self, settings: QSettings, runs_root: str | None) -> None:
        """Remember runs in ``settings`` from now on, and offer a cut-short run under ``runs_root``."""
        self.settings = settings
        last = settings.value(LAST_RUN_KEY)
        self.panel.tasks.start(read_offer, runs_root, last if isinstance(last, str) else None,
                               tuple(self._dismissed()), name=FIND, on_success=self._on_found)

    def _dismissed(self) -> list[str]:
        return _strings(self.settings.value(DISMISSED_KEY)) if self.settings is not None else []

    @Slot(object)
    def _on_found(self, found: tuple[Any, ...]) -> None:
        run, config, history, result = found
        if run is None or config is None or self.panel.is_running():
            return
        self.run, self._details = run, (config, history, result)
        self.bar.label.setText(f"<b>{html_text(run.describe())}</b> — resume it, or dismiss this offer.")
        self.bar.label.setToolTip(f"{run.describe()}.\n{run.run_dir}")
        self.bar.show()
        # What it had done, on the tab: its curves, and Resume enabled as for a run stopped here.
        self.panel.show_run(run.run_dir, history, result, config, resumable=True)
        self.offered.emit(run.run_dir)

    @Slot()
    def resume(self) -> bool:
        if self.run is None or self.panel.is_running():
            return False
        config, history, _result = self._details
        return self.panel.resume_run(self.run.run_dir, config, history)

    @Slot()
    def dismiss(self) -> None:
        if self.run is not None and self.settings is not None:
            kept = [k for k in self._dismissed() if k != self.run.key][-(MAX_DISMISSED - 1):]
            self.settings.setValue(DISMISSED_KEY, kept + [self.run.key])
            self.settings.sync()
        offered = self.run
        self._withdraw()
        if offered is not None and self.panel.run_dir == offered.run_dir and not self.panel.is_running():
            self.panel.clear_run()

    def _withdraw(self) -> None:
        if self.run is not None:
            self.run = None
            self.bar.hide()
            self.offered.emit("")

    @Slot(str)
    def _on_run_started(self, run_dir: str) -> None:
        self._withdraw()  # resumed, or another run started: the offer is answered for now
        if self.settings is not None:
            self.settings.setValue(LAST_RUN_KEY, run_dir)
            self.settings.sync()
