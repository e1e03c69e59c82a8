"""Files the sources and documents cite exist in the repository, and nothing points at one machine's folders."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A repository path as docstrings, comments and the README cite one: `docs/DESIGN.md`, `benchmarks/bench_gui.py`.
CITED = re.compile(
    r"(?<![\w/.~-])((?:docs|benchmarks|scripts|tests|workbench|resources|\.ci)/[\w./-]*\w\.(?:py|md|qss|sh|png|svg|toml|desktop))\b"
)
PLACEHOLDERS = ("NAME", "<", "*")


def _tracked_text_files() -> list[Path]:
    try:
        names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist): walk the tree
        names = [str(p.relative_to(REPO)) for p in REPO.rglob("*") if ".venv" not in p.parts and p.is_file()]
    return [REPO / n for n in names if n.endswith((".py", ".md", ".sh", ".toml")) or n.startswith(".ci/")]


def test_every_cited_repository_file_exists():
    missing = []
    for path in _tracked_text_files():
        if not path.is_file():
            continue
        for match in CITED.finditer(path.read_text(encoding="utf-8", errors="replace")):
            cited = match.group(1)
            if not any(p in cited for p in PLACEHOLDERS) and not (REPO / cited).exists():
                missing.append(f"{path.relative_to(REPO)} cites {cited}")
    assert not missing, missing


def test_no_absolute_paths_to_this_machines_shared_folder():
    this_file = Path(__file__).resolve()
    offenders = [
        str(path.relative_to(REPO)) for path in _tracked_text_files()
        if path.is_file() and path.resolve() != this_file and "/work/shared" in path.read_text(errors="replace")
    ]
    assert not offenders, offenders
