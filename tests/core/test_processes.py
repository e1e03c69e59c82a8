"""Stop signals taken like Ctrl+C, in this process: SIGTERM raises StopSignal inside the block, a signal the
user ignored (nohup) stays ignored, and the previous handlers come back after."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from workbench.core.processes import StopSignal, stop_signals_as_interrupt

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")


def test_sigterm_in_the_block_is_a_keyboard_interrupt_naming_the_signal():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt) as caught:
        with stop_signals_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes of the main thread
                pass
    assert isinstance(caught.value, StopSignal) and caught.value.name == "SIGTERM"
    assert caught.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_ignored_sighup_stays_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_signals_as_interrupt():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_die_with_parent_sets_the_parent_death_signal():
    import subprocess

    code = ("import ctypes, os, signal; from workbench.core.processes import die_with_parent; "
            "die_with_parent(os.getppid()); v = ctypes.c_int(); "
            "ctypes.CDLL(None).prctl(2, ctypes.byref(v), 0, 0, 0); print(v.value)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    assert out.stdout.strip() == str(int(signal.SIGKILL)), out.stderr
