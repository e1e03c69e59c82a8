"""`datasets` and `download`: what is on disk, and fetching an official archive."""

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
    print(f"{'id':<16} {'classes':>7} {'train':>7} {'test':>7}  available")
    for row in rows:
        where = row.get("location") or "-"
        mark = f"yes ({where})" if row["available"] else "no"
        print(f"{row['id']:<16} {row['classes']:>7} {row['train_size']:>7} {row['test_size']:>7}  {mark}")
    return 0


def _checked_md5(args: argparse.Namespace) -> str | None:
    from workbench.core.datasets import MIRROR_ENV

    if args.md5 is None:
        return None
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
                   help="also look in DIR (a folder holding cifar-10-batches-py/ or an archive); "
                        "the Keras cache is always searched")
    p.add_argument("--json", action="store_true", help="print one line of JSON instead of a table")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("download", help="download a dataset (official archive, checksum verified)")
    p.add_argument("dataset", help="dataset id: cifar10, cifar100 or cifar100-coarse")
    p.add_argument("--data-dir", metavar="DIR",
                   help="download and unpack into DIR (default: the Keras cache, ~/.keras/datasets)")
    p.add_argument("--url", help="address of the archive on a mirror (default: the official address, "
                                 "or $WORKBENCH_CIFAR_MIRROR)")
    p.add_argument("--md5", metavar="HEX",
                   help="MD5 checksum of the mirror's archive when it differs from the official one "
                        "(needs --url or $WORKBENCH_CIFAR_MIRROR)")
    p.set_defaults(func=cmd_download)
