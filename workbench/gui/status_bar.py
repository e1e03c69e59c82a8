"""The window's status bar: what is happening now (one line, replaced by each message), the device
training runs on, and a note about settings that could not be read (kept for the session)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QLabel, QStatusBar

from workbench.gui.widgets.message_label import ElidedLabel


class WindowStatus(QObject):
    """Builds its labels on ``bar``; ``show`` replaces the message, the device label follows the probe
    and then the run's own report."""

    def __init__(self, bar: QStatusBar, device_guess: str) -> None:
        super().__init__(bar)
        self.message = ElidedLabel("Ready")  # a long message ends in '…' (whole on hover), never widens
        self.device_label = QLabel(device_guess)
        self.device_label.setObjectName("deviceLabel")
        self.device_label.setToolTip("Where training runs (a guess until TensorFlow has been asked)")
        self.device_report = None  # workbench.core.training.devices.DeviceReport once probed
        self._device_from_run = False
        # Kept for the session (status messages would soon write over it).
        self.settings_note = ElidedLabel("")
        self.settings_note.setObjectName("settingsNote")
        self.settings_note.setStyleSheet("color: #a05a00;")
        self.settings_note.setVisible(False)
        bar.addWidget(self.settings_note)
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.device_label)

    def note_settings(self, text: str) -> None:
        """Which settings of gui.ini were reset to their defaults: shown for the whole session."""
        self.settings_note.setText(text)
        self.settings_note.setVisible(bool(text))

    @Slot(str)
    def show(self, text: str) -> None:
        self.message.setText(text)

    @Slot(str)
    def device_from_run(self, device: str) -> None:
        self._device_from_run = True
        self.device_label.setText(device)
        self.device_label.setToolTip(f"This run trains on {device}.")

    @Slot(object)
    def device_probed(self, report) -> None:
        """TensorFlow's answer (off the GUI thread) to which device will train, with the reason when it
        is the CPU; a run's own report, if one came first, is kept."""
        self.device_report = report
        if not self._device_from_run:
            self.device_label.setText(report.description + ("" if report.gpu else " · no GPU"))
            self.device_label.setToolTip(report.details)
