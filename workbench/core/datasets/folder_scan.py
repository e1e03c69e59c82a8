"""Finding the labelled images in a user's folder: ROOT/<class>/… or ROOT/train|test|val/<class>/….

Only names and `stat` results are read here (no file is opened), so a scan of 50,000 files takes
a fraction of a second and is repeated on every load to tell whether a cache is still current.
Files that cannot be images (other suffixes, hidden files, 0 bytes, too large, pipes and devices)
are listed with a reason instead of stopping the scan.
"""

from __future__ import annotations

import operator
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from workbench.core.files import NotARegularFileError, check_regular_file
from workbench.core.images import IMAGE_SUFFIXES

from .errors import DatasetError

# Files looked at in one folder tree: ImageNet's 1.28 million training images fit; the file list
# (a few hundred bytes a file) stays well under 1 GB and the walk under a minute.
MAX_FOLDER_FILES = 2_000_000
# Subfolder levels below a class folder: real collections nest a few levels (year/month/day);
# deeper trees are usually a link loop or something that is not a photo collection.
MAX_FOLDER_DEPTH = 32
# Largest image file read: a 100-megapixel camera JPEG is about 50 MB, a 24-megapixel 16-bit TIFF
# about 144 MB; every decoding worker holds one file's bytes at a time.
MAX_IMAGE_FILE_BYTES = 160 * 2**20

SPLIT_TRAIN = "train"
# Names accepted for the test split beside train/, in order of preference.
TEST_FOLDER_NAMES = ("test", "val", "validation")
# Folders that hold the operating system's bookkeeping, never a class.
SYSTEM_FOLDERS = ("__MACOSX", "$RECYCLE.BIN", "System Volume Information")

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
    root = Path(root).expanduser()
    try:
        st = root.stat()
    except FileNotFoundError:
        raise DatasetError(f"There is no folder at {root}; choose a folder that holds one folder per class.") from None
    except OSError as exc:
        raise DatasetError(f"{root} cannot be read ({exc.strerror}).") from None
    if not stat.S_ISDIR(st.st_mode):
        raise DatasetError(f"{root} is not a folder; choose a folder that holds one folder per class.")
    walker = _Walker(root)
    top_dirs = walker.top_level(root, "")
    layout, test_folder = _layout(root, top_dirs)
    if layout == LAYOUT_SPLIT_FOLDERS:
        train_dirs = walker.top_level(root / SPLIT_TRAIN, SPLIT_TRAIN + "/")
        test_dirs = walker.top_level(root / test_folder, test_folder + "/") if test_folder else {}
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
    if not any(e.is_dir(follow_symlinks=False) for e in os.scandir(root / SPLIT_TRAIN)):
        return LAYOUT_CLASS_FOLDERS, None  # train/ holds images itself: "train" is a class
    test_folder = next((n for n in TEST_FOLDER_NAMES if n in names), None)
    return LAYOUT_SPLIT_FOLDERS, test_folder


class _Walker:
    """Collects the listing and the skipped entries while walking; stops at MAX_FOLDER_FILES."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.listing: list[tuple[str, int, int]] = []
        self.skipped: list[SkippedFile] = []

    def skip(self, rel: str, reason: str) -> None:
        self.skipped.append(SkippedFile(rel, reason))

    def top_level(self, folder: Path, prefix: str) -> dict[str, str]:
        """{folder name: relative path} of the class (or split) folders in ``folder``; loose files skipped."""
        dirs = {}
        for entry in self._entries(folder):
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name.startswith(".") or entry.name in SYSTEM_FOLDERS:
                    self.skip(rel + "/", "a hidden or system folder")
                else:
                    dirs[entry.name] = rel
            elif entry.is_symlink() and _is_dir(entry.path):
                dirs[entry.name] = rel  # a linked class folder is the user's choice; links below it are not followed
            else:
                self._file(entry, rel, loose=True)
        return dirs

    def files_under(self, rel_dir: str) -> list[str]:
        """Relative paths of the candidate images anywhere below ``rel_dir``, sorted."""
        found: list[str] = []
        listing = self.listing
        stack = [(rel_dir, 0)]
        while stack:
            rel, depth = stack.pop()
            prefix = rel + "/"
            for entry in self._entries(self.root / rel):
                name = entry.name
                child = prefix + name
                if entry.is_file(follow_symlinks=False) and name[0] != ".":
                    # The common case inline (this loop runs on every reload to check the cache).
                    st = entry.stat(follow_symlinks=False)
                    size = st.st_size
                    listing.append((child, size, st.st_mtime_ns))
                    dot = name.rfind(".")
                    if dot > 0 and name[dot:].lower() in IMAGE_SUFFIXES and 0 < size <= MAX_IMAGE_FILE_BYTES:
                        found.append(child)
                    else:
                        listing.pop()
                        self._file(entry, child, loose=False)  # records it with the reason
                elif entry.is_dir(follow_symlinks=False):
                    if entry.name.startswith(".") or entry.name in SYSTEM_FOLDERS:
                        self.skip(child + "/", "a hidden or system folder")
                    elif depth + 1 > MAX_FOLDER_DEPTH:
                        self.skip(child + "/", f"more than {MAX_FOLDER_DEPTH} folder levels deep")
                    else:
                        stack.append((child, depth + 1))
                elif entry.is_symlink() and _is_dir(entry.path):
                    self.skip(child + "/", "a link to a folder (not followed, it may loop)")
                elif self._file(entry, child, loose=False):
                    found.append(child)
        found.sort()
        return found

    def _entries(self, folder: Path) -> list[os.DirEntry]:
        """The folder's entries sorted by name; the folder itself is listed (an added empty class shows)."""
        self.listing.append((_rel(folder, self.root) + "/", 0, 0))
        entries = []
        room = MAX_FOLDER_FILES - len(self.listing) - len(self.skipped)
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    entries.append(entry)
                    if len(entries) > room:
                        raise DatasetError(
                            f"{self.root} holds more than {MAX_FOLDER_FILES:,} files; import a smaller folder."
                        )
        except OSError as exc:
            if folder == self.root:
                raise DatasetError(f"{self.root} cannot be read ({exc.strerror}).") from None
            self.skip(_rel(folder, self.root) + "/", f"the folder cannot be read ({exc.strerror})")
            return []
        entries.sort(key=_by_name)
        return entries

    def _file(self, entry: os.DirEntry, rel: str, *, loose: bool) -> bool:
        """Record one file; True when it is a candidate image."""
        try:
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
            else:
                st = check_regular_file(entry.path, "image")  # a link is followed; pipes and devices refused
        except NotARegularFileError:
            self.skip(rel, "not a regular file (a pipe, socket or device)")
            return False
        except OSError as exc:
            self.skip(rel, f"cannot be read ({exc.strerror or 'broken link'})")
            return False
        self.listing.append((rel, st.st_size, st.st_mtime_ns))
        name = entry.name
        suffix = name[name.rfind("."):] if "." in name else ""
        if name[0] == ".":
            self.skip(rel, "a hidden file")
        elif suffix.lower() not in IMAGE_SUFFIXES:
            self.skip(rel, f"not an image ({suffix})" if suffix else "not an image (no suffix)")
        elif loose:
            self.skip(rel, "not inside a class folder")
        elif st.st_size == 0:
            self.skip(rel, "an empty file (0 bytes)")
        elif st.st_size > MAX_IMAGE_FILE_BYTES:
            self.skip(rel, f"{st.st_size / 2**20:,.0f} MB, more than the {MAX_IMAGE_FILE_BYTES // 2**20} MB "
                           "an image file may have")
        else:
            return True
        return False


_by_name = operator.attrgetter("name")


def _is_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
