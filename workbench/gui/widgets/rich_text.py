"""Text from files shown in Qt rich-text labels: control characters removed, HTML escaped, lines kept."""

from __future__ import annotations

import html

from workbench.core.text import sanitize

# A model description is a few dozen lines; each line is capped by sanitize() as well.
MAX_LINE_CHARS = 600


def html_text(text: object) -> str:
    """Any value as text safe inside a rich-text element (not an attribute value): each line sanitised and
    its & < > escaped (quotes stay readable), newlines as <br>. The GUI's one HTML escaper."""
    return "<br>".join(html.escape(sanitize(line, MAX_LINE_CHARS), quote=False) for line in str(text).split("\n"))
