"""The exceptions the dataset code raises: each carries one readable sentence naming the file."""

from __future__ import annotations

from pathlib import Path


class DatasetError(Exception):
    """A dataset file is missing, damaged or not what it claims to be."""


class DatasetNotFound(DatasetError):
    """No copy of the dataset was found.

    The message is neutral (what was searched, what to put there); front ends add how to download
    in their own terms: ``cli_hint`` for the command line, ``gui_hint`` for the window.
    """

    # Keyword defaults keep the exception copyable and picklable (those rebuild it from the message alone).
    def __init__(self, message: str, *, dataset_id: str = "", title: str = "", searched: tuple[Path, ...] = (),
                 incomplete: tuple[tuple[Path, tuple[str, ...]], ...] = (),
                 folder_name: str = "", archive_name: str = "", url: str = "") -> None:
        super().__init__(message)
        self.dataset_id = dataset_id
        self.title = title
        self.searched = searched  # folders looked in, in order
        self.incomplete = incomplete  # (folder, names of missing files) for half-present copies
        self.folder_name = folder_name
        self.archive_name = archive_name
        self.url = url

    @property
    def cli_hint(self) -> str:
        return f"Run `workbench download {self.dataset_id}` or pass --download to fetch it."

    @property
    def gui_hint(self) -> str:
        return f"Click Download to fetch {self.title}."


class UnsafePickleError(DatasetError):
    """A pickle asked for a global outside the few that the official CIFAR files use."""


class DownloadCancelled(DatasetError):
    """The caller's cancel flag was set while a download was running."""


class ImportCancelled(DatasetError):
    """The caller set the cancel event while importing images; nothing was cached or remembered."""
