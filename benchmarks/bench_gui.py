"""GUI benchmarks: event-loop latency while training, throughput vs headless, kill -9 to ready, window shown.

    python benchmarks/bench_gui.py [--arch toy_resnet] [--limit 4000] [--epochs 4] [--batch 256] [--rounds 10]
                                   [--probe-ms 5] [--compare-in-thread] [--kill]

Targets: latency p99 <= 16 ms and worst <= 100 ms (from the click on Start to the end: run start and epoch
ends included); GUI/headless throughput >= 0.95 (the GUI trains in a child process, headless in-process);
SIGKILL of the training process to a window ready to start again <= 5 s; window <= 1.5 s.
``--compare-in-thread`` also measures the latency with the engine on the worker thread itself (the design
before the training process), in the same invocation.
Runs offscreen with a temporary WORKBENCH_HOME and CPU only. Data: CIFAR-10 from --data-dir, else the
shared sample (cifar10-sample in --shared DIR, WORKBENCH_SHARED_DATA or ../shared/data) when present, else a generated CIFAR-10-format set
(10,000 training images). Throughput: GUI runs (training tab shown, live plots) and headless runs
alternate over --rounds rounds (order swapped every round); the figures are medians and the ratio is
the ratio of the medians. Event-loop latency is measured in separate GUI runs with a 1 ms probe timer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from shared_data import add_shared_argument, shared_data_dir  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))

STARTUP_SCRIPT = """
import sys, time, json
from workbench.gui.app import application
app = application()
from workbench.gui.main_window import MainWindow
w = MainWindow()
w.show()
shown = time.time()
tf = 'tensorflow' in sys.modules  # before the event loop runs the deferred background start
app.processEvents()
print(json.dumps({"shown": shown, "tf": tf}), flush=True)
w.shutdown()
"""


def bench_startup(repeats: int = 3) -> dict:
    times, tf_loaded = [], []
    for _ in range(repeats):
        env = dict(os.environ, WORKBENCH_HOME=tempfile.mkdtemp(prefix="workbench-bench-start-"))
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
        line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
        data = json.loads(line)
        times.append(data["shown"] - t0)
        tf_loaded.append(data["tf"])
    return {"median_s": statistics.median(times), "all_s": times, "tensorflow_loaded_at_show": any(tf_loaded)}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


def _mean_speed(epoch_events: list) -> float:
    speeds = [e.images_per_sec for e in epoch_events[1:]] or [e.images_per_sec for e in epoch_events]
    return statistics.mean(speeds) if speeds else float("nan")


def _data_dir(arg: str | None, shared: str | None) -> str:
    if arg:
        return arg
    root = shared_data_dir(shared)
    if root is not None and (root / "cifar10-sample" / "cifar-10-batches-py" / "data_batch_1").exists():
        return str(root / "cifar10-sample")
    sys.path.insert(0, str(ROOT / "tests" / "core"))
    from cifar_fixtures import write_cifar10

    root = tempfile.mkdtemp(prefix="workbench-bench-data-")
    write_cifar10(root, n_train_per_batch=2000, n_test=500, separable=True)
    return root


def _main_thread_cpu_s() -> float:
    """CPU seconds used so far by the GUI (main) thread (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/self/task/{threading.main_thread().native_id}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


class _InThreadWorker:
    """The design before the training process: the engine on the worker QThread itself (for comparison)."""

    def __new__(cls, config, stop=None):
        from PySide6.QtCore import QObject, QThread, Signal, Slot

        class InThreadWorker(QObject):
            event = Signal(object)

            def __init__(self) -> None:
                super().__init__()
                self.config, self.stop_event, self.process = config, stop or threading.Event(), None
                self.cancel_event = self.stop_event

            @Slot()
            def run(self) -> None:
                from workbench.core.training import train

                try:
                    train(self.config, on_event=self.event.emit, stop=self.stop_event)
                finally:
                    QThread.currentThread().quit()

        return InThreadWorker()


def bench_gui_run(config, probe_latency: bool = True, probe_ms: int = 1, in_thread: bool = False,
                  kill: bool = False, nice: int | None = None) -> dict:
    """Train from the real MainWindow (live plots on); with ``probe_latency`` a 1 ms timer measures how
    late the GUI thread is. It runs under a real QEventLoop, like app.exec(). The probe itself wakes the GUI thread 1000 times a second, which costs the
    training thread GIL time, so throughput is measured in a separate run without it."""
    from PySide6.QtCore import QEventLoop, QObject, QSettings, Qt, QTimer, Slot

    from workbench.core.training.events import BatchProgress, EpochEnded
    from workbench.gui.app import application
    from workbench.gui.main_window import TAB_TRAINING, MainWindow
    from workbench.gui.screenshots import _wait_until

    app = application()
    work = Path(tempfile.mkdtemp(prefix="workbench-bench-gui-"))
    settings = QSettings(str(work / "gui.ini"), QSettings.Format.IniFormat)
    settings.setValue("experiment/dataset", config.dataset)
    if config.data_dir:
        settings.setValue("experiment/data_dir", config.data_dir)
    window = MainWindow(settings=settings, runs_root=str(work / "runs"), count_params=False)
    window.ask_before_closing = False
    window.resize(1400, 900)
    window.show()
    browser = window.browser
    if not _wait_until(lambda: browser.data is not None or browser.is_showing_missing()
                       or bool(browser.last_error), 120):
        print("  (the dataset browser had not loaded after 120 s; training anyway)", flush=True)
    window.tabs.setCurrentIndex(TAB_TRAINING)  # the live plots are on screen while it trains

    class Probe(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.last = None
            self.lateness: list[float] = []
            self.active = False
            self.epochs: list = []
            self.cpu_start = self.wall_start = self.cpu_end = self.wall_end = None
            self.quit_loop = lambda: None
            self.killed_at = self.ready_at = None

        @Slot()
        def tick(self) -> None:
            now = time.perf_counter()
            if self.active and self.last is not None:
                self.lateness.append(max(0.0, now - self.last - probe_ms / 1000))
            self.last = now

        @Slot(object)
        def on_event(self, event) -> None:
            if isinstance(event, EpochEnded):
                self.epochs.append(event)
                if kill and self.killed_at is None and training.worker.process is not None:
                    from workbench.core.training.checkpoint import checkpoint_path

                    deadline = time.monotonic() + 30  # its checkpoint is written on a background thread
                    while not checkpoint_path(training.run_dir).is_file() and time.monotonic() < deadline:
                        time.sleep(0.01)
                    self.killed_at = time.perf_counter()
                    os.kill(training.worker.process.pid, 9)
            elif isinstance(event, BatchProgress) and self.cpu_start is None:
                # throughput and GUI CPU from the first batch on (before it the child imports TensorFlow)
                self.cpu_start, self.wall_start = _main_thread_cpu_s(), time.perf_counter()

        @Slot(bool)
        def on_running(self, running: bool) -> None:
            if not running:
                self.cpu_end, self.wall_end = _main_thread_cpu_s(), time.perf_counter()
                if self.killed_at is not None and training.start_button.isEnabled():
                    self.ready_at = time.perf_counter()
                self.quit_loop()

    probe = Probe()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(probe_ms)
    timer.timeout.connect(probe.tick)
    if probe_latency:
        timer.start()
    training = window.training
    # the real event loop, as under app.exec(): no polling, nothing the window itself would not do
    loop = QEventLoop()
    training.running_changed.connect(probe.on_running)
    probe.quit_loop = loop.quit
    started = time.perf_counter()
    probe.active, probe.last = True, None  # lateness from the click on Start: the run's start included
    import workbench.gui.panels.training.panel as panel_module

    import workbench.gui.worker as worker_module

    worker_class, niceness = panel_module.TrainingWorker, worker_module.TRAINING_NICE
    if in_thread:
        panel_module.TrainingWorker = _InThreadWorker
    if nice is not None:
        worker_module.TRAINING_NICE = nice
    try:
        started_ok = training.start(config)
    finally:
        panel_module.TrainingWorker, worker_module.TRAINING_NICE = worker_class, niceness
    if started_ok:
        training.worker.event.connect(probe.on_event)
        guard = QTimer()  # a run that never ends must not hang the benchmark
        guard.setSingleShot(True)
        guard.timeout.connect(loop.quit)
        guard.start(3_600_000)
        loop.exec()
        guard.stop()
    probe.active = False
    timer.stop()
    if probe.cpu_end is None:  # the guard ended the loop
        probe.cpu_end, probe.wall_end = _main_thread_cpu_s(), time.perf_counter()
    gui_cpu = probe.cpu_end - probe.cpu_start if probe.cpu_start is not None else float("nan")
    train_wall = probe.wall_end - probe.wall_start if probe.wall_start is not None else float("nan")
    total = time.perf_counter() - started
    final = training.final_event
    window.shutdown()
    window.close()
    app.processEvents()
    late_ms = [v * 1000 for v in probe.lateness]
    return {
        "final": type(final).__name__ + (f" ({final.message})" if hasattr(final, "message") else ""),
        "ticks": len(late_ms),
        "p50_ms": _percentile(late_ms, 50),
        "p99_ms": _percentile(late_ms, 99),
        "max_ms": max(late_ms) if late_ms else float("nan"),
        "images_per_sec": _mean_speed(probe.epochs),
        "wall_s": total,
        "gui_thread_cpu_pct": 100.0 * gui_cpu / max(train_wall, 1e-9),
        "kill_to_ready_s": (probe.ready_at - probe.killed_at) if probe.ready_at is not None else None,
        "stalls_over_100ms_at_s": [round(sum(probe.lateness[:i]) + i * probe_ms / 1000, 1)
                                   for i, v in enumerate(probe.lateness) if v > 0.1],
    }


def bench_headless(config) -> dict:
    from workbench.core.training import train
    from workbench.core.training.events import EpochEnded

    epochs: list = []

    def on_event(event) -> None:
        if isinstance(event, EpochEnded):
            epochs.append(event)

    result: dict = {}

    def run() -> None:  # a plain thread, like the GUI's worker, so thread-local Keras state matches
        final = train(config, on_event=on_event, stop=threading.Event())
        result["final"] = type(final).__name__ + (f" ({final.message})" if hasattr(final, "message") else "")

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return {"final": result.get("final"), "images_per_sec": _mean_speed(epochs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="toy_resnet")
    parser.add_argument("--limit", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--latency-runs", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    add_shared_argument(parser)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--probe-ms", type=int, default=5, help="the latency probe's timer interval")
    parser.add_argument("--compare-in-thread", action="store_true",
                        help="also measure latency with the engine on the worker thread (the design before)")
    parser.add_argument("--kill", action="store_true", help="also time SIGKILL of the training process to ready")
    parser.add_argument("--nice", type=int, nargs="+", default=[0],
                        help="the training process's niceness for the latency runs (several: one run each)")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} logical CPUs; python {sys.version.split()[0]}; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    if not args.skip_startup:
        s = bench_startup()
        print(f"time to window shown (process start -> show): median {s['median_s']:.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in s['all_s'])}); tensorflow loaded at show: "
              f"{s['tensorflow_loaded_at_show']}   target <= 1.5 s", flush=True)

    from workbench.core.training.config import TrainConfig

    data_dir = _data_dir(args.data_dir, args.shared)
    runs_root = tempfile.mkdtemp(prefix="workbench-bench-runs-")
    config = TrainConfig(dataset="cifar10", data_dir=data_dir, arch=args.arch, epochs=args.epochs,
                         batch_size=args.batch, limit=args.limit, test_limit=200, runs_root=runs_root)
    print(f"data: {data_dir}; {args.arch}, {args.limit} images, batch {args.batch}, {args.epochs} epochs "
          "(speed: mean of epochs 2..n)", flush=True)
    gui_speeds, head_speeds, lat = [], [], []
    for r in range(args.rounds):
        order = ("gui", "headless") if r % 2 == 0 else ("headless", "gui")
        for kind in order:
            if kind == "gui":
                t = bench_gui_run(config, probe_latency=False)
                gui_speeds.append(t["images_per_sec"])
                print(f"round {r + 1}: GUI      {t['images_per_sec']:7.0f} img/s ({t['final']}; GUI thread busy "
                      f"{t['gui_thread_cpu_pct']:.1f} % of one CPU while training)", flush=True)
            else:
                h = bench_headless(config)
                head_speeds.append(h["images_per_sec"])
                print(f"round {r + 1}: headless {h['images_per_sec']:7.0f} img/s ({h['final']})", flush=True)
    kinds = ([("in-thread (before)", None)] if args.compare_in_thread else []) + [
        (f"child process{f' (nice {n})' if n else ''}", n) for n in args.nice]
    for kind, nice in kinds:
        lat = []
        for i in range(args.latency_runs):
            g = bench_gui_run(config, probe_latency=True, probe_ms=args.probe_ms, in_thread=nice is None, nice=nice)
            lat.append(g)
            print(f"{kind} latency run {i + 1}: event-loop lateness p50 {g['p50_ms']:.2f} ms, p99 {g['p99_ms']:.2f} "
                  f"ms, max {g['max_ms']:.1f} ms over {g['ticks']} ticks of {args.probe_ms} ms, start included "
                  f"(stalls > 100 ms at {g['stalls_over_100ms_at_s']} s; {g['images_per_sec']:.0f} img/s; "
                  f"{g['final']}); load average {os.getloadavg()[0]:.2f}", flush=True)
        print(f"{kind}: event-loop lateness while training (worst run): p50 {max(x['p50_ms'] for x in lat):.2f} "
              f"ms, p99 {max(x['p99_ms'] for x in lat):.2f} ms, max {max(x['max_ms'] for x in lat):.1f} ms   "
              f"target p99 <= 16 ms, max <= 100 ms", flush=True)
    if args.kill:
        k = bench_gui_run(config.replace(epochs=max(config.epochs, 3)), probe_latency=True,
                          probe_ms=args.probe_ms, kill=True)
        print(f"SIGKILL of the training process -> window ready to start again: "
              f"{k['kill_to_ready_s']:.2f} s ({k['final'][:80]}…); event loop during it: p99 {k['p99_ms']:.2f} ms, "
              f"max {k['max_ms']:.1f} ms   target <= 5 s", flush=True)
    if gui_speeds and head_speeds:
        g_med, h_med = statistics.median(gui_speeds), statistics.median(head_speeds)
        print(f"throughput with window / headless: {g_med / h_med:.3f} (medians {g_med:.0f} vs {h_med:.0f} img/s "
              f"over {len(gui_speeds)} rounds; GUI {', '.join(f'{v:.0f}' for v in gui_speeds)}; headless "
              f"{', '.join(f'{v:.0f}' for v in head_speeds)})   target >= 0.95", flush=True)
        paired = [g / h for g, h in zip(gui_speeds, head_speeds)]
        print(f"per-round ratios (GUI and headless run back to back): {', '.join(f'{v:.3f}' for v in paired)}; "
              f"median {statistics.median(paired):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
