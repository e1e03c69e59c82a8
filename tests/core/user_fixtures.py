"""User image collections for the user-dataset tests: a messy RGB tree, a grayscale one, archives of them."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.core.folder_fixtures import class_tree, noise, save

# Unicode, spaces and mixed case: class names must come through exactly as written.
MESSY_CLASSES = {"Katze 猫": 6, "chien": 5, "Éléphant": 4}


def messy_tree(root: Path) -> Path:
    """ROOT/<class>/… with no test split, a nested subfolder, a corrupt JPEG, a 0-byte PNG and a .txt."""
    class_tree(root, MESSY_CLASSES, size=(20, 14))
    save(root / "chien" / "vacances" / "deep.png", noise((20, 14), 777))  # nested: counts for "chien"
    (root / "chien" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "Éléphant" / "empty.png").write_bytes(b"")
    (root / "Katze 猫" / "notes.txt").write_text("not an image")
    return root


def gray_tree(root: Path) -> Path:
    """A 64×64 grayscale set with its own train/ and test/ folders."""
    class_tree(root / "train", {"zero": 6, "one": 6}, size=(64, 64), mode="L")
    class_tree(root / "test", {"zero": 2, "one": 2}, size=(64, 64), mode="L", seed=9)
    return root


def zip_of(folder: Path, archive: Path, top: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(folder.rglob("*")):
            name = p.relative_to(folder).as_posix()
            zf.write(p, f"{top}/{name}" if top else name)
    return archive


def targz_of(folder: Path, archive: Path, top: str) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=top)
    return archive


def tar_with_link(archive: Path) -> Path:
    """A .tar.gz of one class folder plus a symlink pointing at /etc/passwd: must be refused."""
    with tarfile.open(archive, "w:gz") as tar:
        buf = io.BytesIO()
        noise((8, 8), 1).save(buf, "PNG")
        for cls in ("a", "b"):
            info = tarfile.TarInfo(f"set/{cls}/x.png")
            info.size = len(buf.getvalue())
            tar.addfile(info, io.BytesIO(buf.getvalue()))
        link = tarfile.TarInfo("set/a/passwd.png")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    return archive


def zip_escaping(archive: Path) -> Path:
    """A .zip with an entry named ../../escaped.png: must be refused before anything is written."""
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("set/a/ok.png", b"x")
        zf.writestr("../../escaped.png", b"x")
    return archive


@pytest.fixture
def user_home(tmp_path, monkeypatch):
    """A fresh WORKBENCH_HOME (datasets.json) and cache for each test."""
    home, cache = tmp_path / "home", tmp_path / "cache"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("WORKBENCH_CACHE", str(cache))
    return home


def encrypted_zip(archive: Path) -> Path:
    """A .zip whose entries are marked encrypted (bit 0 of each header's flags), as `zip -P` makes them."""
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("set/a/x.png", b"x" * 10)
        zf.writestr("set/b/y.png", b"y" * 10)
    data = bytearray(archive.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + flags_at] |= 0x1
            start += 4
    archive.write_bytes(bytes(data))
    return archive
