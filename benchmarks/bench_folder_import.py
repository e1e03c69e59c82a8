"""Importing the 50,000-image CIFAR-10 JPEG tree: the workbench's import against one pass of
`keras.utils.image_dataset_from_directory` over the same folder, in the same run.

Each measurement runs in its own subprocess, so its time, CPU time and peak memory are its own:
  ours      import_folder(size=32, color="rgb") into an empty cache: scan, decode, split, cache
  keras     image_dataset_from_directory(image_size=(32, 32)), iterated to the last batch
  reload    import_folder again: the folder scanned, the cache memory-mapped and verified
A round is one import and one Keras pass, their order swapped every round; the ratio reported is the
median of the rounds' ratios (wall time), beside the ratio of CPU seconds, which a machine shared
with other work tilts less. Reloads run after the rounds; the best counts. Peak memory is VmHWM
minus the RSS right before the timed call (modules already imported). Files are read once
beforehand so every contender finds them in the page cache. The load average is printed at the
start, after each round and at the end: on a busy machine, compare ratios, not seconds.

The JPEG decoder is simplejpeg when it is importable (the figures assume it), else Pillow; the
line for our import says which. Run from the repository root:

    python benchmarks/bench_folder_import.py --shared ../shared/data   # unpacks the tarball to a temp folder
    python benchmarks/bench_folder_import.py --tree /tmp/c10jpeg/train    # an unpacked tree (faster to repeat)
    python benchmarks/bench_folder_import.py --tree DIR --rounds 5 --reloads 7
    PYTHONPATH=/path/with/simplejpeg python benchmarks/bench_folder_import.py ...   # kept after the repo

Without --shared or --tree it finds ../shared/data (benchmarks/shared_data.py). Takes about a
minute (Keras' import is most of it); the tree and the caches (0.2 GB) are deleted afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.shared_data import add_shared_argument, shared_data_dir  # noqa: E402

TARBALL = Path("cifar10-train-jpeg") / "cifar10-train-jpeg.tar.gz"
FINAL_BYTES = 50_000 * 32 * 32 * 3  # the uint8 array the import produces


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s() -> float:
    """User + system CPU seconds of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker(kind: str, tree: Path) -> None:
    """One measurement in this process; prints a JSON line."""
    if kind == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras

        baseline = _rss_mb()
        cpu, start = _cpu_s(), time.perf_counter()
        ds = keras.utils.image_dataset_from_directory(str(tree), image_size=(32, 32), batch_size=256,
                                                       shuffle=False, verbose=False)
        n = 0
        for _, labels in ds:
            n += int(labels.shape[0])
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "cpu_s": _cpu_s() - cpu, "images": n,
                          "peak_above_baseline_mb": _peak_mb() - baseline}))
        return
    from workbench.core.datasets.folder_import import decode_workers, import_folder

    baseline = _rss_mb()
    cpu, start = _cpu_s(), time.perf_counter()
    result = import_folder(tree, size=32, color="rgb")
    seconds = time.perf_counter() - start
    cpu = _cpu_s() - cpu
    d = result.dataset
    from workbench.core.datasets.folder_scan import scan_folder
    from workbench.core.images import jpeg_fast

    start = time.perf_counter()
    scan_folder(tree)  # the part of a reload that checks the folder is unchanged (one stat per file)
    scan_s = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "scan_s": scan_s, "images": len(d.x_train) + len(d.x_test),
                      "from_cache": result.from_cache,
                      "peak_above_baseline_mb": _peak_mb() - baseline, "workers": decode_workers(),
                      "decoder": "simplejpeg" if jpeg_fast.simplejpeg else "Pillow (simplejpeg not installed)",
                      "skipped": len(result.skipped), "leaks": len(result.leaks),
                      "train": len(d.x_train), "test": len(d.x_test)}))


def _run(kind: str, tree: Path, cache: Path) -> dict:
    # The repository first; a PYTHONPATH already set (e.g. a folder holding simplejpeg) is kept after it.
    env = dict(os.environ, WORKBENCH_CACHE=str(cache),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, __file__, "--worker", kind, "--tree", str(tree)], env=env,
                         capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _warm(tree: Path) -> int:
    total = 0
    for folder, _, names in os.walk(tree):
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                total += len(f.read())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    add_shared_argument(parser)
    parser.add_argument("--tree", help="an unpacked image tree to import (default: unpack the shared tarball)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="import + Keras pairs, order swapped each round; the median ratio is reported")
    parser.add_argument("--reloads", type=int, default=5, help="cached loads timed after the rounds; the best counts")
    parser.add_argument("--worker", choices=("ours", "keras"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.tree))
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench-folder-import-"))
    try:
        measure(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the unpacked tree and the caches: 0.2 GB


def measure(args, scratch: Path) -> None:
    if args.tree:
        tree = Path(args.tree)
    else:
        shared = shared_data_dir(args.shared)
        tarball = shared / TARBALL if shared else None
        if tarball is None or not tarball.is_file():
            print(f"skipped: no {TARBALL} in the shared data folder ({shared}); pass --shared DIR or --tree DIR")
            return
        with tarfile.open(tarball) as tar:
            tar.extractall(scratch / "tree", filter="data")
        tree = scratch / "tree" / "train"
    print(f"tree {tree}: {_warm(tree) / 1e6:.1f} MB read into the page cache; {os.cpu_count()} CPUs; "
          f"load average {_load()}")
    has_keras = importlib.util.find_spec("keras") is not None
    if not has_keras:
        print("keras is not installed: the comparison is skipped")
    rounds = []
    for i in range(args.rounds):
        # Each round imports into a fresh cache next to one Keras pass, the order swapped every round,
        # so a machine that gets busier or quieter during the run tilts no ratio one way.
        cache = scratch / f"cache-{i}"
        kinds = ("ours", "keras") if i % 2 == 0 else ("keras", "ours")
        got = {kind: _run(kind, tree, cache if kind == "ours" else scratch / "cache-unused")
               for kind in kinds if kind == "ours" or has_keras}
        assert not got["ours"]["from_cache"]
        rounds.append(got)
        ours = got["ours"]
        keras_s = got["keras"]["seconds"] if has_keras else float("nan")
        keras_cpu = got["keras"]["cpu_s"] if has_keras else float("nan")
        print(f"round {i + 1}: ours {ours['seconds']:.2f} s ({ours['cpu_s']:.2f} CPU-s), keras {keras_s:.2f} s "
              f"({keras_cpu:.2f} CPU-s): {keras_s / ours['seconds']:.2f}× faster; "
              f"peak +{ours['peak_above_baseline_mb']:.0f} MB; load average {_load()}")
    reloads = [_run("ours", tree, scratch / "cache-0") for _ in range(args.reloads)]
    assert all(r["from_cache"] for r in reloads)
    ours = rounds[-1]["ours"]
    ratios = [r["keras"]["seconds"] / r["ours"]["seconds"] for r in rounds] if has_keras else [float("nan")]
    memory_ratio = max(r["ours"]["peak_above_baseline_mb"] for r in rounds) * 2**20 / FINAL_BYTES
    print(f"ours   import  {statistics.median(r['ours']['seconds'] for r in rounds):6.2f} s median  "
          f"{ours['images']} images ({ours['train']} train, {ours['test']} test, {ours['skipped']} skipped, "
          f"{ours['leaks']} leaks), {ours['workers']} decoding thread{'s' if ours['workers'] != 1 else ''}, "
          f"{ours['decoder']}; "
          f"peak at most {memory_ratio:.2f}× the final array (target ≤ 1.5)")
    if has_keras:
        print(f"keras  pass    {statistics.median(r['keras']['seconds'] for r in rounds):6.2f} s median, "
              f"peak +{max(r['keras']['peak_above_baseline_mb'] for r in rounds):.0f} MB")
    print(f"ratio          {statistics.median(ratios):6.2f}× faster, median of "
          f"{', '.join(f'{r:.2f}' for r in ratios)} (target ≥ 2)")
    if has_keras:
        cpu_ratios = [r["keras"]["cpu_s"] / r["ours"]["cpu_s"] for r in rounds]
        print(f"CPU ratio      {statistics.median(cpu_ratios):6.2f}× less CPU time, median of "
              f"{', '.join(f'{r:.2f}' for r in cpu_ratios)} (what a busy machine's share of the cores cannot tilt)")
    best = min(reloads, key=lambda r: r["seconds"])
    times = ", ".join(f"{r['seconds']:.3f}" for r in reloads)
    print(f"reload         {best['seconds']:6.3f} s  best of {len(reloads)}: {times} (target ≤ 0.2 s); of which the "
          f"folder scan (a stat of every file, to see whether it changed) alone takes {best['scan_s']:.3f} s")
    print(f"load average at the end {_load()}")
    print(json.dumps({"ours_s": [r["ours"]["seconds"] for r in rounds],
                      "keras_s": [r["keras"]["seconds"] for r in rounds] if has_keras else None,
                      "ratios": ratios, "ours_cpu_s": [r["ours"]["cpu_s"] for r in rounds],
                      "keras_cpu_s": [r["keras"]["cpu_s"] for r in rounds] if has_keras else None,
                      "peak_vs_final": memory_ratio,
                      "reload_s": [r["seconds"] for r in reloads]}))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
