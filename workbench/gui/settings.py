"""Settings remembered between launches, kept in an ini file under WORKBENCH_HOME (tests use a temp folder).

The file is the user's to edit (or break): every value is checked for its type and range when read, and
a value that fails falls back to the default and is named in ``SettingsReader.rejected``, so the window
always opens and says which settings it ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Collection

from PySide6.QtCore import QSettings

from workbench.gui.setting_values import checked_value
from workbench.paths import workbench_home


def settings_path() -> Path:
    return workbench_home() / "gui.ini"


def open_settings() -> QSettings:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


class SettingsReader:
    """Reads checked values from a QSettings; ``rejected`` lists the keys that fell back to their default."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings
        self.rejected: list[str] = []

    def value(self, key: str, default: Any, *, lo: float | None = None, hi: float | None = None,
              choices: Collection[Any] | None = None) -> Any:
        """``key`` converted to the type of ``default`` and checked against ``lo``..``hi`` and ``choices``;
        the default (and a note in ``rejected``) when it is missing-but-broken, of the wrong type or out of range."""
        s = self.settings
        if not s.contains(key):
            return default
        try:
            return checked_value(s.value(key), default, lo=lo, hi=hi, choices=choices)
        except ValueError:
            self.reject(key)
            return default

    def reject(self, key: str) -> None:
        """Note a setting the caller found unusable by its own check."""
        prefix = self.settings.group()
        self.rejected.append(f"{prefix}/{key}" if prefix else key)


def rejected_note(rejected: Collection[str]) -> str:
    """The status-bar sentence for settings that fell back to their defaults."""
    names = ", ".join(sorted(set(rejected)))
    return f"Some saved settings in {settings_path()} were not valid and were reset to defaults: {names}."
