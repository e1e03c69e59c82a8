"""The default backend: each trial in its own training process (``training.child``), one per GPU (or one on the CPU).

The same runner as the window and the queue: a trial's process is spawned with ``CUDA_VISIBLE_DEVICES``
pinned before TensorFlow loads, has its own process group and dies with this process (``PR_SET_PDEATHSIG``).
A thread here watches each running trial, so ASHA's rung records are a plain dict under a lock in this
process and the early-stopping rule sees every trial. Ctrl+C, SIGTERM or SIGHUP (as StopSignal) stop the
running trials by their stop message; a trial whose process dies fails with the signal named.
"""

from __future__ import annotations

import concurrent.futures as futures
import os
import queue
import shutil
import subprocess
import threading
import time
from typing import Any, Callable

from workbench.core.sweeps.asha import AshaRungs
from workbench.core.sweeps.trial import run_trial

_GPU_QUERY_TIMEOUT_S = 10  # nvidia-smi answers in well under a second; a hung driver must not hang the sweep


def local_devices() -> list[str | None]:
    """One entry per worker: GPU indices when nvidia-smi lists GPUs, else [None] (one CPU worker)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
        return ids or [None]
    if shutil.which("nvidia-smi") is None:
        return [None]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=_GPU_QUERY_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return [None]
    ids = [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]
    return ids or [None]


class _EitherSet:
    """Set when either event is: a trial's own stop (ASHA) or the whole sweep's cancel."""

    def __init__(self, *events: threading.Event) -> None:
        self._events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)


def run_local(trials: list[tuple[str, dict[str, Any]]], on_result: Callable[[str, dict[str, Any]], None],
              asha: dict[str, int] | None = None, deadline: float | None = None,
              workers: int | None = None) -> list[str]:
    """Run ``(trial id, config dict)`` pairs; ``on_result`` is called in this process as each ends.

    Returns the ids of trials never started (``deadline``, a ``time.monotonic()`` value, passed).
    Ctrl+C (or SIGTERM, SIGHUP as StopSignal) stops the running trials after their current batch (they keep
    their models) and starts no more.
    """
    from workbench.core.training.child import train_in_child

    devices = local_devices()
    count = max(1, min(workers or len(devices), len(trials)))
    free: queue.Queue[str | None] = queue.Queue()
    for i in range(count):
        free.put(devices[i % len(devices)])
    store: dict[str, Any] = {}
    lock, cancel = threading.Lock(), threading.Event()

    def one_trial(trial: str, config: dict[str, Any]) -> dict[str, Any]:
        device = free.get()
        env = {"CUDA_VISIBLE_DEVICES": device} if device is not None else {}
        report = None
        if asha is not None:
            rungs = AshaRungs(asha["min_epochs"], asha["eta"], config["epochs"], store)

            def report(epochs_done: int, value: float) -> bool:
                with lock:  # record and rank as one step, so two trials at a rung see each other
                    return rungs.report(trial, epochs_done, value)

        def train(c: Any, on_event: Callable[[Any], None], stop: threading.Event) -> Any:
            return train_in_child(c, on_event, _EitherSet(stop, cancel), env)  # type: ignore[arg-type]

        try:
            return run_trial(config, report, cancelled=cancel.is_set, train_fn=train)
        finally:
            free.put(device)

    pending = list(trials)
    running: dict[futures.Future, str] = {}
    with futures.ThreadPoolExecutor(count, thread_name_prefix="workbench-trial") as pool:
        try:
            while pending or running:
                while pending and len(running) < count and (deadline is None or time.monotonic() < deadline):
                    trial, config = pending.pop(0)
                    running[pool.submit(one_trial, trial, config)] = trial
                if not running:
                    break
                done, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    trial = running.pop(future)
                    on_result(trial, _result(future))
        except KeyboardInterrupt:
            cancel.set()
            pending.clear()
            for future, trial in running.items():
                on_result(trial, _result(future))
            raise
    return [t for t, _ in pending]


def _result(future: futures.Future) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as exc:  # the trial's watcher failed (its process could not be started)
        return {"status": "failed", "message": f"The trial could not run: {exc}"}
