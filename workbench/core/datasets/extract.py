"""Unpacking an official archive atomically: into a temp folder beside the target, then one rename.

A crash or a bad archive therefore never leaves a half-filled ``cifar-10-batches-py/`` that a
later run would trust.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path

from .cifar_files import required_files
from .errors import DatasetError


def missing_files(folder: Path, folder_name: str) -> list[str]:
    """Names of the official files absent from ``folder`` (empty when it is complete)."""
    return [n for n in required_files(folder_name) if not (Path(folder) / n).is_file()]


def extract_archive(archive: Path, folder_name: str, dest_root: Path) -> Path:
    """Unpack ``archive`` so that ``dest_root/folder_name`` appears whole or not at all; returns it.

    Raises DatasetError naming the archive when it is not a readable tar.gz or lacks the files.
    """
    archive, dest_root = Path(archive), Path(dest_root)
    target = dest_root / folder_name
    dest_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder_name}.extract-", dir=dest_root))
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                # The "data" filter refuses absolute paths, links out of the folder and devices.
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise DatasetError(f"{archive} is not a readable CIFAR archive ({exc}).") from exc
        unpacked = tmp / folder_name
        missing = missing_files(unpacked, folder_name)
        if missing:
            raise DatasetError(
                f"{archive} does not contain {folder_name}/ with {', '.join(missing)}."
            )
        if target.exists():
            if not missing_files(target, folder_name):
                return target  # another process finished first
            # An incomplete folder is never trusted: move it aside and drop it.
            stale = tmp / ".stale"
            os.rename(target, stale)
        os.rename(unpacked, target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
