"""Classify panel latency: one image, model already loaded, from ``add_images([path])`` to ``results_shown``.

    python benchmarks/bench_classify_latency.py [--arch simple_cnn] [--repeats 20] [--model other.h5]

Target: median <= 100 ms on the CPU. The model is built by our architectures (10 classes, untrained)
and saved with ``save_model``, then opened through the panel as a user would. Two kinds of images are
timed: a 32x32 PNG (CIFAR-sized) and a 1024x768 JPEG photo (decode + resize dominate). With
``--model`` a foreign model file is timed too. Runs offscreen, CPU only, with a temporary WORKBENCH_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class Waiter(QObject):
    """Runs a nested event loop until a signal arrives (or a timeout); a GUI-thread @Slot receiver."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = QEventLoop()
        self.fired = False
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.on_timeout)

    @Slot(object)
    def on_object(self, _value) -> None:
        self.fired = True
        self.loop.quit()

    @Slot(int)
    def on_int(self, _value: int) -> None:
        self.fired = True
        self.loop.quit()

    @Slot()
    def on_timeout(self) -> None:
        self.loop.quit()

    def wait(self, timeout_s: float) -> bool:
        self.fired = False
        self.timer.start(int(timeout_s * 1000))
        if not self.fired:
            self.loop.exec()
        self.timer.stop()
        return self.fired


def _images(folder: Path, repeats: int) -> dict[str, list[str]]:
    from PIL import Image

    rng = np.random.default_rng(0)
    out: dict[str, list[str]] = {"png_32x32": [], "jpeg_1024x768": []}
    for i in range(repeats + 1):
        p = folder / f"small_{i}.png"
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(p)
        out["png_32x32"].append(str(p))
        # A smooth "photo" (gradients + noise) so JPEG sizes are realistic.
        yy, xx = np.mgrid[0:768, 0:1024]
        base = np.stack([xx / 4 % 256, yy / 3 % 256, (xx + yy) / 7 % 256], axis=-1)
        photo = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        p = folder / f"photo_{i}.jpg"
        Image.fromarray(photo).save(p, quality=88)
        out["jpeg_1024x768"].append(str(p))
    return out


def time_panel(panel, waiter: Waiter, paths: list[str]) -> dict:
    app = QApplication.instance()
    times = []
    for i, path in enumerate(paths):
        panel.clear_results()
        app.processEvents()
        t0 = time.perf_counter()
        panel.add_images([path])
        if not waiter.wait(30):
            raise SystemExit("timed out waiting for results_shown")
        times.append((time.perf_counter() - t0) * 1000)
    first, rest = times[0], times[1:]
    return {
        "first_ms": round(first, 1),
        "median_ms": round(statistics.median(rest), 1),
        "p90_ms": round(sorted(rest)[int(0.9 * (len(rest) - 1))], 1),
        "max_ms": round(max(rest), 1),
        "n": len(rest),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="simple_cnn")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--model", action="append", default=[], help="also time this model file")
    args = parser.parse_args(argv)

    _app = QApplication.instance() or QApplication([])  # kept referenced while widgets exist
    from workbench.core.architectures import build_model
    from workbench.core.datasets import DATASETS
    from workbench.core.modelio import save_model
    from workbench.gui.panels.classify import ClassifyPanel

    work = Path(tempfile.mkdtemp(prefix="bench-classify-"))
    names = DATASETS["cifar10"].class_names
    t0 = time.perf_counter()
    model = build_model(args.arch, len(names))
    ours = save_model(model, work / f"{args.arch}.h5", class_names=names, dataset_id="cifar10", arch=args.arch)
    build_s = time.perf_counter() - t0
    images = _images(work, args.repeats)

    panel = ClassifyPanel()
    panel.resize(1200, 800)
    panel.show()
    waiter = Waiter()
    panel.model_loaded.connect(waiter.on_object)
    panel.results_shown.connect(waiter.on_int)

    report: dict = {"arch": args.arch, "build_and_save_s": round(build_s, 2), "models": {}}
    for model_path in [str(ours), *args.model]:
        if not os.path.exists(model_path):
            report["models"][model_path] = "missing, skipped"
            continue
        t0 = time.perf_counter()
        panel.open_model(model_path)
        if not waiter.wait(180):
            report["models"][model_path] = f"did not load: {panel.setup.last_error}"
            continue
        entry = {"open_s": round(time.perf_counter() - t0, 2)}
        for kind, paths in images.items():
            entry[kind] = time_panel(panel, waiter, paths)
        report["models"][Path(model_path).name] = entry
    panel.shutdown()
    panel.close()

    print(json.dumps(report, indent=2))
    ok = True
    for name, entry in report["models"].items():
        if isinstance(entry, dict):
            for kind in images:
                med = entry[kind]["median_ms"]
                verdict = "OK" if med <= 100 else "OVER"
                ok &= med <= 100
                print(f"{name:40s} {kind:14s} median {med:7.1f} ms  p90 {entry[kind]['p90_ms']:7.1f} ms  "
                      f"first {entry[kind]['first_ms']:7.1f} ms  [{verdict} target 100 ms]")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
