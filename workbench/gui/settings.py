"""Settings remembered between launches, kept in an ini file under WORKBENCH_HOME (tests use a temp folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from workbench.paths import workbench_home


def settings_path() -> Path:
    return workbench_home() / "gui.ini"


def open_settings() -> QSettings:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def read_value(settings: QSettings, key: str, default: Any) -> Any:
    """Read ``key`` converted to the type of ``default`` (ini files store everything as text)."""
    if not settings.contains(key):
        return default
    raw = settings.value(key)
    if raw is None:
        return default
    try:
        if isinstance(default, bool):
            if isinstance(raw, str):
                return raw.strip().lower() in ("1", "true", "yes", "on")
            return bool(raw)
        if isinstance(default, int):
            return int(float(raw))
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, str):
            return str(raw)
    except (TypeError, ValueError):
        return default
    return raw
