"""A user's own image collections, remembered by name: ``workbench_home()/datasets.json``.

``add_user_dataset(name, path)`` imports a folder of class folders (or a .zip/.tar/.tar.gz of one,
unpacked safely into the user cache) right away and remembers it with its import settings. After
that the name works wherever a built-in id does (``resolve`` / ``load_spec`` / ``info_for``), and
so does a plain path. The file is written atomically and read with a size cap and field checks:
a damaged or hostile file means "no user datasets" and one warning, never a crash.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, NamedTuple

from workbench.core.files import NotARegularFileError, open_regular_file
from workbench.core.text import sanitize
from workbench.paths import workbench_home

from .atomic import write_bytes_atomic
from .errors import DatasetError, DatasetNotFound
from .registry import DATASETS, DatasetInfo
from .user_archive import is_archive, remove_unpacked, unpack_archive

REGISTRY_FILE = "datasets.json"
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
# Letters and digits of any script, spaces and a little punctuation: safe in menus, file names and the CLI.
_NAME_CHARS = re.compile(r"[^\W_][\w .()+-]*\Z")
# What "folder:<path>" ids (import_folder's) start with.
FOLDER_PREFIX = "folder:"

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


class DatasetChoice(NamedTuple):
    """One selectable dataset for a list: the id to pass around, its description, and whose it is."""

    id: str
    info: DatasetInfo
    user: bool
    source: str | None  # a user dataset's folder or archive


def registry_path() -> Path:
    return workbench_home() / REGISTRY_FILE


# --- reading and writing the file -------------------------------------------------------------------
def read_registry() -> Registry:
    """The remembered datasets; an absent file is none, an unusable one is none plus a warning."""
    path = registry_path()
    try:
        with open_regular_file(path, "datasets file") as f:  # a FIFO put there must not hang every list
            data = f.read(MAX_REGISTRY_BYTES + 1)
    except FileNotFoundError:
        return Registry({}, None)
    except OSError as exc:
        return _unusable(path, "it is not a regular file" if isinstance(exc, NotARegularFileError)
                         else exc.strerror or str(exc))
    if len(data) > MAX_REGISTRY_BYTES:
        return _unusable(path, f"it is larger than {MAX_REGISTRY_BYTES // 2**20} MB")
    try:
        doc = json.loads(data.decode("utf-8"))
        return Registry(_parse(doc), None)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return _unusable(path, f"it is not JSON ({sanitize(exc, 80)})")
    except (ValueError, TypeError, KeyError) as exc:
        return _unusable(path, sanitize(exc, 160).rstrip("."))


def _unusable(path: Path, why: str) -> Registry:
    warning = (f"Your saved datasets in {sanitize(path, 300)} could not be read ({why}), so none are listed; "
               "add them again (the file is replaced when you do).")
    if warning not in _warned:  # once per process: every list and load reads the file
        _warned.add(warning)
        log.warning(warning)
    return Registry({}, warning)


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
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(f"its entry has a bad {key!r}")
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
            and all(isinstance(c, str) and 0 < len(c) <= 255 for c in classes)):
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


def _write(datasets: dict[str, UserDataset]) -> None:
    rows = [{
        "name": d.name, "source": d.source, "folder": d.folder,
        "size": list(d.size) if d.size else None, "color": d.color, "fit": d.fit,
        "classes": list(d.class_names), "train_size": d.train_size, "test_size": d.test_size,
        "image_shape": list(d.image_shape), "added": d.added,
    } for d in datasets.values()]
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": REGISTRY_FORMAT, "datasets": rows}, ensure_ascii=False, indent=1)
    write_bytes_atomic(path, text.encode("utf-8", "surrogateescape"))


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


# --- what the rest of the workbench calls ------------------------------------------------------------
def user_datasets() -> dict[str, UserDataset]:
    """The remembered datasets by name (none, with a logged warning, when the file is unusable)."""
    return read_registry().datasets


def find_user_dataset(name: str) -> UserDataset | None:
    """The remembered dataset called ``name`` (case-insensitive), or None."""
    wanted = unicodedata.normalize("NFC", str(name)).strip().casefold()
    return next((d for n, d in user_datasets().items() if n.casefold() == wanted), None)


def selectable_datasets() -> list[DatasetChoice]:
    """Every dataset a list in the window or CLI offers: the built-in ones, then the user's by name."""
    rows = [DatasetChoice(k, info, False, None) for k, info in DATASETS.items()]
    rows += [DatasetChoice(d.name, d.info(), True, d.source) for d in user_datasets().values()]
    return rows


def known_info(spec) -> DatasetInfo | None:
    """DatasetInfo of a built-in id or a remembered name, None otherwise; never imports (for lists and labels)."""
    if spec in DATASETS:
        return DATASETS[spec]
    entry = find_user_dataset(spec) if isinstance(spec, str) else None
    return entry.info() if entry is not None else None


def looks_like_path(spec: str) -> bool:
    """Whether a --dataset value is meant as a folder or archive rather than a name."""
    return (spec.startswith(FOLDER_PREFIX) or os.sep in spec or "/" in spec or spec.startswith("~")
            or is_archive(spec) or os.path.isdir(spec))


def path_of(spec: str) -> Path:
    return Path(spec[len(FOLDER_PREFIX):] if spec.startswith(FOLDER_PREFIX) else spec).expanduser()


def _unknown(spec: str) -> DatasetError:
    names = ", ".join(list(DATASETS) + list(user_datasets()))
    return DatasetError(f"Unknown dataset {sanitize(spec, 120)!r}; --dataset must be one of {names}, or the path "
                        "of an image folder or a .zip/.tar/.tar.gz archive of one.")


def import_path(path: str | os.PathLike, *, size=None, color=None, fit: str = "crop",
                progress: Progress | None = None, cancel: threading.Event | None = None):
    """ImportResult for a folder of class folders or an archive of one (unpacked into the user cache)."""
    from .folder_import import import_folder

    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetNotFound(f"{sanitize(path, 300)} does not exist; give a folder of class folders or an "
                              "archive of one.")
    if path.is_dir():
        folder = path
    elif is_archive(path):
        folder = unpack_archive(path, cancel=cancel)
    else:
        raise DatasetError(f"{sanitize(path, 300)} is neither a folder nor a .zip, .tar or .tar.gz archive; give a "
                           "folder of class folders or an archive of one.")
    return import_folder(folder, size=size, color=color, fit=fit, progress=progress, cancel=cancel)


def add_user_dataset(name: str, path: str | os.PathLike, *, size=None, color=None, fit: str = "crop",
                     progress: Progress | None = None, cancel: threading.Event | None = None):
    """Import ``path`` now and remember it as ``name``; returns the ImportResult (its dataset named ``name``).

    Raises DatasetError (bad name, name taken, unreadable folder or archive) or ImportCancelled;
    a refused or cancelled add writes nothing to the registry.
    """
    name = check_name(name)
    if find_user_dataset(name) is not None:
        raise DatasetError(f"There is already a dataset called {sanitize(name)!r}; choose another name or "
                           "remove that one first.")
    source = Path(path).expanduser().absolute()
    result = import_path(source, size=size, color=color, fit=fit, progress=progress, cancel=cancel)
    info = result.dataset.info
    entry = UserDataset(
        name, str(source), str(result.root.absolute()),
        None if size is None else _pair(size), color, fit, tuple(info.class_names),
        info.train_size, info.test_size, tuple(info.image_shape),
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    if cancel is not None and cancel.is_set():  # cancelled after the last image: still nothing remembered
        from .folder_import import ImportCancelled

        raise ImportCancelled("The import was cancelled; nothing was saved.")
    registry = read_registry()
    datasets = dict(registry.datasets)
    datasets[name] = entry
    _write(datasets)
    return replace(result, dataset=replace(result.dataset, info=entry.info()))


def _pair(size) -> tuple[int, int]:
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def remove_user_dataset(name: str) -> UserDataset:
    """Forget ``name`` (and delete its unpacked archive copy); the user's own files are never touched."""
    entry = find_user_dataset(name)
    if entry is None:
        raise DatasetError(f"There is no user dataset called {sanitize(name)!r}; "
                           f"yours are: {', '.join(user_datasets()) or 'none yet'}.")
    datasets = {k: v for k, v in user_datasets().items() if k != entry.name}
    _write(datasets)
    if entry.is_archive:
        remove_unpacked(Path(entry.folder))
    return entry


def open_user_dataset(entry: UserDataset, *, progress: Progress | None = None,
                      cancel: threading.Event | None = None):
    """ImportResult of a remembered dataset (from the cache when the folder is unchanged), named by it."""
    folder = Path(entry.folder)
    if entry.is_archive and not folder.is_dir():
        # The unpacked copy was cleared from the cache: unpack the user's archive again.
        return import_path(entry.source, size=entry.size, color=entry.color, fit=entry.fit,
                           progress=progress, cancel=cancel)
    if not folder.is_dir():
        raise DatasetNotFound(f"The folder {sanitize(folder, 300)} of your dataset {entry.name!r} is gone; put it "
                              "back, or remove the dataset and add it again from where it is now.")
    from .folder_import import import_folder

    result = import_folder(folder, size=entry.size, color=entry.color, fit=entry.fit, progress=progress,
                           cancel=cancel)
    info = replace(entry.info(), class_names=result.dataset.info.class_names,
                   num_classes=result.dataset.info.num_classes, train_size=result.dataset.info.train_size,
                   test_size=result.dataset.info.test_size, image_shape=result.dataset.info.image_shape)
    return replace(result, dataset=replace(result.dataset, info=info))


def open_spec(spec: str, *, progress: Progress | None = None, cancel: threading.Event | None = None):
    """ImportResult for a user dataset name or a path (DatasetError naming the choices otherwise)."""
    entry = find_user_dataset(spec)
    if entry is not None:
        return open_user_dataset(entry, progress=progress, cancel=cancel)
    if looks_like_path(spec):
        path = path_of(spec)
        remembered = next((d for d in user_datasets().values() if Path(d.source) == path.absolute()), None)
        if remembered is not None:  # the user's settings for that folder, not the defaults
            return open_user_dataset(remembered, progress=progress, cancel=cancel)
        return import_path(path, progress=progress, cancel=cancel)
    raise _unknown(spec)


def info_for(spec: str) -> DatasetInfo:
    """DatasetInfo of a user dataset name (from the registry, instant) or a path (imports it, cached)."""
    entry = find_user_dataset(spec)
    if entry is not None:
        return entry.info()
    if looks_like_path(spec):
        return open_spec(spec).dataset.info
    raise _unknown(spec)


def available(spec: str) -> bool:
    """Whether ``spec`` (a user dataset or a path) can be loaded without fetching anything."""
    entry = find_user_dataset(spec)
    if entry is not None:
        return Path(entry.folder).is_dir() or Path(entry.source).exists()
    return looks_like_path(spec) and path_of(spec).exists()
