"""The default backend: trials in local worker processes, one per GPU (or one on the CPU).

``concurrent.futures.ProcessPoolExecutor`` with spawn (TensorFlow does not survive fork); each worker
pins itself to one GPU before TensorFlow loads. ASHA's rung records live in a manager dict shared by
the workers, so the early-stopping rule sees every trial wherever it runs. Workers and the manager die
with this process (``processes.die_with_parent``); the parent stops them by a flag on Ctrl+C, SIGTERM or SIGHUP.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
import shutil
import subprocess
import time
from multiprocessing.managers import SyncManager
from typing import Any, Callable

from workbench.core.sweeps.asha import AshaRungs
from workbench.core.processes import die_with_parent, ignore_terminal_signals

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


def _child_of(parent_pid: int) -> None:
    """The manager's start: it dies with the sweep and leaves terminal signals to it."""
    die_with_parent(parent_pid)
    ignore_terminal_signals()


def _pin_worker(devices: Any, parent_pid: int) -> None:
    _child_of(parent_pid)  # Ctrl+C and a closed terminal reach the parent, which stops trials by flag
    device = devices.get()
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device  # before TensorFlow loads in this worker
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _trial_in_worker(config: dict[str, Any], trial: str, asha: dict[str, int] | None,
                     store: Any, lock: Any, cancel: Any) -> dict[str, Any]:
    from workbench.core.sweeps.trial import run_trial

    report = None
    if asha is not None:
        rungs = AshaRungs(asha["min_epochs"], asha["eta"], config["epochs"], store)

        def report(epochs_done: int, value: float) -> bool:
            with lock:  # record and rank as one step, so two trials at a rung see each other
                return rungs.report(trial, epochs_done, value)
    return run_trial(config, report, cancelled=cancel.is_set)


def run_local(trials: list[tuple[str, dict[str, Any]]], on_result: Callable[[str, dict[str, Any]], None],
              asha: dict[str, int] | None = None, deadline: float | None = None,
              workers: int | None = None) -> list[str]:
    """Run ``(trial id, config dict)`` pairs; ``on_result`` is called in this process as each ends.

    Returns the ids of trials never started (``deadline``, a ``time.monotonic()`` value, passed).
    Ctrl+C (or SIGTERM, SIGHUP as StopSignal) stops the running trials after their current batch (they keep
    their models) and starts no more.
    """
    devices = local_devices()
    count = max(1, min(workers or len(devices), len(trials)))
    context = multiprocessing.get_context("spawn")
    manager = SyncManager(ctx=context)
    manager.start(_child_of, (os.getpid(),))
    with manager:
        device_queue = manager.Queue()
        for i in range(count):
            device_queue.put(devices[i % len(devices)])
        store, lock, cancel = manager.dict(), manager.Lock(), manager.Event()
        pending = list(trials)
        running: dict[futures.Future, str] = {}
        with futures.ProcessPoolExecutor(count, mp_context=context, initializer=_pin_worker,
                                         initargs=(device_queue, os.getpid())) as pool:
            try:
                while pending or running:
                    while pending and len(running) < count and (deadline is None or time.monotonic() < deadline):
                        trial, config = pending.pop(0)
                        running[pool.submit(_trial_in_worker, config, trial, asha, store, lock, cancel)] = trial
                    if not running:
                        break
                    done, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                    for future in done:
                        trial = running.pop(future)
                        try:
                            result = future.result()
                        except Exception as exc:  # a worker that died (out of memory, killed)
                            result = {"status": "failed", "message": f"The worker process ended: {exc}"}
                        on_result(trial, result)
            except KeyboardInterrupt:
                cancel.set()
                pending.clear()
                for future, trial in running.items():
                    try:
                        on_result(trial, future.result())
                    except Exception as exc:
                        on_result(trial, {"status": "failed", "message": f"The worker process ended: {exc}"})
                raise
        return [t for t, _ in pending]
