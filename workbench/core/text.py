"""Text that came from a file (class names, metadata, error strings) made safe to print or show."""

from __future__ import annotations

import codecs
import os
import re

# Longest piece of file-supplied text we echo; longer names are cut with an ellipsis (a crafted
# 1 MB "class name" must not flood a terminal or a table cell).
MAX_SHOWN_CHARS = 200

# ANSI/VT escape sequences (CSI, OSC, and two-character ESC forms), then any other control character.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_SURROGATES = re.compile("[\ud800-\udfff]")
# Tabs and the line breaks _CONTROLS keeps become spaces: a sanitised text stays one line (a run's
# setting named "\u2028" once split a Markdown export's row in two).
_LINE_BREAKS = re.compile(r"[\n\t\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def printable(value: object) -> str:
    """``value`` as text any terminal takes: bytes that are not UTF-8 (a file name's 0xFF, carried by Python
    as a lone surrogate) shown as the four characters ``\\xff`` instead of written raw."""
    text = os.fsdecode(value) if isinstance(value, bytes) else str(value)
    return _SURROGATES.sub(_escaped, text)


def _printable_errors(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return printable(error.object[error.start:error.end]), error.end


# errors=PRINTABLE_ERRORS on a text stream: what print() cannot encode comes out as printable() shows it.
PRINTABLE_ERRORS = "workbench-printable"
codecs.register_error(PRINTABLE_ERRORS, _printable_errors)


def sanitize(value: object, max_chars: int = MAX_SHOWN_CHARS) -> str:
    """``value`` as one printable line: escape sequences and control characters removed, bytes that are not
    UTF-8 shown escaped (``printable``), length capped."""
    text = _ESCAPES.sub("", printable(value))
    text = _CONTROLS.sub("", _LINE_BREAKS.sub(" ", text))
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text


def count_of(n: int, noun: str) -> str:
    """``n`` with its noun in the right number: "1 epoch", "2 epochs", "1,000 images"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
