"""Notice when a file is changed by another program (e.g. ``datasets.json`` by ``python main.py datasets
add``). The file and its folder are both watched: an atomic write replaces the file, which a watch on the
file alone loses. Changes settle for a moment and count only when the file's size, time or inode moved."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

SETTLE_MS = 250  # a writer's temp file, rename and lock file arrive as one change


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class FileWatch(QObject):
    """``changed`` is emitted (on the GUI thread) after ``path`` was written, replaced or removed."""

    changed = Signal()

    def __init__(self, path: str | os.PathLike, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._stamp = _stamp(self.path)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._poke)
        self._watcher.directoryChanged.connect(self._poke)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._check)
        self._watch()

    def _watch(self) -> None:
        """Watch the file if it is there, and the nearest folder above it that exists (the home folder may
        not exist until the first dataset is added)."""
        wanted = [self.path] if self.path.exists() else []
        folder = self.path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        wanted.append(folder)
        watched = set(self._watcher.files()) | set(self._watcher.directories())
        for p in wanted:
            if str(p) not in watched:
                self._watcher.addPath(str(p))

    @Slot(str)
    def _poke(self, _path: str) -> None:
        self._watch()  # a replaced file drops out of the watch list: watch the new one
        self._settle.start()

    @Slot()
    def _check(self) -> None:
        stamp = _stamp(self.path)
        if stamp != self._stamp:
            self._stamp = stamp
            self.changed.emit()
