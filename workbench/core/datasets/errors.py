"""The exceptions the dataset code raises: each carries one readable sentence naming the file."""

from __future__ import annotations


class DatasetError(Exception):
    """A dataset file is missing, damaged or not what it claims to be."""


class DatasetNotFound(DatasetError):
    """No copy of the dataset was found; the message names the folders searched and what to put there."""


class UnsafePickleError(DatasetError):
    """A pickle asked for a global outside the few that the official CIFAR files use."""


class DownloadCancelled(DatasetError):
    """The caller's cancel flag was set while a download was running."""
