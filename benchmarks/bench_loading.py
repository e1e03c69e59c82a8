"""Loading CIFAR-10: the workbench loader against the report's naive loader, time and peak memory.

Each measurement runs in its own subprocess so its peak RSS is its own. By default a full-size
(50,000 + 10,000 images) synthetic copy in the official format is written to a temp dir first.

    python benchmarks/bench_loading.py                      # synthetic full-size data
    python benchmarks/bench_loading.py --data-dir ../shared/data/cifar10-sample   # a real folder
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def write_synthetic(root: Path) -> Path:
    """Full-size official-format CIFAR-10 with random pixels (the tests' fixture writer)."""
    sys.path.insert(0, str(REPO))
    from tests.core.cifar_fixtures import write_cifar10

    return write_cifar10(root, n_train_per_batch=10_000, n_test=10_000).folder


def peak_rss_mb() -> float:
    """This process's own peak RSS; VmHWM because ru_maxrss inherits the parent's peak across exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive_load(folder: Path):
    """The report's loader, faithfully: grow a float64 array batch by batch, then scale to float32."""
    x_train = np.empty((0, 3072))  # float64, as np.empty defaults
    y_train = []
    for name in FILES[:5]:
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        x_train = np.concatenate([x_train, batch[b"data"]])
        y_train += batch[b"labels"]
    with open(folder / "test_batch", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    x_test = np.concatenate([np.empty((0, 3072)), batch[b"data"]])
    y_test = batch[b"labels"]
    x_train = x_train.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype("float32") / 255
    x_test = x_test.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype("float32") / 255
    return x_train, np.array(y_train), x_test, np.array(y_test)


def _touch_pages(a: np.ndarray) -> int:
    """Read one byte per 4 KiB page so memory-mapped data is really paged in."""
    return int(np.asarray(a).reshape(-1)[::4096].sum())


def worker(kind: str, folder: Path) -> None:
    """Run one measurement in this process and print {seconds, peak_rss_mb, ...} as JSON."""
    sys.path.insert(0, str(REPO))
    from workbench.core.datasets import load_dataset  # imported outside the timed region
    from workbench.core.datasets.cache import cache_dir

    if kind == "first":  # our own cache only: "first" must really parse
        shutil.rmtree(cache_dir(folder), ignore_errors=True)
    import_rss = peak_rss_mb()
    result = {"kind": kind}
    started = time.perf_counter()
    if kind == "naive":
        x_train = naive_load(folder)[0]
        result["seconds"] = time.perf_counter() - started
    else:
        ds = load_dataset("cifar10", folder, use_cache=(kind != "parse"))
        result["seconds"] = time.perf_counter() - started
        x_train = ds.x_train
        result["memmap"] = isinstance(x_train, np.memmap)
        if kind == "reload":
            _touch_pages(ds.x_train) + _touch_pages(ds.x_test)
            result["reload_and_read_all_s"] = time.perf_counter() - started
    result.update(peak_rss_mb=peak_rss_mb(),
                  import_rss_mb=import_rss, x_train_shape=list(x_train.shape))
    print(json.dumps(result))


def run(kind: str, folder: Path, env: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", kind, "--folder", str(folder)],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="folder holding cifar-10-batches-py/ (or it)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (best is kept)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.folder)
        return

    scratch = Path(tempfile.mkdtemp(prefix="bench-loading-"))
    try:
        if args.data_dir:
            folder = args.data_dir
            if (folder / "cifar-10-batches-py").is_dir():
                folder = folder / "cifar-10-batches-py"
        else:
            print("writing full-size synthetic CIFAR-10 (50,000 + 10,000 images) ...", flush=True)
            folder = write_synthetic(scratch / "data")
        # The cache goes into this scratch cache folder, never beside the data.
        env = dict(os.environ, WORKBENCH_HOME=str(scratch / "home"), KERAS_HOME=str(scratch / "keras"),
                   WORKBENCH_CACHE=str(scratch / "cache"))

        def best(kind):
            return min((run(kind, folder, env) for _ in range(args.repeat)), key=lambda r: r["seconds"])

        naive = best("naive")
        parse = best("parse")
        first = run("first", folder, env)  # parse + write the cache (once: later runs reload)
        reload = best("reload")
        print(f"data: {folder} ({naive['x_train_shape'][0]} train images)")
        print(f"{'loader':34s} {'seconds':>9s} {'peak RSS MB':>12s}")
        print(f"{'naive (report: float64 concat)':34s} {naive['seconds']:9.3f} {naive['peak_rss_mb']:12.0f}")
        print(f"{'workbench parse (no cache)':34s} {parse['seconds']:9.3f} {parse['peak_rss_mb']:12.0f}")
        print(f"{'workbench first load (+cache write)':34s} {first['seconds']:9.3f} {first['peak_rss_mb']:12.0f}")
        print(f"{'workbench reload (mmap cache)':34s} {reload['seconds']:9.3f} {reload['peak_rss_mb']:12.0f}")
        print(f"{'  ... and read every page':34s} {reload['reload_and_read_all_s']:9.3f}")
        print(f"(interpreter + numpy alone: about {parse['import_rss_mb']:.0f} MB RSS)")
        print(f"speed-up parse vs naive:   {naive['seconds'] / parse['seconds']:6.1f}x   (target >= 10x)")
        print(f"speed-up first vs naive:   {naive['seconds'] / first['seconds']:6.1f}x")
        print(f"speed-up reload vs naive:  {naive['seconds'] / reload['seconds']:6.0f}x")
        print(f"peak memory parse / naive: {parse['peak_rss_mb'] / naive['peak_rss_mb']:6.2f}    (target <= 0.20)")
        print(f"peak memory first / naive: {first['peak_rss_mb'] / naive['peak_rss_mb']:6.2f}")
        print(f"reload under 0.2 s:        {'yes' if reload['seconds'] < 0.2 else 'NO'} ({reload['seconds']:.4f} s)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
