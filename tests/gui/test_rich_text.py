"""File-supplied text in rich-text labels goes through one escaper, `widgets/rich_text.html_text`."""

from __future__ import annotations

import re
from pathlib import Path

from workbench.gui.widgets.rich_text import html_text

GUI = Path(__file__).resolve().parents[2] / "workbench" / "gui"
# A module escaping HTML itself: its own helper, the stdlib escaper, or hand-written entity replaces.
OWN_ESCAPER = re.compile(r"def _html\b|\bhtml\.escape\(|from html import|\"&lt;\"|'&lt;'")
HOSTILE = "\x1b[31m<b>bold</b> & \u202eevil\u202c\x07\nsecond line"


def test_no_gui_module_escapes_html_on_its_own():
    own = [str(p.relative_to(GUI)) for p in GUI.rglob("*.py")
           if p.name != "rich_text.py" and OWN_ESCAPER.search(p.read_text(encoding="utf-8"))]
    assert not own, own


def test_html_text_escapes_strips_controls_and_keeps_lines():
    out = html_text(HOSTILE)
    assert out == "[31m&lt;b&gt;bold&lt;/b&gt; &amp; evil<br>second line".replace("[31m", "")
    assert html_text(None) == "None" and html_text(3.5) == "3.5"  # any value, as the runs table passes


def test_training_view_error_is_escaped_without_control_characters(qtbot):
    from workbench.gui.panels.training.view import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    view.show_error(HOSTILE)
    text = view.result_label.text()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; evil<br>second line" in text
    assert not re.search(r"[\x00-\x1f\u202a-\u202e]", text)
