"""The embedding map's figures (issue 16): N images through the penultimate-layer features + PCA (target
≤ 20 s for 10,000, the model already loaded), t-SNE of them (target ≤ 90 s), and the window's event-loop
lateness while the Map tab runs that t-SNE on its task thread (target p99 ≤ 16 ms).

    python benchmarks/bench_embedding.py --model MODEL.h5 --data-dir /tmp/c10full [--n 10000] [--json OUT]

Images: the CIFAR-10 test split first; when it has fewer than N images, the training batches' images
(the same size) fill up to N, and the output says how many of each. Without --model an untrained airnet
of CIFAR-10's shape is used. The load average before and after is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PROBE_MS = 5  # the event-loop probe's interval


def _percentile(values, q):
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _images(data_dir: str | None, n: int, dataset: str):
    from workbench.core.datasets import load_dataset

    ds = load_dataset(dataset, data_dir)
    test = min(n, len(ds.y_test))
    x = [ds.x_test[:test]]
    y = [np.asarray(ds.y_test[:test]).reshape(-1)]
    train = n - test
    if train > 0:
        x.append(ds.x_train[:train])
        y.append(np.asarray(ds.y_train[:train]).reshape(-1))
    x = np.ascontiguousarray(np.concatenate(x))
    return x, np.concatenate(y).astype(np.int64), tuple(ds.class_names), test, max(train, 0)


def _model(path: str | None, class_names):
    if path:
        from workbench.core.modelio import open_model

        opening = open_model(path)
        if opening.loaded is None:
            raise SystemExit(f"error: {opening.message}")
        return opening.loaded, Path(path).name
    from workbench.core.architectures import build_model
    from workbench.core.modelio.loaded_model import LoadedModel

    model = build_model("airnet", num_classes=len(class_names), input_shape=(32, 32, 3))
    return LoadedModel.from_keras(model, class_names), "untrained airnet"


def bench_tsne_in_window(data) -> dict:
    """The Map panel's own t-SNE task (PanelTasks thread) with a 5 ms QTimer probe on the GUI thread."""
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot

    from workbench.gui.panels.embedding_map import EmbeddingMapPanel
    from workbench.gui.qt_app import application

    application()
    panel = EmbeddingMapPanel()
    panel.resize(1000, 650)
    panel.show()
    panel._on_map(data)  # the features are already read (measured above): only the t-SNE is timed here

    class Probe(QObject):
        def __init__(self):
            super().__init__()
            self.last = None
            self.lateness = []

        @Slot()
        def tick(self):
            now = time.perf_counter()
            if self.last is not None:
                self.lateness.append(max(0.0, now - self.last - PROBE_MS / 1000))
            self.last = now

    probe = Probe()
    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(probe.tick)
    loop = QEventLoop()
    panel.tsne_ready.connect(lambda _p: loop.quit())
    panel.map_failed.connect(lambda _m: loop.quit())
    timer.start()
    start = time.perf_counter()
    panel.set_method("tsne")
    loop.exec()
    seconds = time.perf_counter() - start
    timer.stop()
    panel.shutdown()
    late = [v * 1000 for v in probe.lateness]
    return {"tsne_s": seconds, "ok": panel.tsne is not None, "probe_ms": PROBE_MS, "ticks": len(late),
            "p50_ms": _percentile(late, 50), "p99_ms": _percentile(late, 99), "max_ms": max(late) if late else None}


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="a saved model (default: an untrained airnet)")
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--data-dir")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--no-tsne", action="store_true")
    p.add_argument("--json", help="write the figures here too")
    args = p.parse_args()

    from workbench.core.embedding.features import extract_features
    from workbench.core.embedding.projection import pca_2d
    from workbench.gui.panels.embedding_map import MapData

    load_before = os.getloadavg()
    x, y, names, n_test, n_train = _images(args.data_dir, args.n, args.dataset)
    loaded, model_name = _model(args.model, names)
    extract_features(loaded, x[:64])  # the graph traced once, as in a window whose model is loaded
    start = time.perf_counter()
    features = extract_features(loaded, x)
    features_s = time.perf_counter() - start
    pca = pca_2d(features.vectors)
    total_s = time.perf_counter() - start
    top1 = float((features.predicted == y).mean())
    print(f"{model_name}: {len(y):,} images ({n_test:,} test + {n_train:,} from the training batches), "
          f"{features.vectors.shape[1]} features of layer {features.layer}", flush=True)
    print(f"features {features_s:.1f} s + PCA {pca.seconds:.2f} s = {total_s:.1f} s (target ≤ 20 s); "
          f"top-1 on these images {100 * top1:.1f} %", flush=True)
    figures = {"model": model_name, "n": int(len(y)), "n_test": n_test, "n_train": n_train,
               "layer": features.layer, "dims": int(features.vectors.shape[1]), "features_s": features_s,
               "pca_s": pca.seconds, "features_pca_s": total_s, "top1": top1}
    if not args.no_tsne:
        data = MapData(args.dataset, x, y, names, features, pca)
        t = bench_tsne_in_window(data)
        print(f"t-SNE in the Map tab: {t['tsne_s']:.1f} s (target ≤ 90 s); event-loop lateness while it ran "
              f"(probe every {PROBE_MS} ms, {t['ticks']} ticks): p50 {t['p50_ms']:.2f} ms, p99 {t['p99_ms']:.2f} ms "
              f"(target ≤ 16 ms), max {t['max_ms']:.1f} ms", flush=True)
        figures.update(t)
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min; 2 cores shared)")
    figures.update(load_before=load_before, load_after=load_after)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
