"""Finding a dataset on disk: an explicit data dir first, then the Keras download cache.

Each place may hold the extracted official folder (also in the layouts Keras 2 and Keras 3 leave
behind) or just the archive. An archive in the Keras cache is unpacked there (as Keras does); one
in the user's own folder is unpacked into the user cache folder, because the user's folders are
written only when they ask for a download there. MNIST and Fashion-MNIST come as plain files where
keras.datasets leaves them (mnist.npz; fashion-mnist/ with four .gz files), used where they lie.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from workbench.core.files import check_regular_file
from workbench.paths import keras_datasets_dir, user_cache_dir

from .atomic import folder_writable
from .errors import DatasetError, DatasetNotFound
from .extract import extract_archive, missing_files
from .mnist_files import IDX_FILES
from .registry import DatasetInfo
from .resolve import get_info


_ZIP_MAGIC = b"PK\x03\x04"
# MD5 of the original MNIST's train-labels-idx1-ubyte.gz (LeCun's files, as torchvision checks them),
# which has the same name as Fashion-MNIST's first file.
ORIGINAL_MNIST_TRAIN_LABELS_MD5 = "d53e105ee54ea40749a09fcbcd1e9432"
# Both official train label files are under 30 KB; a larger file is not hashed here.
MAX_LABEL_FILE_BYTES = 100_000


def archive_names(info: DatasetInfo) -> tuple[str, ...]:
    """Names an archive may carry: the official one, Keras 2's and Keras 3's."""
    folder = info.folder_name
    return (info.archive_name, f"{folder}.tar.gz", f"{folder}-target_archive")


def folder_candidates(root: Path, info: DatasetInfo) -> list[Path]:
    """Where an extracted copy may sit under ``root``: official / Keras 2, Keras 3 (-target), _extracted."""
    folder = info.folder_name
    return [root / folder, root / f"{folder}-target" / folder, root / f"{folder}_extracted" / folder]


def search_roots(data_dir: str | os.PathLike | None) -> list[Path]:
    """The folders searched, in order: the explicit data dir (if any), then the Keras cache."""
    roots = [Path(data_dir).expanduser()] if data_dir else []
    roots.append(keras_datasets_dir())
    return roots


def _find_npz(info: DatasetInfo, data_dir) -> tuple[str, Path] | None:
    """("file", path) of the dataset's one .npz: the data dir itself when it is a file (any name)."""
    name = info.files[0].name
    places = []
    if data_dir:
        given = Path(data_dir).expanduser()
        if given.exists() and not given.is_dir():
            try:
                check_regular_file(given, f"{info.title} file")
            except OSError as exc:
                raise DatasetError(f"{exc.strerror}; give {name} or the folder holding it.") from None
            return "file", given
        places.append(given / name)
    places.append(keras_datasets_dir() / name)
    for place in places:
        # A pipe or device under the official name counts as found, so that reading it is refused by name.
        if place.exists() and not place.is_dir():
            return "file", place
    return None


def _find_file_folder(info: DatasetInfo, data_dir, incomplete: list) -> tuple[str, Path] | None:
    """("folder", path) of a folder holding all the dataset's files: data_dir/<folder>, data_dir, Keras'."""
    names = [f.name for f in info.files]
    places = []
    if data_dir:
        given = Path(data_dir).expanduser()
        places += [given / info.folder_name, given]
    places.append(keras_datasets_dir() / info.folder_name)
    for place in places:
        if not place.is_dir():
            continue
        missing = [n for n in names if not (place / n).exists()]
        if not missing:
            _refuse_original_mnist(place)
            return "folder", place
        if len(missing) < len(names) or place.name == info.folder_name:
            incomplete.append((place, missing))
    return None


def _refuse_original_mnist(folder: Path) -> None:
    """LeCun's MNIST files carry Fashion-MNIST's very names; read as clothes they would train nonsense."""
    labels = folder / IDX_FILES["y_train"]
    try:
        check_regular_file(labels, "dataset file")
        if labels.stat().st_size > MAX_LABEL_FILE_BYTES:
            return  # not an official label file; the reader judges it
        digest = hashlib.md5(labels.read_bytes()).hexdigest()
    except OSError:
        return  # the reader names the problem
    if digest == ORIGINAL_MNIST_TRAIN_LABELS_MD5:
        raise DatasetError(f"{folder} holds the original MNIST digits (its {labels.name} is LeCun's), not "
                           "Fashion-MNIST; for MNIST use mnist.npz, for Fashion-MNIST put its own files there.")


def _find(info: DatasetInfo, data_dir, incomplete: list | None = None) -> tuple[str, Path] | None:
    """("folder", path) for a complete extracted copy, ("archive", path) for an archive,
    ("file", path) for MNIST's .npz, or None.

    Folders that exist but lack files are appended to ``incomplete`` as (folder, missing names).
    """
    incomplete = [] if incomplete is None else incomplete
    if info.layout == "npz":
        return _find_npz(info, data_dir)
    if info.layout == "idx":
        return _find_file_folder(info, data_dir, incomplete)
    roots = search_roots(data_dir)
    candidates_by_root = [folder_candidates(root, info) for root in roots]
    if data_dir:
        given = roots[0]
        if given.exists() and not given.is_dir():
            try:
                check_regular_file(given, "CIFAR archive")
                with open(given, "rb") as f:
                    zipped = f.read(4) == _ZIP_MAGIC
            except OSError as exc:
                raise DatasetError(f"{exc.strerror}; give the folder holding {info.folder_name}/ "
                                   f"or the archive {info.archive_name}.") from None
            # A zip (mnist.npz, say) is never a CIFAR archive: CIFAR is not there, rather than damaged.
            if not zipped:
                return "archive", given
        else:
            # data_dir may be the official folder itself (any name, as long as the files are there).
            candidates_by_root[0].insert(0, given)
    for root, candidates in zip(roots, candidates_by_root):
        for candidate in candidates:
            if not candidate.is_dir():
                continue
            missing = missing_files(candidate, info.folder_name)
            if not missing:
                return "folder", candidate
            if candidate.name == info.folder_name:
                incomplete.append((candidate, missing))
        for name in archive_names(info):
            if (root / name).is_file():
                return "archive", root / name
    return None


def _not_found(info: DatasetInfo, data_dir, incomplete) -> DatasetNotFound:
    roots = tuple(search_roots(data_dir))
    searched = ", ".join(str(r) for r in roots)
    damaged = "".join(
        f" {folder} exists but is missing {', '.join(missing)}." for folder, missing in incomplete
    )
    if info.layout == "npz":
        what = f"{info.files[0].name} (from {info.url}{info.files[0].name})"
    elif info.layout == "idx":
        what = (f"the folder {info.folder_name}/ with {', '.join(f.name for f in info.files)} "
                f"(from {info.url})")
    else:
        what = f"the extracted folder {info.folder_name}/ or the archive {info.archive_name} (from {info.url})"
    return DatasetNotFound(
        f"{info.title} was not found; searched {searched}.{damaged} Put {what} into one of these folders.",
        dataset_id=info.id, title=info.title, searched=roots,
        incomplete=tuple((folder, tuple(missing)) for folder, missing in incomplete),
        folder_name=info.folder_name or "", archive_name=info.archive_name or "", url=info.url or "",
    )


def extraction_root(archive: Path) -> Path:
    """Where a found archive is unpacked: beside it in the Keras cache, else in the user cache folder.

    The user cache folder is keyed by the archive's path, size and mtime, so a replaced archive is
    unpacked afresh and two archives never share a folder.
    """
    archive = Path(archive)
    keras = keras_datasets_dir()
    if archive.parent.resolve() == keras.resolve() and folder_writable(keras):
        return archive.parent
    st = archive.stat()
    key = f"{archive.resolve()}\0{st.st_size}\0{st.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return user_cache_dir() / "extracted" / f"{archive.name}-{digest}"


def dataset_location(dataset_id: str, data_dir=None) -> Path | None:
    """The folder or archive that would be used, without extracting anything; None if absent."""
    info = get_info(dataset_id)
    if info.layout == "generated":
        return None
    found = _find(info, data_dir)
    return found[1] if found else None


def locate_dataset(dataset_id: str, data_dir=None) -> Path:
    """The extracted official folder for ``dataset_id``, unpacking a found archive if needed.

    For MNIST the .npz file itself, for Fashion-MNIST the folder holding its four .gz files.
    Raises DatasetNotFound (names the folders searched and the files to put there) when absent.
    """
    info = get_info(dataset_id)
    if info.layout == "generated":
        raise DatasetError(f"{info.title} is generated in code and has no files to locate.")
    incomplete: list = []
    found = _find(info, data_dir, incomplete)
    if found is None:
        raise _not_found(info, data_dir, incomplete)
    kind, path = found
    if kind in ("folder", "file"):
        return path
    dest_root = extraction_root(path)
    done = dest_root / info.folder_name
    if done.is_dir() and not missing_files(done, info.folder_name):
        return done  # unpacked by an earlier run
    return extract_archive(path, info.folder_name, dest_root)
