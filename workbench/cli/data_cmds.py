"""`datasets` and `download`: what is on disk, and fetching an official archive."""

from __future__ import annotations

import argparse
import sys

from workbench.cli.common import emit_json


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


def cmd_download(args: argparse.Namespace) -> int:
    from workbench.core.datasets import download_dataset

    def progress(done: int, total: int | None) -> None:
        if total:
            print(f"\r{args.dataset}: {done / 1e6:7.1f} / {total / 1e6:.1f} MB", end="", file=sys.stderr)
        else:
            print(f"\r{args.dataset}: {done / 1e6:7.1f} MB", end="", file=sys.stderr)

    path = download_dataset(args.dataset, args.data_dir, progress=progress, url=args.url)
    print(file=sys.stderr)
    print(f"{args.dataset} is ready in {path}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("datasets", help="list datasets and whether they are on disk")
    p.add_argument("--data-dir", help="folder holding cifar-10-batches-py/ (or its archive)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("download", help="download a dataset (official archive, checksum verified)")
    p.add_argument("dataset")
    p.add_argument("--data-dir", help="where to put it (default: the Keras cache)")
    p.add_argument("--url", help="archive address (a mirror)")
    p.set_defaults(func=cmd_download)
