"""Sentences for the window: the core's messages speak CLI terms (flags); the window speaks buttons."""

from __future__ import annotations

import re

from workbench.core.datasets import DATASETS, search_roots

_CIFAR_ARCHIVE_MB = {"cifar10": 163, "cifar100": 161, "cifar100-coarse": 161}  # official archive sizes (MiB)
# What Download fetches, for the button text: the CIFAR archives, or the sum of a set's official files.
ARCHIVE_MB = {
    **_CIFAR_ARCHIVE_MB,
    **{ds: max(1, round(sum(f.size for f in info.files) / 2**20)) for ds, info in DATASETS.items() if info.files},
}

# CLI phrases a core message may hold -> what the user does in the window instead
_CLI_TO_WINDOW = (
    (re.compile(r"\s*\(download=True\)"), ""),
    (re.compile(r"(re-?run|run it again|try again) with --download\b"), "press Download on the Dataset tab"),
    (re.compile(r"--download\b"), "the Download button on the Dataset tab"),
    (re.compile(r"\b(?:pass|give|use|with) --data-dir(?: [A-Z_]+)?"), "use Open folder or archive… on the Dataset tab"),
    (re.compile(r"--data-dir(?: [A-Z_]+)?"), "Open folder or archive… on the Dataset tab"),
    (re.compile(r"--limit(?: N)?"), "the Test images box"),
    (re.compile(r"--preprocessing(?: [A-Z_]+)?"), "the Preprocessing choice in the model box"),
    (re.compile(r"--class-names(?: [A-Z_]+)?"), "the Class names choice in the model box"),
    (re.compile(r"--arch(?: [A-Z_]+)?"), "the architecture choice in the model box"),
    (re.compile(r"--trust(?:-lambda)?\b"), "the Trust button in the model box"),
)


def in_window_terms(message: str) -> str:
    """``message`` with CLI flags replaced by the buttons that do the same in the window."""
    for pattern, replacement in _CLI_TO_WINDOW:
        message = pattern.sub(replacement, message)
    return message


def not_found_text(dataset_id: str, data_dir: str | None) -> str:
    """Where a missing dataset was looked for, and the buttons that get it."""
    info = DATASETS.get(dataset_id)
    title = info.title if info else dataset_id
    searched = ", ".join(str(p) for p in search_roots(data_dir))
    size = f" (about {ARCHIVE_MB[dataset_id]} MB)" if dataset_id in ARCHIVE_MB else ""
    fetch = f"Press Download{size} to fetch it, or" if info and info.url else "Please"
    return f"{title} was not found in {searched}.\n\n{fetch} use Open folder or archive… if you already have it."
