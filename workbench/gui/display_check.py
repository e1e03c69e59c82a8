"""Can a window open here? Asked before the QApplication exists, without importing Qt.

Without a display, or without the X11 libraries Qt's xcb plugin links against, creating the
QApplication aborts the process (rc 134) with Qt's own text. ``display_problem()`` says instead,
in one sentence, what is missing and what to do.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Callable, Mapping

# Platforms that need no display server: Qt renders to memory or a framebuffer (tests, screenshots, VNC).
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"})

# What Qt 6's xcb plugin (libqxcb.so, libQt6XcbQpa.so.6) needs beyond libc, read with `ldd` from
# PySide6 6.11, with the Debian/Ubuntu package that holds each one.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}

CLI_HINT = "use the command line: `workbench --help`"


def _loads(soname: str) -> bool:
    """True when the dynamic loader finds ``soname`` the way Qt's plugin would (same search path)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def requested_platforms(environ: Mapping[str, str]) -> list[str]:
    """The platform plugin names in QT_QPA_PLATFORM (``"xcb;wayland"``, ``"offscreen:fontengine=…"``)."""
    value = environ.get("QT_QPA_PLATFORM", "")
    return [part.split(":", 1)[0].strip().lower() for part in value.split(";") if part.strip()]


def display_problem(
    environ: Mapping[str, str] | None = None,
    *,
    platform: str = sys.platform,
    libraries: Mapping[str, str] | None = None,
    loads: Callable[[str], bool] = _loads,
) -> str | None:
    """One sentence saying why no window can open here, or None when Qt should manage.

    Only Linux is checked. A headless platform (offscreen, minimal, …) named first in
    QT_QPA_PLATFORM needs nothing; otherwise a DISPLAY or WAYLAND_DISPLAY is required. The xcb
    libraries are checked when xcb is what Qt will use: named first, or nothing named and only
    DISPLAY set (with WAYLAND_DISPLAY set Qt can take Wayland instead).
    """
    environ = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return None
    platforms = requested_platforms(environ)
    if platforms and platforms[0] in HEADLESS_PLATFORMS:
        return None
    display, wayland = environ.get("DISPLAY", ""), environ.get("WAYLAND_DISPLAY", "")
    uses_xcb = platforms[0] == "xcb" if platforms else not wayland
    if not display and (uses_xcb or not wayland):
        unset = "DISPLAY is not set" if wayland else "neither DISPLAY nor WAYLAND_DISPLAY is set"
        return f"The window cannot open: there is no display ({unset}); run it from a desktop session, or {CLI_HINT}."
    if not uses_xcb:
        return None
    libraries = XCB_LIBRARIES if libraries is None else libraries
    missing = [soname for soname in libraries if not loads(soname)]
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(libraries[soname] for soname in missing))
    return (
        f"The window cannot open: Qt's X11 (xcb) platform needs system libraries that are missing "
        f"({', '.join(missing)}); install them with `sudo apt install {packages}` (Debian/Ubuntu), "
        f"or {CLI_HINT}."
    )
