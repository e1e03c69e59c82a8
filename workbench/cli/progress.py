"""A progress line for long CLI work: a bar with rate and ETA on a terminal, plain lines in logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO

# Plain (non-TTY) output: one line at most this often, so a log file stays readable.
PLAIN_LINE_EVERY_S = 5.0
# Terminal redraws at most this often: more is flicker and wasted time.
TTY_REDRAW_EVERY_S = 0.1
BAR_WIDTH = 24


class Progress:
    """``update(done)`` as work advances, ``close()`` at the end (always: it ends the line).

    ``total`` may be None (unknown size: no bar, no ETA). ``scale``/``unit`` turn counts into what
    is shown (e.g. bytes -> MB with ``scale=1e-6, unit="MB"``).
    """

    def __init__(self, label: str, total: float | None, *, unit: str = "", scale: float = 1.0,
                 stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.label, self.total, self.unit, self.scale = label, total, unit, scale
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._start = time.monotonic()
        self._last_draw = float("-inf")
        self._done = 0.0
        self._open_line = False

    def update(self, done: float) -> None:
        self._done = done
        now = time.monotonic()
        finished = self.total is not None and done >= self.total
        every = TTY_REDRAW_EVERY_S if self.tty else PLAIN_LINE_EVERY_S
        if now - self._last_draw < every and not finished:
            return
        self._last_draw = now
        self._draw(now)

    def _text(self, now: float) -> str:
        elapsed = max(now - self._start, 1e-9)
        rate = self._done / elapsed
        amount = f"{self._done * self.scale:,.1f}" if self.scale != 1 else f"{self._done:,.0f}"
        parts = [self.label]
        if self.total:
            frac = min(self._done / self.total, 1.0)
            total = f"{self.total * self.scale:,.1f}" if self.scale != 1 else f"{self.total:,.0f}"
            if self.tty:
                filled = int(frac * BAR_WIDTH)
                parts.append("[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]")
            parts.append(f"{amount}/{total} {self.unit}".rstrip() + f" ({100 * frac:.0f}%)")
        else:
            parts.append(f"{amount} {self.unit}".rstrip())
        if rate > 0:
            parts.append(f"{rate * self.scale:,.1f} {self.unit or 'items'}/s")
            if self.total and self._done < self.total:
                parts.append(f"ETA {_duration((self.total - self._done) / rate)}")
        return "  ".join(parts)

    def _draw(self, now: float) -> None:
        text = self._text(now)
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self._open_line = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Ends the progress line, so the next message (a result or an error) starts on its own line."""
        if self.tty and self._open_line:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
