"""`datasets` (list, add, remove) and `download`: what is on disk, the user's own image collections,
and fetching an official archive or files."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from workbench.cli.common import CliError, emit_json
from workbench.cli.progress import Progress
from workbench.core.text import sanitize


def cmd_datasets(args: argparse.Namespace) -> int:
    from workbench.core.datasets import dataset_summaries, read_registry

    if getattr(args, "action", None) == "add":
        return _cmd_add(args)
    if getattr(args, "action", None) == "remove":
        return _cmd_remove(args)
    if getattr(args, "action", None) == "prune":
        return _cmd_prune(args)
    rows = dataset_summaries(args.data_dir)
    registry = read_registry()  # an unusable file is logged once, in one sentence, and lists none
    user_rows = [{
        "id": d.name, "title": d.name, "classes": len(d.class_names), "image_shape": list(d.image_shape),
        "train_size": d.train_size, "test_size": d.test_size, "user": True, "source": d.source,
        "available": Path(d.folder).is_dir() or Path(d.source).exists(),
    } for d in registry.datasets.values()]
    if args.json:
        emit_json([{**row, "user": False} for row in rows] + user_rows)
        return 0
    print(f"{'id':<16} {'image':>8} {'classes':>7} {'train':>7} {'test':>7}  available")
    for row in rows:
        where = row.get("location") or "-"
        mark = f"yes ({where})" if row["available"] else "no"
        image = "x".join(str(d) for d in row["image_shape"])
        print(f"{row['id']:<16} {image:>8} {row['classes']:>7} {row['train_size']:>7} {row['test_size']:>7}  {mark}")
    if not user_rows:
        print("Your datasets: none yet (add a folder of class folders with `datasets add NAME PATH`).")
        _print_cache_space()
        return 0
    print(f"{'your datasets':<24} {'image':>9} {'classes':>7} {'train':>7} {'test':>7}  from")
    for row in user_rows:
        image = "x".join(str(d) for d in row["image_shape"])
        gone = "" if row["available"] else "  (missing)"
        print(f"{sanitize(row['id']):<24} {image:>9} {row['classes']:>7} {row['train_size']:>7} "
              f"{row['test_size']:>7}  {sanitize(row['source'], 200)}{gone}")
    _print_cache_space()
    return 0


def _print_cache_space() -> None:
    from workbench.core.datasets.cache_space import cache_usage
    from workbench.paths import user_cache_dir

    print(f"Caches: {_mb(cache_usage())} in {sanitize(user_cache_dir(), 300)} "
          "(`datasets prune` removes those nothing uses any more).")


def _mb(n: int) -> str:
    """Bytes in the unit that shows them best: 36 KB, 945.3 MB, 8.0 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}" if unit != "KB" else f"{n / scale:,.0f} KB"
    return f"{n:,} bytes"


def _cmd_prune(args: argparse.Namespace) -> int:
    from workbench.core.datasets.cache_space import prune_caches

    dirs = (Path(args.data_dir).expanduser(),) if args.data_dir else ()
    pruned = prune_caches(dirs, dry_run=args.dry_run)
    freed = sum(p.bytes for p in pruned)
    if args.json:
        emit_json({"dry_run": args.dry_run, "freed_bytes": freed,
                   "caches": [{"path": str(p.path), "bytes": p.bytes, "why": p.why} for p in pruned]})
        return 0
    if not pruned:
        print("No cache to prune: every cache is in use.")
        return 0
    for p in pruned:
        print(f"{_mb(p.bytes):>12}  {sanitize(p.path, 300)}  ({p.why})")
    verb = "would free" if args.dry_run else "freed"
    print(f"{len(pruned)} cache{'s' * (len(pruned) != 1)}, {verb} {freed:,} bytes ({_mb(freed)})"
          + (" — run without --dry-run to remove them." if args.dry_run else "."))
    return 0


def _size(text: str | None) -> int | tuple[int, int] | None:
    """--size N or HxW."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d{1,5})\s*(?:[xX×]\s*(\d{1,5})\s*)?", text)
    if not match:
        raise CliError(f"--size must be N (square) or HxW such as 48x64, not {sanitize(text, 40)!r}.")
    from workbench.core.datasets.folder_import import MAX_SIDE

    sides = [int(g) for g in match.groups() if g is not None]
    if not all(1 <= side <= MAX_SIDE for side in sides):
        raise CliError(f"--size must be 1 to {MAX_SIDE} pixels a side, not {sanitize(text, 40)!r}.")
    return sides[0] if len(sides) == 1 else (sides[0], sides[1])


def _cmd_add(args: argparse.Namespace) -> int:
    from workbench.core.datasets import DatasetError, add_user_dataset, find_user_dataset
    from workbench.core.datasets.import_summary import import_summary
    from workbench.core.datasets.user_datasets import check_name

    try:
        name = check_name(args.name)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    if find_user_dataset(name) is not None:
        raise CliError(f"There is already a dataset called {sanitize(name)!r}; choose another NAME or remove it "
                       f"first with `datasets remove {sanitize(name)}`.")
    if not Path(args.path).expanduser().exists():
        raise CliError(f"{sanitize(args.path, 300)} does not exist; PATH must be a folder of class folders or a "
                       ".zip/.tar/.tar.gz archive of one.")
    size = _size(args.size)
    bar = Progress("importing", None, unit="files")  # started now, so its rate counts the folder scan too

    def progress(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done)

    with bar:  # ends the progress line, so an error starts on its own line
        result = add_user_dataset(name, args.path, size=size, color=args.color, fit=args.fit, progress=progress)
    if args.json:
        emit_json(import_summary(result))
        return 0
    for line in import_report(result, show_skipped=args.show_skipped):
        print(line)
    return 0


# Lines of skipped files and leaks printed before "… and N more" (the full list with --show-skipped / --json).
SHOWN_LEAKS = 20


def import_report(result, *, show_skipped: bool = False) -> list[str]:
    """What a user should know about an import, one fact per line, file names sanitized."""
    d = result.dataset
    n_train, n_test = len(d.y_train), len(d.y_test)
    chosen = [f"{k} chosen from the images" for k in result.defaults]
    lines = [
        f"{sanitize(d.info.id)}: {n_train + n_test:,} images in {d.num_classes} classes "
        f"from {sanitize(result.root, 300)}",
        f"  split: {n_train:,} train, {n_test:,} test — {result.split.describe()}",
        f"  images: {result.settings.describe()}" + (f" ({', '.join(chosen)})" if chosen else " (as asked)"),
        "  per class (train / test):",
    ]
    width = min(30, max(len(sanitize(c, 30)) for c in d.class_names))
    for name, tr, te in zip(d.class_names, result.train_counts, result.test_counts):
        lines.append(f"    {sanitize(name, 30):<{width}} {tr:>7,} / {te:,}")
    if result.empty_classes:
        lines.append("  class folders without a usable image (not classes): "
                     + ", ".join(sanitize(c, 60) for c in result.empty_classes))
    if result.skipped:
        hint = "" if show_skipped else " (list them with --show-skipped)"
        lines.append(f"  skipped: {len(result.skipped):,} files{hint}")
        if show_skipped:
            lines += [f"    {sanitize(s.path, 300)}: {sanitize(s.reason, 200)}" for s in result.skipped]
    else:
        lines.append("  skipped: none")
    if result.leaks:
        lines.append(f"  leakage: {len(result.leaks):,} test images are also in train ({result.leaks[0].match}):")
        lines += [f"    test {sanitize(leak.test_path, 200)} = train {sanitize(leak.train_path, 200)}"
                  for leak in result.leaks[:SHOWN_LEAKS]]
        if len(result.leaks) > SHOWN_LEAKS:
            lines.append(f"    … and {len(result.leaks) - SHOWN_LEAKS:,} more (all of them with --json)")
    return lines


def _cmd_remove(args: argparse.Namespace) -> int:
    from workbench.core.datasets import DatasetError, remove_user_dataset

    try:
        entry = remove_user_dataset(args.name)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json({"removed": entry.name, "source": entry.source})
    else:
        print(f"Removed {sanitize(entry.name)} (your files in {sanitize(entry.source, 300)} were not touched).")
    return 0


def _checked_md5(args: argparse.Namespace) -> str | None:
    from workbench.core.datasets import DATASETS, MIRROR_ENV

    if args.md5 is None:
        return None
    if DATASETS[args.dataset].files:
        raise CliError(f"--md5 is for the CIFAR archives; {args.dataset}'s files are checked against their "
                       "official SHA-256, so a mirror must serve the official files.")
    if not re.fullmatch(r"[0-9a-fA-F]{32}", args.md5):
        raise CliError(f"--md5 must be 32 hexadecimal digits, not {args.md5!r}.")
    if not (args.url or os.environ.get(MIRROR_ENV, "").strip()):
        raise CliError(f"--md5 is for a mirror's archive: give the mirror with --url (or ${MIRROR_ENV}) too.")
    return args.md5.lower()


def cmd_download(args: argparse.Namespace) -> int:
    from workbench.core.datasets import DATASETS, download_dataset

    if args.dataset not in DATASETS:
        raise CliError(f"Unknown dataset {args.dataset!r}; choose one of {', '.join(DATASETS)}.")
    md5 = _checked_md5(args)
    bar = None

    def progress(done: int, total: int | None) -> None:
        nonlocal bar
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            bar = Progress(f"{args.dataset}:", total, unit="MB", scale=1e-6)
        bar.update(done)

    try:
        path = download_dataset(args.dataset, args.data_dir, progress=progress, url=args.url, md5=md5)
    finally:
        if bar is not None:
            bar.close()  # ends the progress line, so an error starts on its own line
    print(f"{args.dataset} is ready in {path}")
    return 0


def add_parsers(sub) -> None:
    from workbench.core.images.fit import FIT_MODES

    p = sub.add_parser("datasets", help="list datasets (built-in and yours), add or remove your own image collections",
                       description="Without an action: list the built-in datasets and whether they are on disk, "
                                   "then your own. `datasets add NAME PATH` imports a folder of class folders "
                                   "(or a .zip/.tar/.tar.gz of one) and remembers it as NAME, usable as "
                                   "--dataset NAME everywhere; `datasets remove NAME` forgets it.")
    p.add_argument("--data-dir", metavar="DIR",
                   help="also look in DIR (a folder holding cifar-10-batches-py/ or an archive, mnist.npz, "
                        "or fashion-mnist/ or its four .gz files); the Keras cache is always searched")
    p.add_argument("--json", action="store_true", help="print one line of JSON instead of a table")
    p.set_defaults(func=cmd_datasets, action=None)
    actions = p.add_subparsers(dest="action", metavar="{add,remove,prune}",
                               help="add NAME PATH: import and remember a collection; remove NAME: forget it; "
                                    "prune: remove unused caches")
    a = actions.add_parser("add",
                           help="import a folder of class folders (or an archive of one) and remember it by name",
                           description="Import PATH now (decode every image once, with progress, into a cache) "
                                       "and remember it as NAME. PATH holds ROOT/<class>/images, or "
                                       "train/ and test/ (or val/) folders of class folders.")
    a.add_argument("name", metavar="NAME", help="the name to use it by, e.g. with --dataset NAME (letters, digits, "
                                                "spaces and . ( ) + -; not a built-in id)")
    a.add_argument("path", metavar="PATH", help="the folder of class folders, or a .zip/.tar/.tar.gz archive of one")
    a.add_argument("--size", metavar="N|HxW", help="image size after import: N for N×N, or HxW "
                                                  "(default: the images' typical size, longer side at most 64)")
    a.add_argument("--color", choices=("rgb", "grayscale"),
                   help="colour of the imported images (default: grayscale only if every image is)")
    a.add_argument("--fit", choices=FIT_MODES, default="crop",
                   help="how images of another aspect ratio fit: centre-crop, pad with black bars, or stretch")
    a.add_argument("--show-skipped", action="store_true", help="list every skipped file with its reason")
    a.add_argument("--json", action="store_true",
                   help="print one line of JSON (with the skipped count and split sizes)")
    a.set_defaults(func=cmd_datasets)
    r = actions.add_parser("remove", help="forget one of your datasets (your files are not touched)",
                           description="Forget the user dataset NAME; its folder or archive stays as it is.")
    r.add_argument("name", metavar="NAME", help="the name given to `datasets add`")
    r.add_argument("--json", action="store_true", help="print one line of JSON")
    r.set_defaults(func=cmd_datasets)
    pr = actions.add_parser("prune", help="remove caches nothing uses any more and say how many bytes that freed",
                            description="Remove the caches whose dataset, folder or archive is gone or has "
                                        "changed, parts left by failed writes, and old workbench-cache/ folders "
                                        "beside the data (the Keras cache and --data-dir). Your own files are "
                                        "never touched.")
    pr.add_argument("--dry-run", action="store_true", help="only list what would be removed and the bytes it frees")
    pr.add_argument("--data-dir", metavar="DIR", help="also look for an old workbench-cache/ folder in DIR")
    pr.add_argument("--json", action="store_true", help="print one line of JSON")
    pr.set_defaults(func=cmd_datasets)

    p = sub.add_parser("download", help="download a dataset (official archive or files, checksum verified)")
    p.add_argument("dataset", help="dataset id: cifar10, cifar100, cifar100-coarse, mnist or fashion_mnist")
    p.add_argument("--data-dir", metavar="DIR",
                   help="download (and unpack) into DIR (default: the Keras cache, ~/.keras/datasets)")
    p.add_argument("--url", help="address of the archive (or mnist.npz) on a mirror; for fashion_mnist the "
                                 "folder serving its four .gz files (default: the official address, or "
                                 "$WORKBENCH_CIFAR_MIRROR: a folder serving the official file names)")
    p.add_argument("--md5", metavar="HEX",
                   help="MD5 checksum of the mirror's archive when it differs from the official one "
                        "(needs --url or $WORKBENCH_CIFAR_MIRROR)")
    p.set_defaults(func=cmd_download)
