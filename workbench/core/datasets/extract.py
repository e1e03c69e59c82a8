"""Unpacking an official archive safely and atomically: into a temp folder beside the target, then one rename.

Only folders and regular files are unpacked, each name checked (tarfile's "data" filter where the
Python has it, the same checks here where it does not: Python before 3.11.4), with the member
count and sizes capped before anything is written and the bytes actually written counted too.
A bad archive or a crash therefore never leaves a half-filled ``cifar-10-batches-py/`` behind.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from workbench.core.files import check_regular_file
from workbench.core.text import sanitize

from .cifar_files import required_files
from .errors import DatasetError

# The official archives hold 8 (CIFAR-10) and 5 (CIFAR-100) entries; far more means it is not one.
MAX_MEMBERS = 64
# The largest official file is CIFAR-100's "train" at 155 MB; a bigger member is not a CIFAR file.
MAX_MEMBER_BYTES = 200 * 1000 * 1000
# CIFAR-10 unpacks to 178 MB and CIFAR-100 to 161 MB; an archive that would write more is refused.
MAX_TOTAL_BYTES = 400 * 1000 * 1000
_COPY_CHUNK = 1 << 20


class Refused(Exception):
    """One reason the archive is not unpacked (a clause, completed by extract_archive)."""


class WriteFailed(Exception):
    """Writing the unpacked files failed (disk full, read-only folder): not the archive's fault."""


def missing_files(folder: Path, folder_name: str) -> list[str]:
    """Names of the official files absent from ``folder`` (empty when it is complete).

    A pipe or device under an official name counts as present, so that reading it is refused by name.
    """
    return [n for n in required_files(folder_name) if not (Path(folder) / n).exists()]


def has_data_filter() -> bool:
    """Whether this Python has tarfile's extraction filters (3.11.4+, 3.12+)."""
    return hasattr(tarfile, "data_filter")


def fallback_data_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """The name check of tarfile.data_filter for Pythons without it: nothing may land outside ``dest``.

    (Links, devices and pipes, which the data filter also vets, are refused outright by the caller.)
    """
    dest = os.path.realpath(dest)
    name = member.name
    target = os.path.realpath(os.path.join(dest, name))
    if os.path.commonpath([dest, target]) != dest:
        raise Refused(f"it holds {name!r}, which points outside the folder it unpacks to")
    return member


def checked_member(member: tarfile.TarInfo, dest: str, max_bytes: int | None = None,
                   largest: str = "any CIFAR file") -> tarfile.TarInfo:
    """``member`` as tarfile's data filter passes it; refused (``Refused``) when it is absolute, leaves
    ``dest``, is a link, device or pipe, or declares more than ``max_bytes`` (default MAX_MEMBER_BYTES;
    ``largest`` names that cap)."""
    max_bytes = MAX_MEMBER_BYTES if max_bytes is None else max_bytes
    # The data filter would strip a leading "/"; an official archive has none, so refuse it on both paths.
    if member.name.startswith(("/", "\\")) or PurePosixPath(member.name).is_absolute():
        raise Refused(f"it holds {member.name!r}, an absolute path")
    if has_data_filter():
        try:
            member = tarfile.data_filter(member, dest)
        except tarfile.FilterError as exc:
            raise Refused(f"it holds {member.name!r}, which is unsafe to unpack ({sanitize(exc)})") from None
    else:
        member = fallback_data_filter(member, dest)
    # Stricter than both filters: an official archive holds no links, devices or pipes at all.
    if not (member.isreg() or member.isdir()):
        raise Refused(f"it holds {member.name!r}, which is a link, device or pipe rather than a file")
    if member.size > max_bytes:
        raise Refused(f"its member {member.name!r} would unpack to {member.size / 1e6:,.0f} MB, "
                       f"more than {largest} ({max_bytes / 1e6:,.0f} MB)")
    return member


def _members(tar: tarfile.TarFile, dest: str) -> list[tarfile.TarInfo]:
    """Every member, checked, with count and declared total capped before anything is written."""
    members, total = [], 0
    while (member := tar.next()) is not None:
        if len(members) >= MAX_MEMBERS:
            raise Refused(f"it holds more than {MAX_MEMBERS} entries")
        member = checked_member(member, dest)
        total += member.size
        if total > MAX_TOTAL_BYTES:
            raise Refused(f"it would unpack to more than {MAX_TOTAL_BYTES / 1e6:,.0f} MB")
        members.append(member)
    return members


def copy_capped(source, target: Path, declared: int, budget: int) -> int:
    """Stream ``source`` into the new file ``target``; refuse more than ``declared`` or ``budget`` bytes.

    Returns the bytes written. Guards against a header that lies about the size.
    """
    written = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            written += len(chunk)
            if written > declared or written > budget:
                raise Refused(f"its member {target.name!r} holds more bytes than its header declares")
            out.write(chunk)
    return written


def _unpack(tar: tarfile.TarFile, members: list[tarfile.TarInfo], dest: Path) -> None:
    budget = MAX_TOTAL_BYTES
    for member in members:
        path = dest / member.name
        try:
            if member.isdir():
                path.mkdir(mode=0o755, parents=True, exist_ok=True)
                continue
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if path.exists():
                raise Refused(f"it holds {member.name!r} twice")
            budget -= copy_capped(tar.extractfile(member), path, member.size, budget)
        except OSError as exc:
            raise WriteFailed(exc.strerror or str(exc)) from exc


def extract_archive(archive: Path, folder_name: str, dest_root: Path) -> Path:
    """Unpack ``archive`` so that ``dest_root/folder_name`` appears whole or not at all; returns it.

    Raises DatasetError naming the archive when it is not a readable tar.gz, is unsafe or too
    large to be an official archive, or lacks the files; nothing is left behind then.
    """
    archive, dest_root = Path(archive), Path(dest_root)
    try:
        check_regular_file(archive, "CIFAR archive")
    except OSError as exc:
        raise DatasetError(f"{exc.strerror}.") from None
    target = dest_root / folder_name
    try:
        dest_root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder_name}.extract-", dir=dest_root))
    except OSError as exc:
        raise DatasetError(f"Cannot unpack {archive} into {dest_root}: {exc.strerror or exc}.") from None
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                _unpack(tar, _members(tar, str(tmp)), tmp)
        except Refused as exc:
            raise DatasetError(f"{archive} is not an official CIFAR archive: {sanitize(exc, 400)}; nothing was "
                               "unpacked (replace it with the official archive).") from None
        except WriteFailed as exc:
            raise DatasetError(f"Unpacking {archive} into {dest_root} failed ({exc}); nothing was left "
                               "behind (free some space or choose another folder).") from None
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
