"""Unpacking a user's .zip / .tar / .tar.gz of class folders, with the CIFAR archives' safety.

Every entry passes the same checks as an official archive (extract.checked_member: no absolute
names, nothing outside the target, no links, devices or pipes, sizes capped before and while
writing); the caps are sized for photo collections instead of CIFAR's eight files. Unpacking goes
into a temp folder in the user cache and becomes ``user_cache_dir()/archives/<name>-<digest>`` by
one rename, so a refused or cancelled archive leaves nothing behind. The user's archive is never
written to; the unpacked copy is keyed on the archive's path, size, mtime and content (SHA-256: a
copy that kept its size and mtime is still seen as changed), and a record beside it
(``<copy>.json``) says which archive it came from, so ``cache_space.prune_caches`` can tell a stale copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable

from workbench.core.files import check_regular_file
from workbench.core.text import sanitize
from workbench.paths import user_cache_dir

from .atomic import write_bytes_atomic
from .errors import DatasetError, ImportCancelled
from .extract import Refused, WriteFailed, copy_capped, checked_member, fallback_data_filter, has_data_filter

# Suffixes read as archives (lower case); anything else given as a dataset path must be a folder.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
# CIFAR-10's 60,000 JPEGs plus folders fit with room to spare; millions of entries is a bomb, not photos.
MAX_ENTRIES = 250_000
# One photo; a bigger entry is not an image a small CNN should see (and Pillow refuses ~180 MP anyway).
MAX_ENTRY_BYTES = 100 * 1000 * 1000
# Unpacking copies the collection into the cache: past this, give the folder itself instead.
MAX_UNPACKED_BYTES = 8 * 1000 * 1000 * 1000
# Folders an archive tool adds beside the tree (macOS resource forks), ignored when finding the root.
_TOOL_FOLDERS = ("__MACOSX",)

Progress = Callable[[int, int], None]


def is_archive(path: str | os.PathLike) -> bool:
    """Whether ``path``'s name ends like an archive this module unpacks."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def unpacked_folder(archive: Path) -> Path:
    """Where ``archive`` (its current size, mtime and content) is unpacked; exists once unpacking finished."""
    return user_cache_dir() / "archives" / _copy_name(archive, archive_record(archive))


def archive_record(archive: Path) -> dict:
    """What identifies ``archive`` now: resolved path, size, mtime and SHA-256 of its bytes (OSError if unreadable).

    The hash is taken once per state of the file: ctime and inode change with any write (and cannot be
    set back), so a record beside an unpacked copy with the same ones already holds the right hash.
    """
    resolved = archive.resolve()
    st = resolved.stat()
    state = {"archive": str(resolved), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
             "ctime_ns": st.st_ctime_ns, "ino": st.st_ino, "dev": st.st_dev}
    memo = tuple(state.values())
    if memo not in _hashes:
        _hashes[memo] = _recorded_hash(state) or _sha256(resolved)
    return {**state, "sha256": _hashes[memo]}


def _recorded_hash(state: dict) -> str | None:
    for path in (user_cache_dir() / "archives").glob("*.json"):
        try:
            record = json.loads(path.read_bytes()[:4096])
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and all(record.get(k) == v for k, v in state.items()):
            sha = record.get("sha256")
            if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha):
                return sha
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(2**20):
            h.update(chunk)
    return h.hexdigest()


_hashes: dict[tuple, str] = {}


def _copy_name(archive: Path, record: dict) -> str:
    key = f"{record['archive']}|{record['size']}|{record['mtime_ns']}|{record['sha256']}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", archive.name)[:40] or "archive"
    return f"{readable}-{digest}"


def unpack_archive(archive: str | os.PathLike, *, progress: Progress | None = None,
                   cancel: threading.Event | None = None) -> Path:
    """The folder holding ``archive``'s class folders, unpacking it first unless done before.

    ``progress(entries_done, entries_total_or_0)``. Raises DatasetError with one sentence naming the
    archive when it is unreadable, unsafe or too large; nothing is left behind then.
    """
    archive = Path(archive).expanduser()
    try:
        check_regular_file(archive, "archive")
        record = archive_record(archive)
        target = user_cache_dir() / "archives" / _copy_name(archive, record)
    except OSError as exc:
        raise DatasetError(f"{exc.strerror or exc}.") from None
    if target.is_dir():
        return tree_root(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.unpack-", dir=target.parent))
    except OSError as exc:
        raise DatasetError(f"Cannot unpack {archive} into {target.parent}: {exc.strerror or exc}.") from None
    shown = sanitize(archive, 300)
    try:
        try:
            if archive.name.lower().endswith(".zip"):
                _unpack_zip(archive, tmp / "tree", progress, cancel)
            else:
                _unpack_tar(archive, tmp / "tree", progress, cancel)
        except _Encrypted as exc:
            raise DatasetError(f"{shown} is password-protected ({sanitize(exc, 200)} is encrypted), which the "
                               "workbench cannot unpack; unpack it yourself and add the folder.") from None
        except Refused as exc:
            raise DatasetError(f"{shown} was not unpacked: {sanitize(exc, 400)}; nothing was written "
                               "(make the archive again from the image folders alone).") from None
        except WriteFailed as exc:
            raise DatasetError(f"Unpacking {shown} into {target.parent} failed ({exc}); nothing was left "
                               "behind (free some space or import the folder itself).") from None
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError, RuntimeError,
                NotImplementedError) as exc:  # zipfile says "unsupported compression" with the last two
            raise DatasetError(f"{shown} is not a readable .zip, .tar or .tar.gz archive "
                               f"({sanitize(exc, 200)}).") from None
        try:
            os.rename(tmp / "tree", target)
        except OSError:
            if not target.is_dir():  # else another process finished first
                raise
        try:  # ensure_ascii: an archive path that is not UTF-8 reads back as the same bytes
            write_bytes_atomic(target.with_name(target.name + ".json"), json.dumps(record).encode("ascii"))
        except OSError:
            pass  # without its record the copy still works; prune then treats it as stale
        return tree_root(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_unpacked(folder: Path) -> None:
    """Delete an unpacked copy (and its record), but only one that lives in our archives cache."""
    archives = (user_cache_dir() / "archives").resolve()
    folder = Path(folder).resolve()
    while folder.parent != archives and folder != folder.parent:
        folder = folder.parent
    if folder.parent == archives:
        shutil.rmtree(folder, ignore_errors=True)
        folder.with_name(folder.name + ".json").unlink(missing_ok=True)


def tree_root(folder: Path) -> Path:
    """The folder holding the class folders: an archive of ``photos/<class>/…`` unpacks to ``photos``."""
    entries = [p for p in folder.iterdir() if p.name not in _TOOL_FOLDERS and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and any(p.is_dir() for p in entries[0].iterdir()):
        return entries[0]
    return folder


def _stopped(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise ImportCancelled("The import was cancelled; nothing was saved.")


def _unpack_tar(archive: Path, dest: Path, progress: Progress | None, cancel: threading.Event | None) -> None:
    """One forward pass (a .tar.gz cannot seek back cheaply): check each entry, then write it."""
    dest.mkdir()
    entries, budget = 0, MAX_UNPACKED_BYTES
    with tarfile.open(archive, "r:*") as tar:
        while (member := tar.next()) is not None:
            entries += 1
            if entries > MAX_ENTRIES:
                raise Refused(f"it holds more than {MAX_ENTRIES:,} entries")
            member = checked_member(member, str(dest), MAX_ENTRY_BYTES, "any photo should")
            if member.size > budget:
                raise Refused(f"it would unpack to more than {MAX_UNPACKED_BYTES / 1e9:,.0f} GB")
            budget -= _write(dest, member.name, member.isdir(), lambda m=member: tar.extractfile(m),
                             member.size, budget)
            if entries % 256 == 0:
                _stopped(cancel)
                if progress is not None:
                    progress(entries, 0)


def _zip_entry_count(archive: Path) -> int:
    """Entries the zip's end record declares, read before zipfile loads the whole central directory."""
    with open(archive, "rb") as f:
        end = zipfile._EndRecData(f)  # the stdlib's own reader of the end record (stable since 2.x)
    if end is None:
        raise zipfile.BadZipFile("no end of central directory record")
    return int(end[zipfile._ECD_ENTRIES_TOTAL])


def _unpack_zip(archive: Path, dest: Path, progress: Progress | None, cancel: threading.Event | None) -> None:
    dest.mkdir()
    declared = _zip_entry_count(archive)
    if declared > MAX_ENTRIES:
        raise Refused(f"it holds {declared:,} entries, more than {MAX_ENTRIES:,}")
    budget = MAX_UNPACKED_BYTES
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise Refused(f"it holds more than {MAX_ENTRIES:,} entries")
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED_BYTES:
            raise Refused(f"it would unpack to more than {MAX_UNPACKED_BYTES / 1e9:,.0f} GB")
        for n, info in enumerate(infos, 1):
            _check_zip_entry(info, str(dest))
            budget -= _write(dest, info.filename, info.is_dir(), lambda i=info: zf.open(i), info.file_size, budget)
            if n % 256 == 0:
                _stopped(cancel)
                if progress is not None:
                    progress(n, len(infos))


class _Encrypted(Refused):
    """A zip entry needs a password (the message is the entry's name)."""


def _check_zip_entry(info: zipfile.ZipInfo, dest: str) -> None:
    """The tar checks, for a zip entry: relative, inside ``dest``, a plain file or folder, capped, not encrypted."""
    name = info.filename
    if info.flag_bits & 0x1:  # bit 0: encrypted; zipfile would raise RuntimeError asking for a password
        raise _Encrypted(repr(sanitize(name, 120)))
    if name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise Refused(f"it holds {name!r}, an absolute path")
    if "\\" in name or ".." in PurePosixPath(name).parts:
        raise Refused(f"it holds {name!r}, which points outside the folder it unpacks to")
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip was made where files have no Unix mode
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise Refused(f"it holds {name!r}, which is a link, device or pipe rather than a file")
    if info.file_size > MAX_ENTRY_BYTES:
        raise Refused(f"its member {name!r} would unpack to {info.file_size / 1e6:,.0f} MB, "
                      f"more than any photo should ({MAX_ENTRY_BYTES / 1e6:,.0f} MB)")
    if has_data_filter():
        try:
            tarfile.data_filter(tarfile.TarInfo(name.rstrip("/") or "."), dest)
        except tarfile.FilterError as exc:
            raise Refused(f"it holds {name!r}, which is unsafe to unpack ({sanitize(exc)})") from None
    else:
        fallback_data_filter(tarfile.TarInfo(name), dest)


def _write(dest: Path, name: str, is_dir: bool, open_source, size: int, budget: int) -> int:
    """Create the folder or stream the file (at most ``size`` and ``budget`` bytes); bytes written."""
    path = dest / name
    try:
        if is_dir:
            path.mkdir(mode=0o755, parents=True, exist_ok=True)
            return 0
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        if path.exists():
            raise Refused(f"it holds {name!r} twice")
        with open_source() as source:
            return copy_capped(source, path, size, budget)
    except OSError as exc:
        raise WriteFailed(exc.strerror or str(exc)) from exc
