"""Training in a child process: the core ``train`` in a spawned process that streams its events back.

The one way to train in the background, for the window, the queue and the local sweeps:
``start(config)`` gives a ``TrainingProcess``; its ``events(stop)`` yields the engine's events (and
``ChildOutput`` lines) and ends with exactly one final event; ``train_in_child`` has the signature of the
core ``train``. The child has its own process group, dies with its parent (``PR_SET_PDEATHSIG``) and writes
its fd 2 — TensorFlow's C++ and absl lines included — to a file the parent reads, never to the terminal.
Stop is a message (the engine's stop flag); a child that does not answer gets SIGTERM, then SIGKILL. A child
that dies without its final event (an abort, the OOM killer, kill -9) ends in a ``TrainingFailed`` saying
how, with its last lines; the checkpoint of its last finished epoch stays, so the run can be resumed.
Memory (GPU memory included) is returned when the child exits; the parent never imports TensorFlow.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, Iterator, Mapping

from workbench.core.processes import die_with_parent, ignore_terminal_signals
from workbench.core.tf_import import DEBUG_ENV, debugging
from workbench.core.training.config import TrainConfig
from workbench.core.training.events import TrainingFailed, TrainingFinished, TrainingStarted, TrainingStopped

STOP_ANSWER_S = 5.0  # a child answers a stop message within this, or gets SIGTERM
TERM_GRACE_S = 3.0  # after SIGTERM, SIGKILL
EXIT_WAIT_S = 10.0  # after its final event a child exits at once; one that lingers is ended
TAIL_LINES = 20  # the child's last stderr lines kept to say why it died
_POLL_S = 0.1
_FINAL = (TrainingFinished, TrainingStopped, TrainingFailed)
_STOP, _ANSWER, _READY = "stop", "stopping", "ready"  # control messages, never engine events


@dataclass(frozen=True)
class TrainingProcessDied(TrainingFailed):
    """The final event of a child that died without its own; ``epochs_completed`` > 0 means it can be resumed."""

    exitcode: int | None = None  # negative: the signal that ended it


@dataclass(frozen=True)
class ChildOutput:
    """Lines the training process wrote to its stderr (TensorFlow, absl, warnings): for a log, not a terminal."""

    lines: tuple[str, ...]


def _child_main(config: TrainConfig, events: Any, control: Any, parent_pid: int, stderr_path: str,
                env: Mapping[str, str], nice: int = 0) -> None:
    """The child: stderr to the file, its own process group, the listener for Stop, then ``train``."""
    die_with_parent(parent_pid)  # tied to the thread that started it: that thread reads its events to the end
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)  # a window's event loop is served first when the cores are busy
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # Ctrl+C at the terminal reaches the parent, which decides
    ignore_terminal_signals()
    fd = os.open(stderr_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)  # fd 2, not sys.stderr: TensorFlow's start-up lines come from C++
    os.close(fd)
    os.environ.update(env)  # before TensorFlow loads (e.g. CUDA_VISIBLE_DEVICES for a sweep's worker)
    os.environ[DEBUG_ENV] = "1"  # fd 2 is this run's log already: TensorFlow's start-up lines go there, not aside
    stop = threading.Event()
    lock = threading.Lock()

    def send(message: Any) -> None:
        with lock:  # the listener's answer and the engine's events share one pipe
            events.send(message)

    def listen() -> None:
        try:
            while True:
                if control.recv() == _STOP:
                    stop.set()
                    send(_ANSWER)
        except (EOFError, OSError):  # the parent closed its end: stop as asked
            stop.set()

    threading.Thread(target=listen, name="workbench-stop-listener", daemon=True).start()
    send(_READY)
    code = 0
    try:
        from workbench.core.training import train

        train(config, on_event=send, stop=stop)  # sends its final event itself
    except BaseException as exc:  # noqa: BLE001 - the engine should not raise; say so instead of dying silently
        import traceback

        traceback.print_exc()
        send(TrainingFailed(message=f"Training crashed: {exc}", run_dir=config.run_dir,
                            details="".join(traceback.format_exception(exc))))
        code = 1
    finally:
        events.close()
    os._exit(code)  # no interpreter shutdown: TensorFlow's teardown is slow and can abort


def exit_description(exitcode: int | None) -> str:
    """How a process ended, in words: "was killed by SIGKILL" or "ended with exit code 3"."""
    if exitcode is None:
        return "is still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"was killed by {name}"
    return f"ended with exit code {exitcode}"


class TrainingProcess:
    """One training run in a child process (see the module's docstring). Read ``events()`` to its end."""

    def __init__(self, config: TrainConfig, env: Mapping[str, str] | None = None, nice: int = 0) -> None:
        self.config = config
        self.run_dir: str | None = config.run_dir
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.ended_by: str | None = None  # the signal this side sent to end a child that did not answer
        context = multiprocessing.get_context("spawn")  # TensorFlow does not survive fork
        self._events, child_events = context.Pipe(duplex=False)
        child_control, self._control = context.Pipe(duplex=False)
        fd, self._stderr_path = tempfile.mkstemp(prefix="workbench-training-", suffix=".log")
        self._stderr = os.fdopen(fd, "rb")
        self._partial = b""
        self.process = context.Process(
            target=_child_main, name="workbench-training", daemon=True,
            args=(config, child_events, child_control, os.getpid(), self._stderr_path, dict(env or {}), nice),
        )
        self.process.start()
        child_events.close()
        child_control.close()
        self._ready = False
        self._stop_sent: float | None = None
        self._answered = False
        self._term_sent: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    # ---- asking it to end ------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the engine to stop after its batch (it saves like any stopped run); escalated by ``events``."""
        if self._stop_sent is None:
            self._stop_sent = time.monotonic()
            try:
                self._control.send(_STOP)
            except (OSError, ValueError):  # the child is gone already
                pass

    def kill(self) -> None:
        """End the child now (SIGKILL); ``events`` then ends with a TrainingFailed that says so."""
        if self.process.is_alive():
            self.ended_by = self.ended_by or "SIGKILL"
            self.process.kill()

    def _escalate(self) -> None:
        if self._stop_sent is None or self._answered:
            return
        now = time.monotonic()
        waited = now - self._stop_sent
        if self._term_sent is None and waited > (STOP_ANSWER_S if self._ready else 6 * STOP_ANSWER_S):
            self.ended_by = "SIGTERM"
            self._term_sent = now
            self.process.terminate()
        elif self._term_sent is not None and now - self._term_sent > TERM_GRACE_S:
            self.kill()

    # ---- what it says ----------------------------------------------------------------------------
    def _output(self) -> ChildOutput | None:
        """New complete lines of the child's stderr, if any."""
        chunk = self._stderr.read()
        if not chunk:
            return None
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        text = tuple(line.decode("utf-8", "replace").rstrip("\r") for line in lines)
        text = tuple(line for line in text if line.strip())
        self.tail.extend(text)
        if text and debugging():  # --debug: the terminal sees them too
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("".join(f"{line}\n" for line in text))
                sys.stderr.flush()
        return ChildOutput(text) if text else None

    def _rest_of_output(self) -> ChildOutput | None:
        out = self._output()
        if self._partial.strip():
            last = self._partial.decode("utf-8", "replace")
            self._partial = b""
            self.tail.append(last)
            return ChildOutput((out.lines if out else ()) + (last,))
        return out

    def events(self, stop: threading.Event | None = None) -> Iterator[Any]:
        """The engine's events in order, ``ChildOutput`` among them, ending with exactly one final event.

        ``stop`` set (at any time) sends the stop message. Leaving the loop early ends the child.
        """
        final: Any = None
        try:
            while final is None:
                if stop is not None and stop.is_set():
                    self.stop()
                self._escalate()
                ready = wait([self._events, self.process.sentinel], timeout=_POLL_S)
                out = self._output()
                if out is not None:
                    yield out
                if self._events in ready:
                    try:
                        message = self._events.recv()
                    except (EOFError, OSError):  # its end closed: it exits; what it said is all there is
                        self.process.join(EXIT_WAIT_S)
                        break
                    if message == _READY:
                        self._ready = True
                    elif message == _ANSWER:
                        self._answered = True
                    elif isinstance(message, _FINAL):
                        final = message
                    else:
                        if isinstance(message, TrainingStarted):
                            self.run_dir = message.run_dir
                        yield message
                elif self.process.sentinel in ready:
                    while self._events.poll():  # what it sent just before it died
                        message = self._events.recv()
                        if isinstance(message, _FINAL):
                            final = message
                        elif message not in (_READY, _ANSWER):
                            yield message
                    break
            self._end(final is not None)
            out = self._rest_of_output()
            if out is not None:
                yield out
            yield final if final is not None else self.death_event()
        finally:
            self.close()

    def _end(self, said_goodbye: bool) -> None:
        """Wait for the child to exit; one that lingers (or never said its final word) is ended."""
        self.process.join(EXIT_WAIT_S if said_goodbye else 0.5)
        if self.process.is_alive():
            self.ended_by = self.ended_by or "SIGTERM"
            self.process.terminate()
            self.process.join(TERM_GRACE_S)
        if self.process.is_alive():
            self.kill()
            self.process.join()

    def death_event(self) -> TrainingProcessDied:
        """The final event of a child that died without its own: how it ended, and its last lines."""
        from workbench.core.training.checkpoint import read_checkpoint_state  # h5py only

        how = exit_description(self.process.exitcode)
        if self.ended_by == "SIGTERM" and self._stop_sent is not None:
            how = f"did not answer the stop request and {how}"
        done = 0
        if self.run_dir:
            state = read_checkpoint_state(self.run_dir)
            done = int(state["epoch"]) + 1 if state else 0
        kept = (f"; the checkpoint of its last finished epoch ({done}) is kept, so the run can be resumed"
                if done else "; no epoch had finished")
        last = "\n".join(self.tail)
        return TrainingProcessDied(
            message=f"The training process {how} before the run ended{kept}.",
            run_dir=self.run_dir, epochs_completed=done, exitcode=self.process.exitcode,
            details=f"Last lines the training process wrote:\n{last}" if last else "",
        )

    def close(self) -> None:
        """End the child if it still runs and free the pipes and the stderr file (idempotent)."""
        if self.process.is_alive():
            self.kill()
            self.process.join()
        for end in (self._events, self._control):
            end.close()
        self._stderr.close()
        try:
            os.remove(self._stderr_path)
        except OSError:
            pass


def start(config: TrainConfig, env: Mapping[str, str] | None = None, nice: int = 0) -> TrainingProcess:
    """Start ``train(config)`` in a child process; ``env`` is added to its environment before TensorFlow loads;
    ``nice`` > 0 lowers its CPU priority (for a window beside it)."""
    return TrainingProcess(config, env, nice)


def train_in_child(config: TrainConfig, on_event: Callable[[Any], None] | None = None,
                   stop: threading.Event | None = None, env: Mapping[str, str] | None = None) -> Any:
    """The core ``train`` in a child process: same events to ``on_event`` (plus ``ChildOutput``), same final event."""
    final = None
    for event in start(config, env).events(stop):
        if on_event is not None:
            on_event(event)
        final = event
    return final
