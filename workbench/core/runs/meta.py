"""A run's own labels, kept in its folder as meta.json: a display name, tags and a note.

The file is written atomically and validated on read; a damaged or hostile file reads as empty
labels plus one sentence saying what was wrong, never as an error.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from workbench.core.atomic_write import write_json_atomic
from workbench.core.files import check_regular_file
from workbench.core.runs.folder import link_refusal
from workbench.core.text import sanitize

META_FILE = "meta.json"
MAX_META_BYTES = 64 * 1024  # a name, a few tags and a note fit easily; a bigger file is not ours
MAX_TAGS = 32  # more tags than fit in a table cell are a mistake, not a label
MAX_NOTE_CHARS = 2000  # a paragraph; the table shows the first line
MAX_NAME_CHARS = 120  # a display name is a short label
TAG_PATTERN = re.compile(r"^[\w.:+-]{1,40}$")  # one word: no spaces or commas, so filters and CSV stay simple


class MetaError(ValueError):
    """A tag, note or name the user gave cannot be stored; the message is one sentence."""


@dataclass(frozen=True)
class RunMeta:
    name: str = ""  # display name ("" = the folder name)
    tags: tuple[str, ...] = ()
    note: str = ""


def check_tag(tag: str) -> str:
    tag = tag.strip()
    if not TAG_PATTERN.match(tag):
        raise MetaError(f"The tag {sanitize(tag, 60)!r} is not one word of up to 40 letters, digits or . : + - _; "
                        "use a short tag without spaces.")
    return tag


def check_name(name: str) -> str:
    name = sanitize(name.strip(), MAX_NAME_CHARS + 1)
    if len(name) > MAX_NAME_CHARS:
        raise MetaError(f"The name is longer than {MAX_NAME_CHARS} characters; choose a shorter one.")
    return name


def check_note(note: str) -> str:
    # Keep line breaks in a note, drop every other control character.
    lines = [sanitize(line, MAX_NOTE_CHARS + 1) for line in note.strip().splitlines()]
    note = "\n".join(lines)
    if len(note) > MAX_NOTE_CHARS:
        raise MetaError(f"The note is longer than {MAX_NOTE_CHARS} characters; shorten it.")
    return note


def read_meta(run_dir: str | os.PathLike) -> tuple[RunMeta, str]:
    """The run's labels and "" — or empty labels and one sentence saying why meta.json was ignored."""
    path = Path(run_dir) / META_FILE
    if not os.path.lexists(path):
        return RunMeta(), ""
    try:
        st = check_regular_file(path, "meta.json file")
        if st.st_size > MAX_META_BYTES:
            return RunMeta(), f"{path} is larger than {MAX_META_BYTES // 1024} KiB, so its labels were ignored."
        with open(path, encoding="utf-8") as f:
            data = json.loads(f.read(MAX_META_BYTES + 1))
    except (OSError, ValueError) as exc:
        return RunMeta(), f"{path} could not be read ({sanitize(exc, 120)}), so its labels were ignored."
    if not isinstance(data, dict):
        return RunMeta(), f"{path} is not a JSON object, so its labels were ignored."
    problems = []
    name = data.get("name", "")
    if not isinstance(name, str):
        name = ""
        problems.append("name")
    tags_in = data.get("tags", [])
    tags: list[str] = []
    if isinstance(tags_in, list):
        for tag in tags_in[:MAX_TAGS]:
            if isinstance(tag, str) and TAG_PATTERN.match(tag) and tag not in tags:
                tags.append(tag)
            else:
                problems.append("tags")
    else:
        problems.append("tags")
    note = data.get("note", "")
    if not isinstance(note, str):
        note = ""
        problems.append("note")
    meta = RunMeta(sanitize(name, MAX_NAME_CHARS), tuple(tags), "\n".join(
        sanitize(line, MAX_NOTE_CHARS) for line in note.splitlines())[:MAX_NOTE_CHARS])
    why = f"{path} has invalid {', '.join(sorted(set(problems)))}, which were ignored." if problems else ""
    return meta, why


def write_meta(run_dir: str | os.PathLike, meta: RunMeta) -> None:
    refusal = link_refusal(run_dir)
    if refusal:
        raise MetaError(refusal)
    if not (Path(run_dir) / "config.json").is_file():
        raise MetaError(f"{run_dir} is not a run folder (it has no config.json); choose a run from `runs`.")
    if (Path(run_dir) / META_FILE).is_symlink():
        raise MetaError(f"{Path(run_dir) / META_FILE} is a symbolic link, so the labels were not written "
                        "through it; remove the link first.")
    write_json_atomic(Path(run_dir) / META_FILE, {"name": meta.name, "tags": list(meta.tags), "note": meta.note})


def add_tag(run_dir: str | os.PathLike, tag: str) -> RunMeta:
    tag = check_tag(tag)
    meta, _ = read_meta(run_dir)
    if tag not in meta.tags:
        if len(meta.tags) >= MAX_TAGS:
            raise MetaError(f"The run already has {MAX_TAGS} tags; remove one first.")
        meta = replace(meta, tags=meta.tags + (tag,))
        write_meta(run_dir, meta)
    return meta


def remove_tag(run_dir: str | os.PathLike, tag: str) -> RunMeta:
    meta, _ = read_meta(run_dir)
    meta = replace(meta, tags=tuple(t for t in meta.tags if t != tag.strip()))
    write_meta(run_dir, meta)
    return meta


def set_note(run_dir: str | os.PathLike, note: str) -> RunMeta:
    meta = replace(read_meta(run_dir)[0], note=check_note(note))
    write_meta(run_dir, meta)
    return meta


def set_name(run_dir: str | os.PathLike, name: str) -> RunMeta:
    meta = replace(read_meta(run_dir)[0], name=check_name(name))
    write_meta(run_dir, meta)
    return meta


def set_meta(run_dir: str | os.PathLike, meta: RunMeta) -> None:
    """Put back labels read earlier (the window's Undo)."""
    write_meta(run_dir, meta)
