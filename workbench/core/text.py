"""Text that came from a file (class names, metadata, error strings) made safe to print or show."""

from __future__ import annotations

import re

# Longest piece of file-supplied text we echo; longer names are cut with an ellipsis (a crafted
# 1 MB "class name" must not flood a terminal or a table cell).
MAX_SHOWN_CHARS = 200

# ANSI/VT escape sequences (CSI, OSC, and two-character ESC forms), then any other control character.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def sanitize(value: object, max_chars: int = MAX_SHOWN_CHARS) -> str:
    """``value`` as one printable line: escape sequences and control characters removed, length capped."""
    text = _ESCAPES.sub("", str(value))
    text = _CONTROLS.sub("", text.replace("\n", " ").replace("\t", " "))
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text
