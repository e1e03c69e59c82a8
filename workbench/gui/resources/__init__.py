"""Files the window needs at run time, shipped as package data (so `pip install .` carries them)."""

from __future__ import annotations

import sys
from importlib import resources

STYLESHEET = resources.files(__name__) / "style.qss"


def stylesheet() -> str:
    """The window's style sheet; a missing or unreadable one is said on stderr (the window then looks plain)."""
    try:
        return STYLESHEET.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(
            f"warning: the workbench style sheet {STYLESHEET} could not be read ({type(exc).__name__}), "
            "so the window uses Qt's plain style; reinstall the workbench (`pip install .`) to restore it.",
            file=sys.stderr,
        )
        return ""
