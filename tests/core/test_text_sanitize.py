"""`sanitize` keeps a text from a file on one printable line: every line break str.splitlines() knows."""

from __future__ import annotations

import pytest

from workbench.core.text import sanitize


@pytest.mark.parametrize("brk", ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_no_line_break_survives(brk):
    text = sanitize(f"left{brk}right")
    assert len(text.splitlines()) == 1 and text.startswith("left") and text.endswith("right")


def test_escapes_and_controls_go_and_length_is_capped():
    assert sanitize("\x1b[31mred\x1b[0m\x00") == "red"
    assert sanitize("x" * 50, max_chars=10) == "x" * 9 + "…"
