"""A user's own image collections, remembered by name: ``workbench_home()/datasets.json``.

``add_user_dataset(name, path)`` imports a folder of class folders (or a .zip/.tar/.tar.gz of one,
unpacked safely into the user cache) right away and remembers it with its import settings. After
that the name works wherever a built-in id does, and so does a plain path (``resolve``).

The file changes under a lock (one read-modify-write at a time, across processes), is written
atomically, and only after the text about to be written has been read back to the same entries, so
any name a file system allows round-trips: paths that are not UTF-8 are stored as JSON ``\\udcXX``
escapes (Python's surrogateescape), which read back to the same bytes. It is read with a size cap
and field checks: a damaged or hostile file means "no user datasets" and one warning, never a
crash, and a write never replaces it: it is kept aside first.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, NamedTuple

from workbench.core.file_lock import locked
from workbench.core.files import NotARegularFileError, open_regular_file
from workbench.core.text import sanitize
from workbench.paths import workbench_home

from .atomic import write_bytes_atomic
from .errors import DatasetError, DatasetNotFound, ImportCancelled
from .registry import DATASETS, DatasetInfo
from .user_archive import is_archive, remove_unpacked, tree_root, unpack_archive, unpacked_folder

REGISTRY_FILE = "datasets.json"
LOCK_FILE = "datasets.json.lock"
# A file that could not be read is renamed to this (plus a UTC time) before a new list is written.
KEPT_SUFFIX = ".unreadable-"
REGISTRY_FORMAT = 1
# A few hundred entries with class lists are tens of KB; a bigger file is not ours.
MAX_REGISTRY_BYTES = 4 * 2**20
# More user datasets than anyone keeps in one list; caps what a hostile file can make us hold.
MAX_USER_DATASETS = 1000
# Names are shown in lists and menus: long enough for "holiday photos 2024 (cropped)", short enough to fit.
MAX_NAME_CHARS = 60
# Classes recorded per dataset (CIFAR-100 has 100; a folder with more class folders is rare but allowed).
MAX_CLASSES = 10_000
MAX_PATH_CHARS = 4096
# A class name is a folder name (at most 255 bytes) with bytes that are not UTF-8 shown as \xNN: 4 characters each.
MAX_CLASS_CHARS = 4 * 255
# Letters and digits of any script, spaces and a little punctuation: safe in menus, file names and the CLI.
_NAME_CHARS = re.compile(r"[^\W_][\w .()+-]*\Z")

Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)
_warned: set[str] = set()


@dataclass(frozen=True)
class UserDataset:
    """One remembered collection: where it came from, how it was imported, and what it holds."""

    name: str
    source: str  # the folder or archive the user gave (absolute)
    folder: str  # the folder actually imported (the source, or where its archive was unpacked)
    size: tuple[int, int] | None  # requested (height, width); None = chosen from the images
    color: str | None  # requested colour; None = chosen from the images
    fit: str
    class_names: tuple[str, ...]
    train_size: int
    test_size: int
    image_shape: tuple[int, int, int]
    added: str  # ISO time

    @property
    def is_archive(self) -> bool:
        return self.source != self.folder

    def info(self) -> DatasetInfo:
        """A DatasetInfo whose id is the name, so runs and models record the name the user chose."""
        return DatasetInfo(self.name, self.name, len(self.class_names), self.class_names, self.train_size,
                           self.test_size, None, None, None, None, image_shape=self.image_shape, layout="folder",
                           fit=self.fit)


class Registry(NamedTuple):
    datasets: dict[str, UserDataset]
    warning: str | None  # one sentence when the file was unusable (then ``datasets`` is empty)


def registry_path() -> Path:
    return workbench_home() / REGISTRY_FILE


# --- reading and writing the file -------------------------------------------------------------------
class _Unreadable(Exception):
    """The file's content is not a registry we wrote (``args[0]`` says why); safe to keep aside."""


def read_registry() -> Registry:
    """The remembered datasets; an absent file is none, an unusable one is none plus a warning."""
    path = registry_path()
    try:
        return Registry(_load(path), None)
    except _Unreadable as exc:
        return _unusable(path, str(exc))
    except OSError as exc:
        return _unusable(path, exc.strerror or str(exc))


def _load(path: Path) -> dict[str, UserDataset]:
    """The entries in ``path`` ({} when absent); _Unreadable for bad content, OSError when it cannot be read."""
    try:
        with open_regular_file(path, "datasets file") as f:  # a FIFO put there must not hang every list
            data = f.read(MAX_REGISTRY_BYTES + 1)
    except FileNotFoundError:
        return {}
    except NotARegularFileError:
        raise _Unreadable("it is not a regular file") from None
    if len(data) > MAX_REGISTRY_BYTES:
        raise _Unreadable(f"it is larger than {MAX_REGISTRY_BYTES // 2**20} MB")
    try:
        # surrogateescape: files written before paths were escaped hold their raw bytes; read them back as such.
        doc = json.loads(data.decode("utf-8", "surrogateescape"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _Unreadable(f"it is not JSON ({sanitize(exc, 80)})") from None
    try:
        return _parse(doc)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise _Unreadable(sanitize(exc, 160).rstrip(".")) from None


def _unusable(path: Path, why: str) -> Registry:
    warning = (f"Your saved datasets in {sanitize(path, 300)} could not be read ({why}), so none are listed; "
               "the file is kept aside, never overwritten, when you next add one.")
    if warning not in _warned:  # once per process: every list and load reads the file
        _warned.add(warning)
        log.warning(warning)
    return Registry({}, warning)


def update_registry(change: Callable[[dict[str, UserDataset]], dict[str, UserDataset]]) -> None:
    """Apply ``change`` to the remembered datasets as one locked read-modify-write.

    ``change`` may raise DatasetError to refuse (nothing is written). A file that cannot be parsed is
    renamed aside first (a warning names where), never overwritten; one that cannot be read at all,
    or new entries that would not read back exactly, raise DatasetError and write nothing.
    """
    path = registry_path()
    try:
        with locked(path.with_name(LOCK_FILE)):
            try:
                datasets = _load(path)
            except _Unreadable as exc:
                kept = _keep_aside(path)
                log.warning("Your saved datasets in %s could not be read (%s); that file was kept as %s and a "
                            "new list started.", sanitize(path, 300), exc, sanitize(kept, 300))
                datasets = {}
            write_bytes_atomic(path, _checked_text(change(dict(datasets))))
    except OSError as exc:
        raise DatasetError(f"Your datasets cannot be saved in {sanitize(path.parent, 300)} "
                           f"({exc.strerror or exc}); make that folder writable or set WORKBENCH_HOME to one "
                           "that is.") from None


def _keep_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for n in range(1000):
        kept = path.with_name(f"{path.name}{KEPT_SUFFIX}{stamp}" + (f"-{n}" if n else ""))
        if not os.path.lexists(kept):  # under the lock: no other writer races for the name
            os.rename(path, kept)
            return kept
    raise FileExistsError(errno.EEXIST, "too many unreadable copies kept aside", str(path))


def _checked_text(datasets: dict[str, UserDataset]) -> bytes:
    """The file's bytes for ``datasets``, refused (DatasetError) unless they read back to the same entries."""
    rows = [{
        "name": d.name, "source": d.source, "folder": d.folder,
        "size": list(d.size) if d.size else None, "color": d.color, "fit": d.fit,
        "classes": list(d.class_names), "train_size": d.train_size, "test_size": d.test_size,
        "image_shape": list(d.image_shape), "added": d.added,
    } for d in datasets.values()]
    # ensure_ascii: a path's undecodable bytes (lone surrogates) become \udcXX escapes, valid UTF-8 on disk.
    data = json.dumps({"format": REGISTRY_FORMAT, "datasets": rows}, ensure_ascii=True, indent=1).encode("ascii")
    try:
        if len(data) > MAX_REGISTRY_BYTES:
            raise ValueError(f"the list would be larger than {MAX_REGISTRY_BYTES // 2**20} MB")
        same = _parse(json.loads(data)) == datasets
    except (ValueError, TypeError, KeyError) as exc:
        raise DatasetError(f"Your datasets cannot be saved as they are ({sanitize(exc, 200).rstrip('.')}); "
                           "nothing was written.") from None
    if not same:
        raise DatasetError("Your datasets cannot be saved as they are (an entry would not read back the same); "
                           "nothing was written.")
    return data


def _parse(doc) -> dict[str, UserDataset]:
    if not isinstance(doc, dict) or doc.get("format") != REGISTRY_FORMAT or not isinstance(doc.get("datasets"), list):
        raise ValueError(f"it is not a format-{REGISTRY_FORMAT} list of datasets")
    if len(doc["datasets"]) > MAX_USER_DATASETS:
        raise ValueError(f"it lists more than {MAX_USER_DATASETS} datasets")
    out: dict[str, UserDataset] = {}
    for raw in doc["datasets"]:
        entry = _entry(raw)
        if entry.name.casefold() in (n.casefold() for n in out):
            raise ValueError(f"it lists {entry.name!r} twice")
        out[entry.name] = entry
    return out


def _text(raw: dict, key: str, limit: int = MAX_PATH_CHARS) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value or len(value) > limit or "\0" in value:
        raise ValueError(f"its entry has a bad {key!r}")
    try:
        os.fsencode(value)  # a lone surrogate outside \udc80-\udcff names no file: every stat would raise
    except UnicodeError:
        raise ValueError(f"its entry has a bad {key!r}") from None
    return value


def _count(raw: dict, key: str) -> int:
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
        raise ValueError(f"its entry has a bad {key!r}")
    return value


def _entry(raw) -> UserDataset:
    from .folder_import import MAX_SIDE
    from workbench.core.images.colour import COLOR_MODES
    from workbench.core.images.fit import FIT_MODES

    if not isinstance(raw, dict):
        raise ValueError("an entry is not an object")
    try:
        name = check_name(_text(raw, "name", MAX_NAME_CHARS * 4), allow_taken=True)
    except DatasetError:
        raise ValueError(f"it lists the unusable name {sanitize(raw['name'], 40)!r}") from None
    size = raw.get("size")
    if size is not None:
        if not (isinstance(size, list) and len(size) == 2
                and all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_SIDE for s in size)):
            raise ValueError(f"the entry {name!r} has a bad size")
        size = (size[0], size[1])
    color = raw.get("color")
    if color is not None and color not in COLOR_MODES:
        raise ValueError(f"the entry {name!r} has a bad colour")
    if raw.get("fit") not in FIT_MODES:
        raise ValueError(f"the entry {name!r} has a bad fit")
    classes = raw.get("classes")
    if not (isinstance(classes, list) and 1 <= len(classes) <= MAX_CLASSES
            and all(isinstance(c, str) and 0 < len(c) <= MAX_CLASS_CHARS for c in classes)):
        raise ValueError(f"the entry {name!r} has bad class names")
    shape = raw.get("image_shape")
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(s, int) and not isinstance(s, bool)
                                                                 for s in shape)
            and 1 <= shape[0] <= MAX_SIDE and 1 <= shape[1] <= MAX_SIDE and shape[2] in (1, 3)):
        raise ValueError(f"the entry {name!r} has a bad image shape")
    return UserDataset(
        name, _text(raw, "source"), _text(raw, "folder"), size, color, raw["fit"], tuple(classes),
        _count(raw, "train_size"), _count(raw, "test_size"), (shape[0], shape[1], shape[2]),
        _text(raw, "added", 64),
    )


# --- names ------------------------------------------------------------------------------------------
def check_name(name: str, *, allow_taken: bool = False) -> str:
    """``name`` tidied (NFC, outer spaces trimmed); DatasetError with one sentence when it cannot be used.

    A name holds letters or digits of any script, spaces and ``. ( ) + -``, starts with a letter or
    digit, is at most MAX_NAME_CHARS long and is not a built-in dataset id (in any case).
    """
    tidy = unicodedata.normalize("NFC", str(name)).strip()
    shown = sanitize(name, 80)
    if not tidy:
        raise DatasetError("A dataset name cannot be empty; choose a short name such as 'my-photos'.")
    if len(tidy) > MAX_NAME_CHARS:
        raise DatasetError(f"The dataset name {shown!r} is longer than {MAX_NAME_CHARS} characters; "
                           "choose a shorter one.")
    if not _NAME_CHARS.match(tidy):
        raise DatasetError(f"The dataset name {shown!r} may hold only letters, digits, spaces and . ( ) + - "
                           "and must start with a letter or digit; choose another.")
    if not allow_taken and tidy.casefold() in (k.casefold() for k in DATASETS):
        raise DatasetError(f"{shown!r} is the id of a built-in dataset; choose another name for yours.")
    return tidy


def default_name(path: str | os.PathLike) -> str:
    """A usable name suggested from a folder or archive name ("My Photos.tar.gz" -> "My Photos")."""
    base = Path(str(path).rstrip("/\\")).name
    for suffix in (".tar.gz", ".tgz", ".tar", ".zip"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    base = re.sub(r"[^\w .()+-]+", "-", unicodedata.normalize("NFC", base)).strip(" ._-")[:MAX_NAME_CHARS].strip()
    base = base or "my-images"
    if base.casefold() in (k.casefold() for k in DATASETS):
        base = f"{base} (mine)"
    return base


# --- remembered datasets ---------------------------------------------------------------------------
def user_datasets() -> dict[str, UserDataset]:
    """The remembered datasets by name (none, with a logged warning, when the file is unusable)."""
    return read_registry().datasets


def find_user_dataset(name: str) -> UserDataset | None:
    """The remembered dataset called ``name`` (case-insensitive), or None."""
    wanted = unicodedata.normalize("NFC", str(name)).strip().casefold()
    return next((d for n, d in user_datasets().items() if n.casefold() == wanted), None)


def _taken(name: str) -> DatasetError:
    return DatasetError(f"There is already a dataset called {sanitize(name)!r}; choose another name or "
                        "remove that one first.")


def import_path(path: str | os.PathLike, *, size=None, color=None, fit: str = "crop",
                progress: Progress | None = None, cancel: threading.Event | None = None):
    """ImportResult for a folder of class folders or an archive of one (unpacked into the user cache).

    An archive unpacked for this call is deleted again when its import is refused or cancelled.
    """
    from .folder_import import import_folder

    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetNotFound(f"{sanitize(path, 300)} does not exist; give a folder of class folders or an "
                              "archive of one.")
    if path.is_dir():
        return import_folder(path, size=size, color=color, fit=fit, progress=progress, cancel=cancel)
    if not is_archive(path):
        raise DatasetError(f"{sanitize(path, 300)} is neither a folder nor a .zip, .tar or .tar.gz archive; give a "
                           "folder of class folders or an archive of one.")
    fresh = not _unpacked_exists(path)
    folder = unpack_archive(path, cancel=cancel)
    try:
        return import_folder(folder, size=size, color=color, fit=fit, progress=progress, cancel=cancel)
    except (DatasetError, OSError) as exc:
        if fresh and not _in_use(folder):
            remove_unpacked(folder)  # a refused archive leaves no copy in the cache
        if type(exc) is DatasetError and str(folder) in str(exc):  # name the user's archive, not our deleted copy
            raise DatasetError(str(exc).replace(str(folder), f"the archive {sanitize(path, 300)}")) from None
        raise


def _unpacked_exists(archive: Path) -> bool:
    try:
        return unpacked_folder(archive).is_dir()
    except OSError:
        return False  # unpack_archive says why in its own sentence


def _in_use(folder: Path) -> bool:
    """Whether a remembered dataset was imported from ``folder`` (an unpacked archive copy)."""
    folder = Path(folder).absolute()
    return any(folder == Path(d.folder) or folder in Path(d.folder).parents for d in user_datasets().values())


def add_user_dataset(name: str, path: str | os.PathLike, *, size=None, color=None, fit: str = "crop",
                     progress: Progress | None = None, cancel: threading.Event | None = None):
    """Import ``path`` now and remember it as ``name``; returns the ImportResult (its dataset named ``name``).

    Raises DatasetError (bad name, name taken, unreadable folder or archive, a registry that cannot be
    saved) or ImportCancelled; a refused or cancelled add writes nothing to the registry.
    """
    name = check_name(name)
    if find_user_dataset(name) is not None:
        raise _taken(name)
    source = Path(path).expanduser().absolute()
    fresh = is_archive(source) and source.is_file() and not _unpacked_exists(source)
    result = import_path(source, size=size, color=color, fit=fit, progress=progress, cancel=cancel)
    info = result.dataset.info
    entry = UserDataset(
        name, str(source), str(result.root.absolute()),
        None if size is None else _pair(size), color, fit, tuple(info.class_names),
        info.train_size, info.test_size, tuple(info.image_shape),
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )

    def add(datasets: dict[str, UserDataset]) -> dict[str, UserDataset]:
        if cancel is not None and cancel.is_set():  # cancelled after the last image: still nothing remembered
            raise ImportCancelled("The import was cancelled; nothing was saved.")
        if any(n.casefold() == name.casefold() for n in datasets):  # added by another process meanwhile
            raise _taken(name)
        datasets[name] = entry
        return datasets

    try:
        update_registry(add)
    except DatasetError:
        if fresh and not _in_use(result.root):
            remove_unpacked(result.root)
        raise
    return replace(result, dataset=replace(result.dataset, info=entry.info()))


def _pair(size) -> tuple[int, int]:
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def remove_user_dataset(name: str) -> UserDataset:
    """Forget ``name`` (and delete its unpacked archive copy); the user's own files are never touched."""
    wanted = unicodedata.normalize("NFC", str(name)).strip().casefold()
    removed: list[UserDataset] = []

    def drop(datasets: dict[str, UserDataset]) -> dict[str, UserDataset]:
        entry = next((d for n, d in datasets.items() if n.casefold() == wanted), None)
        if entry is None:
            raise DatasetError(f"There is no user dataset called {sanitize(name)!r}; "
                               f"yours are: {', '.join(datasets) or 'none yet'}.")
        removed.append(entry)
        return {k: v for k, v in datasets.items() if k != entry.name}

    if find_user_dataset(name) is None:  # checked before locking, so a wrong name never rewrites the file
        drop(user_datasets())
    update_registry(drop)
    entry = removed[0]
    if entry.is_archive:  # the copy made when added, and the one of the archive as it is now
        for folder in {Path(entry.folder), entry_folder(entry)}:
            if not _in_use(folder):
                remove_unpacked(folder)
    return entry


def entry_folder(entry: UserDataset) -> Path:
    """The folder to import for ``entry``: an archive's copy unpacked from its current content (a changed
    archive is unpacked again), or the remembered copy when the archive is gone."""
    if entry.is_archive and Path(entry.source).is_file():
        try:
            folder = unpacked_folder(Path(entry.source))
        except OSError:
            return Path(entry.folder)
        return tree_root(folder) if folder.is_dir() else folder
    return Path(entry.folder)


def open_user_dataset(entry: UserDataset, *, progress: Progress | None = None,
                      cancel: threading.Event | None = None):
    """ImportResult of a remembered dataset (from the cache when the folder is unchanged), named by it."""
    folder = entry_folder(entry)
    if entry.is_archive and not folder.is_dir():
        # Not unpacked yet (the archive changed, or its copy was cleared from the cache): unpack it again.
        result = import_path(entry.source, size=entry.size, color=entry.color, fit=entry.fit,
                             progress=progress, cancel=cancel)
    elif not folder.is_dir():
        raise DatasetNotFound(f"The folder {sanitize(folder, 300)} of your dataset {entry.name!r} is gone; put it "
                              "back, or remove the dataset and add it again from where it is now.")
    else:
        from .folder_import import import_folder

        result = import_folder(folder, size=entry.size, color=entry.color, fit=entry.fit, progress=progress,
                               cancel=cancel)
    info = replace(entry.info(), class_names=result.dataset.info.class_names,
                   num_classes=result.dataset.info.num_classes, train_size=result.dataset.info.train_size,
                   test_size=result.dataset.info.test_size, image_shape=result.dataset.info.image_shape)
    return replace(result, dataset=replace(result.dataset, info=info))
