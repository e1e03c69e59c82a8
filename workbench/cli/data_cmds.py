"""`datasets` and `download`: what is on disk, and fetching an official archive or files."""

from __future__ import annotations

import argparse
import os
import re

from workbench.cli.common import CliError, emit_json
from workbench.cli.progress import Progress


def cmd_datasets(args: argparse.Namespace) -> int:
    from workbench.core.datasets import dataset_summaries

    rows = dataset_summaries(args.data_dir)
    if args.json:
        emit_json(rows)
        return 0
    print(f"{'id':<16} {'image':>8} {'classes':>7} {'train':>7} {'test':>7}  available")
    for row in rows:
        where = row.get("location") or "-"
        mark = f"yes ({where})" if row["available"] else "no"
        image = "x".join(str(d) for d in row["image_shape"])
        print(f"{row['id']:<16} {image:>8} {row['classes']:>7} {row['train_size']:>7} {row['test_size']:>7}  {mark}")
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
    p = sub.add_parser("datasets", help="list datasets and whether they are on disk")
    p.add_argument("--data-dir", metavar="DIR",
                   help="also look in DIR (a folder holding cifar-10-batches-py/ or an archive, mnist.npz, "
                        "or fashion-mnist/ or its four .gz files); the Keras cache is always searched")
    p.add_argument("--json", action="store_true", help="print one line of JSON instead of a table")
    p.set_defaults(func=cmd_datasets)

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
