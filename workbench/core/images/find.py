"""Finding the image files among the paths a user gave: files as given, folders searched."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Iterable

from workbench.core.text import sanitize

from .errors import ImageReadError
from .read import not_regular

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
# Files looked at when a folder is given: enough for any photo collection, and walking stays seconds.
MAX_FOLDER_FILES = 100_000


@dataclass(frozen=True)
class ImageFiles:
    """Image files found among the paths a user gave (folders searched), in order."""

    files: tuple[str, ...]
    skipped: int  # files in the folders that are not images (by their suffix)


def collect_image_files(paths: Iterable[str | os.PathLike]) -> ImageFiles:
    """Files as given, and for each folder the images inside it (recursively, sorted by path).

    Inside folders only files with an image suffix are taken; the others are counted as skipped.
    Raises ImageReadError for a path that does not exist or is a pipe/device, and for folders
    holding more than MAX_FOLDER_FILES files.
    """
    files: list[str] = []
    skipped = 0
    looked_at = 0
    for given in paths:
        path = os.fspath(given)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise ImageReadError(f"There is no image or folder at {sanitize(path)}.") from None
        except OSError as exc:
            raise ImageReadError(f"{sanitize(path)} cannot be read ({exc.strerror}).") from None
        if stat.S_ISREG(st.st_mode):
            files.append(path)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise ImageReadError(not_regular(path))
        found = []
        for root, dirs, names in os.walk(path):
            dirs.sort()
            looked_at += len(names)
            if looked_at > MAX_FOLDER_FILES:
                raise ImageReadError(
                    f"{sanitize(path)} holds more than {MAX_FOLDER_FILES:,} files; classify a smaller folder."
                )
            for name in names:
                full = os.path.join(root, name)
                if name.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(full):
                    found.append(full)
                else:
                    skipped += 1
        files.extend(sorted(found))
    return ImageFiles(tuple(files), skipped)
