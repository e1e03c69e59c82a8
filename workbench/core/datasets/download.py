"""Downloading an official archive or files: streamed in chunks to a .part file, resumable, checksummed.

The URL is the official one, a mirror base from $WORKBENCH_CIFAR_MIRROR (a folder serving the
official file names, for every dataset: CIFAR archives, mnist.npz, Fashion-MNIST's .gz files), or
the caller's ``url=`` (the file itself; for Fashion-MNIST's four files the folder holding them).
A broken transfer is retried and resumed with an HTTP Range request when the server allows it.
CIFAR archives are checked by MD5 (their published sums), MNIST and Fashion-MNIST files by SHA-256.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from workbench.paths import keras_datasets_dir

from .atomic import folder_writable
from .errors import DatasetError, DownloadCancelled
from .extract import extract_archive
from .registry import DatasetInfo, SourceFile
from .resolve import get_info

MIRROR_ENV = "WORKBENCH_CIFAR_MIRROR"
CHUNK_BYTES = 256 * 1024
# The official archives are 163 MB (CIFAR-10) and 161 MB (CIFAR-100); a server sending far more is
# not serving one, and an endless response must not fill the disk.
MAX_DOWNLOAD_BYTES = 300 * 1000 * 1000

Progress = Callable[[int, "int | None"], None]


class _Incomplete(Exception):
    """The server closed the connection before sending the whole file."""


class _TooLarge(DatasetError):
    """The server offers or sends more than MAX_DOWNLOAD_BYTES; never retried."""


def _too_large(url: str, size: int, verb: str) -> _TooLarge:
    return _TooLarge(
        f"{url} {verb} {size / 1e6:,.0f} MB, more than any CIFAR archive ({MAX_DOWNLOAD_BYTES / 1e6:,.0f} MB), "
        "so it is not an official archive and nothing was kept."
    )


def archive_url(info: DatasetInfo, url: str | None = None) -> str:
    """The caller's URL, else the mirror base from $WORKBENCH_CIFAR_MIRROR, else the official URL."""
    if url:
        return url
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if mirror:
        return mirror.rstrip("/") + "/" + info.archive_name
    return info.url


def _cancelled(cancel) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if is_set is not None else cancel())


def _wait(seconds: float, cancel) -> None:
    """Sleep between retries, waking early (and raising) when cancelled."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if _cancelled(cancel):
            raise DownloadCancelled("The download was cancelled.")
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))


def file_digest(path: Path, algorithm: str = "md5") -> str:
    """Hex digest of the file's bytes (``algorithm``: "md5" or "sha256"), read in 1 MB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _total_from_content_range(value: str | None) -> int | None:
    match = re.match(r"bytes\s+\d+-\d+/(\d+)", value or "")
    return int(match.group(1)) if match else None


def _fetch_once(url: str, part: Path, progress, cancel, timeout: float) -> None:
    """One HTTP request, appending to ``part`` when the server honours our Range; raises on short reads."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "cifar-workbench"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if have and response.status == 206:
            total = _total_from_content_range(response.headers.get("Content-Range"))
            if total is None and length is not None:
                total = have + length
            mode = "ab"
        else:
            have, total, mode = 0, length, "wb"  # server ignored the Range: start over
        if total is not None and total > MAX_DOWNLOAD_BYTES:
            raise _too_large(url, total, "offers")
        with open(part, mode) as out:
            if progress:
                progress(have, total)
            while True:
                if _cancelled(cancel):
                    raise DownloadCancelled(f"The download of {url} was cancelled.")
                chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                have += len(chunk)
                if have > MAX_DOWNLOAD_BYTES:
                    raise _too_large(url, have, "sent more than")
                out.write(chunk)
                if progress:
                    progress(have, total)
    if total is not None and have < total:
        raise _Incomplete(f"connection closed after {have} of {total} bytes")


def download_file(url: str, target: Path, *, md5: str | None = None, sha256: str | None = None,
                  progress: Progress | None = None, cancel=None, retries: int = 3,
                  retry_wait: float = 1.0, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``target`` via ``target.part``; verify ``md5`` and/or ``sha256``; returns ``target``.

    Raises DownloadCancelled when ``cancel`` (an Event or a callable) fires, and DatasetError
    when the retries run out or the checksum does not match (the bad file is deleted).
    """
    target = Path(target)
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    attempt = 0
    while True:
        try:
            _fetch_once(url, part, progress, cancel, timeout)
            break
        except _TooLarge:
            part.unlink(missing_ok=True)
            raise
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # our .part is already as long as the file (or longer): restart it
                part.unlink(missing_ok=True)
            elif exc.code < 500:
                raise DatasetError(f"Downloading {url} failed: HTTP {exc.code} {exc.reason}.") from exc
            error = exc
        except (urllib.error.URLError, OSError, http.client.HTTPException, _Incomplete) as exc:
            error = exc
        attempt += 1
        if attempt > retries:
            reason = getattr(error, "reason", None) or error
            raise DatasetError(
                f"Downloading {url} to {part} failed after {attempt} attempts ({reason})."
            ) from error
        _wait(retry_wait * attempt, cancel)
    for algorithm, expected, label in (("md5", md5, ""), ("sha256", sha256, "SHA-256 ")):
        if not expected:
            continue
        actual = file_digest(part, algorithm)
        if actual != expected.lower():
            part.unlink(missing_ok=True)
            raise DatasetError(
                f"The file downloaded from {url} has {label}checksum {actual}, expected {expected}; "
                "it is corrupt or not the official file and was deleted."
            )
    os.replace(part, target)
    return target


def download_dataset(dataset_id: str, dest=None, *, url: str | None = None, md5: str | None = None,
                     progress: Progress | None = None, cancel=None, retries: int = 3,
                     retry_wait: float = 1.0, timeout: float = 30.0) -> Path:
    """Download and unpack ``dataset_id`` into ``dest`` (default: the Keras cache); returns the folder.

    MNIST lands as ``dest/mnist.npz`` (the file is returned), Fashion-MNIST in ``dest/fashion-mnist/``
    (as keras.datasets leaves them). ``md5`` overrides a CIFAR archive's official checksum (for a
    mirror serving another build of the archive). A file already in ``dest`` with the right
    checksum is reused instead of downloaded.
    """
    info = get_info(dataset_id)
    if info.layout == "generated":
        raise DatasetError(f"{info.title} is generated in code and has nothing to download.")
    dest = Path(dest).expanduser() if dest else keras_datasets_dir()
    if dest.exists() and not dest.is_dir():
        raise DatasetError(f"Cannot download {info.title} into {dest}: it is a file, not a folder; "
                           "give the folder to download into.")
    if info.files:
        if md5:
            raise DatasetError(f"An MD5 override is for the CIFAR archives; {info.title}'s files are checked "
                               "against their official SHA-256, so a mirror must serve the official files.")
        return _download_files(info, dest, url, progress, cancel,
                               dict(retries=retries, retry_wait=retry_wait, timeout=timeout))
    if dest.name == info.folder_name:  # given the dataset folder itself: download beside it
        dest = dest.parent
    if not folder_writable(dest):
        raise DatasetError(f"Cannot download {info.title} into {dest}: the folder is read-only.")
    expected = md5 or info.md5
    archive = dest / info.archive_name
    if not (archive.is_file() and file_digest(archive) == expected):
        download_file(archive_url(info, url), archive, md5=expected, progress=progress,
                      cancel=cancel, retries=retries, retry_wait=retry_wait, timeout=timeout)
    if expected == info.md5 and dest == keras_datasets_dir():
        _offer_to_keras(archive, dest / f"{info.folder_name}-target_archive")
    return extract_archive(archive, info.folder_name, dest)


def file_url(info: DatasetInfo, source: SourceFile, url: str | None = None) -> str:
    """The caller's URL (a one-file dataset's file, else the folder of the files), else the mirror, else official."""
    if url:
        return url if len(info.files) == 1 else url.rstrip("/") + "/" + source.name
    base = os.environ.get(MIRROR_ENV, "").strip() or info.url
    return base.rstrip("/") + "/" + source.name


def _download_files(info: DatasetInfo, dest: Path, url: str | None, progress: Progress | None, cancel,
                    retry: dict) -> Path:
    """Fetch each of ``info.files`` missing (or wrong) in its folder; progress counts them as one download."""
    folder = dest if not info.folder_name or dest.name == info.folder_name else dest / info.folder_name
    if not folder_writable(folder):
        raise DatasetError(f"Cannot download {info.title} into {folder}: the folder is read-only.")
    sizes = [f.size for f in info.files]  # the official sizes until each server says
    done_before = 0
    for i, source in enumerate(info.files):
        target = folder / source.name
        if not (target.is_file() and file_digest(target, "sha256") == source.sha256):

            def one_file(done: int, total: int | None, i=i, base=done_before) -> None:
                if total is not None:
                    sizes[i] = total
                if progress:
                    progress(base + done, base + sum(sizes[i:]))

            download_file(file_url(info, source, url), target, sha256=source.sha256,
                          progress=one_file, cancel=cancel, **retry)
        done_before += target.stat().st_size
    return folder / info.files[0].name if info.layout == "npz" else folder


def _offer_to_keras(archive: Path, keras_name: Path) -> None:
    """Hard-link the official archive under Keras 3's name so keras.datasets finds it offline."""
    if keras_name.exists():
        return
    try:
        os.link(archive, keras_name)
    except OSError:
        pass  # a convenience only: Keras would simply download its own copy
