"""Finding the labelled images in a user's folder: ROOT/<class>/… or ROOT/train|test|val/<class>/….

Only names and `stat` results are read here (no file is opened), so a scan of 50,000 files takes
a fraction of a second and is repeated on every load to tell whether a cache is still current.
Files that cannot be images (other suffixes, hidden files, 0 bytes, too large, pipes and devices)
are listed with a reason instead of stopping the scan.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from workbench.core.files import NotARegularFileError, check_regular_file
from workbench.core.images.find import IMAGE_SUFFIXES as _IMAGE_SUFFIXES
from workbench.core.images.read import MAX_IMAGE_FILE_BYTES

from .errors import DatasetError

# Files looked at in one folder tree: ImageNet's 1.28 million training images fit; the file list
# (a few hundred bytes a file) stays well under 1 GB and the walk under a minute.
MAX_FOLDER_FILES = 2_000_000
# Subfolder levels below a class folder: real collections nest a few levels (year/month/day);
# deeper trees are usually a link loop or something that is not a photo collection.
MAX_FOLDER_DEPTH = 32

SPLIT_TRAIN = "train"
# Names accepted for the test split beside train/, in order of preference.
TEST_FOLDER_NAMES = ("test", "val", "validation")
# Folders that hold the operating system's bookkeeping, never a class.
SYSTEM_FOLDERS = ("__MACOSX", "$RECYCLE.BIN", "System Volume Information")

IMAGE_SUFFIXES = frozenset(_IMAGE_SUFFIXES)  # the suffixes classify reads; a set: tested 50,000 times a scan
LAYOUT_CLASS_FOLDERS = "class folders"
LAYOUT_SPLIT_FOLDERS = "train/test folders"


@dataclass(frozen=True)
class SkippedFile:
    """A file or folder that was not used, and why in a few words."""

    path: str  # relative to the imported folder, "/"-separated
    reason: str


@dataclass(frozen=True)
class FolderScan:
    """What is in the folder: class names, candidate images per split, and what was left out."""

    root: Path
    layout: str  # LAYOUT_CLASS_FOLDERS or LAYOUT_SPLIT_FOLDERS
    test_folder: str | None  # "test", "val" or "validation" when the folder has its own test split
    class_names: tuple[str, ...]  # every class folder, sorted; some may end up with no usable image
    train: tuple[tuple[str, int], ...]  # (relative path, class index), sorted by class then path
    test: tuple[tuple[str, int], ...]
    skipped: tuple[SkippedFile, ...]
    listing: tuple[tuple[str, int, int], ...]  # (relative path, size, mtime_ns) of every file seen

    @property
    def candidates(self) -> int:
        return len(self.train) + len(self.test)


def scan_folder(root: str | os.PathLike) -> FolderScan:
    """Scan ``root``; raises DatasetError (one sentence) when it is no folder or holds no class folder."""
    root = Path(root).expanduser().absolute()  # row paths stay valid if the working folder changes
    try:
        st = root.stat()
    except FileNotFoundError:
        raise DatasetError(f"There is no folder at {root}; choose a folder that holds one folder per class.") from None
    except OSError as exc:
        raise DatasetError(f"{root} cannot be read ({exc.strerror}).") from None
    if not stat.S_ISDIR(st.st_mode):
        raise DatasetError(f"{root} is not a folder; choose a folder that holds one folder per class.")
    if root.resolve() == Path(root.resolve().anchor):  # its top folders (bin, usr, …) are no classes
        raise DatasetError(f"{root} is the root of the file system, not a folder of class folders; choose the "
                           "folder that holds one folder per class.")
    walker = _Walker(root)
    top_dirs = walker.top_level("")
    layout, test_folder = _layout(root, top_dirs)
    if layout == LAYOUT_SPLIT_FOLDERS:
        train_dirs = walker.top_level(SPLIT_TRAIN)
        test_dirs = walker.top_level(test_folder) if test_folder else {}
        for name in top_dirs:
            if name not in (SPLIT_TRAIN, test_folder):
                walker.skip(name + "/", f"a second test folder beside {test_folder}/ (only {test_folder}/ is used)")
    else:
        train_dirs, test_dirs = top_dirs, {}
    class_names = tuple(sorted(train_dirs))
    if not class_names:
        raise DatasetError(
            f"{root} holds no class folders; put each class's images in a folder named after the class "
            f"({root}/cat/…, {root}/dog/…)."
        )
    index = {name: i for i, name in enumerate(class_names)}
    train = [(rel, index[name]) for name in class_names for rel in walker.files_under(train_dirs[name])]
    test = []
    for name in sorted(test_dirs):
        files = walker.files_under(test_dirs[name])
        if name in index:
            test.extend((rel, index[name]) for rel in files)
        else:
            walker.skip(f"{test_folder}/{name}/", f"class {name!r} has no folder in train/")
    return FolderScan(root, layout, test_folder, class_names, tuple(train), tuple(test),
                      tuple(walker.skipped), tuple(walker.listing))


def _layout(root: Path, top_dirs: dict[str, str]) -> tuple[str, str | None]:
    """train/ (+ test/ or val/) when the top level holds only split folders, else class folders."""
    names = set(top_dirs)
    if SPLIT_TRAIN not in names or not names <= {SPLIT_TRAIN, *TEST_FOLDER_NAMES}:
        return LAYOUT_CLASS_FOLDERS, None
    try:
        with os.scandir(root / SPLIT_TRAIN) as entries:
            has_subfolders = any(e.is_dir() for e in entries)
    except OSError:
        has_subfolders = False  # reported when train/ is walked as a class folder
    if not has_subfolders:
        return LAYOUT_CLASS_FOLDERS, None  # train/ holds images itself: "train" is a class
    test_folder = next((n for n in TEST_FOLDER_NAMES if n in names), None)
    return LAYOUT_SPLIT_FOLDERS, test_folder


class _Walker:
    """Collects the listing and the skipped entries while walking; stops at MAX_FOLDER_FILES.

    Each folder is read as names (os.listdir) and stat-ed relative to its open descriptor
    (fstatat): a quarter faster than DirEntry.stat on full paths, and this runs on every reload.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.listing: list[tuple[str, int, int]] = []
        self.skipped: list[SkippedFile] = []

    def skip(self, rel: str, reason: str) -> None:
        self.skipped.append(SkippedFile(rel, reason))

    def top_level(self, rel: str) -> dict[str, str]:
        """{folder name: relative path} of the class (or split) folders in ``rel``; loose files skipped."""
        dirs = {}
        for name, child, st in self._stat_entries(rel, loose=True):
            if stat.S_ISDIR(st.st_mode):
                dirs[name] = child  # a linked class folder too: the user's choice; links below are not followed
        return dirs

    def files_under(self, rel_dir: str) -> list[str]:
        """Relative paths of the candidate images anywhere below ``rel_dir``, sorted."""
        found: list[str] = []
        stack = [(rel_dir, 0)]
        while stack:
            rel, depth = stack.pop()
            for name, child, st in self._stat_entries(rel, loose=False, found=found):
                if depth + 1 > MAX_FOLDER_DEPTH:
                    self.skip(child + "/", f"more than {MAX_FOLDER_DEPTH} folder levels deep")
                else:
                    stack.append((child, depth + 1))
        found.sort()
        return found

    def _stat_entries(self, rel: str, *, loose: bool, found: list[str] | None = None):
        """The usable sub-folders of ``rel`` as (name, relative path, stat); files are recorded on the way.

        Candidate images go to ``found``; every other file is skipped with its reason. Links to
        folders are followed only at the top level (``found`` is None there).
        """
        folder = os.path.join(self.root, rel) if rel else str(self.root)
        prefix = rel + "/" if rel else ""
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as exc:
            if not rel:
                raise DatasetError(f"{self.root} cannot be read ({exc.strerror}).") from None
            self.skip(prefix, f"the folder cannot be read ({exc.strerror})")
            return []
        subfolders = []
        try:
            try:
                names = os.listdir(fd)
            except OSError as exc:  # opened but not listable (a folder with -r, some /proc entries)
                if not rel:
                    raise DatasetError(f"{self.root} cannot be read ({exc.strerror}).") from None
                self.skip(prefix, f"the folder cannot be read ({exc.strerror})")
                return []
            if len(self.listing) + len(self.skipped) + len(names) > MAX_FOLDER_FILES:
                raise DatasetError(f"{self.root} holds more than {MAX_FOLDER_FILES:,} files; import a smaller folder.")
            names.sort()
            listing = self.listing
            listing.append((prefix, 0, 0))  # the folder itself: an added empty class changes the key
            for name in names:
                child = prefix + name
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except OSError as exc:
                    self.skip(child, f"cannot be read ({exc.strerror})")
                    continue
                mode = st.st_mode
                if mode & 0o170000 == stat.S_IFREG:  # S_ISREG without a call, in the loop every reload runs
                    size = st.st_size
                    listing.append((child, size, st.st_mtime_ns))
                    dot = name.rfind(".")
                    if (found is not None and dot > 0 and name[dot:].lower() in IMAGE_SUFFIXES
                            and 0 < size <= MAX_IMAGE_FILE_BYTES):
                        found.append(child)  # the common case, kept inline
                    else:
                        self._skip_file(child, name, size, loose=loose)
                elif stat.S_ISDIR(mode):
                    if name[0] == "." or name in SYSTEM_FOLDERS:
                        self.skip(child + "/", "a hidden or system folder")
                    else:
                        subfolders.append((name, child, st))
                elif stat.S_ISLNK(mode):
                    self._link(name, child, subfolders, found, loose=loose)
                else:
                    self.skip(child, "not a regular file (a pipe, socket or device)")
        finally:
            os.close(fd)
        return subfolders

    def _link(self, name: str, child: str, subfolders: list, found: list[str] | None, *, loose: bool) -> None:
        path = os.path.join(self.root, child)
        try:
            st = check_regular_file(path, "image")  # follows the link; pipes and devices refused
        except NotARegularFileError:
            if _is_dir(path) and found is None:
                subfolders.append((name, child, os.stat(path)))
            elif _is_dir(path):
                self.skip(child + "/", "a link to a folder (not followed, it may loop)")
            else:
                self.skip(child, "not a regular file (a pipe, socket or device)")
            return
        except OSError as exc:
            self.skip(child, f"cannot be read ({exc.strerror or 'broken link'})")
            return
        self.listing.append((child, st.st_size, st.st_mtime_ns))
        if found is not None and self._skip_file(child, name, st.st_size, loose=loose) is None:
            found.append(child)

    def _skip_file(self, child: str, name: str, size: int, *, loose: bool) -> str | None:
        """Skip a file that is no candidate image, with its reason; None (nothing skipped) for a candidate."""
        dot = name.rfind(".")
        suffix = name[dot:] if dot > 0 else ""
        if name[0] == ".":
            reason = "a hidden file"
        elif suffix.lower() not in IMAGE_SUFFIXES:
            reason = f"not an image ({suffix})" if suffix else "not an image (no suffix)"
        elif loose:
            reason = "not inside a class folder"
        elif size == 0:
            reason = "an empty file (0 bytes)"
        elif size > MAX_IMAGE_FILE_BYTES:
            reason = f"{size / 2**20:,.0f} MB, more than the {MAX_IMAGE_FILE_BYTES // 2**20} MB an image file may have"
        else:
            return None
        self.skip(child, reason)
        return reason


def _is_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False
