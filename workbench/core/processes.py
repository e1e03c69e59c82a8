"""Worker and training processes that end with their parent, and stop signals taken the way Ctrl+C is.

Every way a parent (a sweep, the window, the queue) ends must end its training processes: SIGTERM and SIGHUP raise ``StopSignal`` (a
KeyboardInterrupt, so the Ctrl+C path stops the trials and records them), and on Linux each worker and the
manager ask the kernel to kill them when the parent dies (``PR_SET_PDEATHSIG``) — kill -9 included.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class StopSignal(KeyboardInterrupt):
    """SIGTERM or SIGHUP reached the sweep: handled like Ctrl+C; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to kill this process when its parent ends (Linux; elsewhere nothing happens).

    Called first thing in a child. A parent that died before the request leaves us re-parented: exit now.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os._exit(1)


def ignore_terminal_signals() -> None:
    """In a worker: Ctrl+C and a closed terminal reach the whole process group, but the parent decides."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)


@contextmanager
def stop_signals_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM and SIGHUP raise StopSignal in the main thread; a second one ends the process
    the usual way. Signals already ignored (``nohup``) stay ignored; off the main thread nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, object] = {}

    def handler(signum: int, frame: object) -> None:
        _restore(previous)  # a second signal ends the process the usual way (the workers die with it)
        raise StopSignal(signum)

    for number in STOP_SIGNALS:
        if signal.getsignal(number) is not signal.SIG_IGN:
            previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        _restore(previous)


def _restore(previous: dict[int, object]) -> None:
    for number, old in previous.items():
        signal.signal(number, signal.SIG_DFL if old is None else old)  # None: set outside Python, i.e. the default
