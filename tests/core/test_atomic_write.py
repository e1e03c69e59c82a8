"""The one atomic write: through links, keeping permissions, refusing what is not a regular file.

Real files, links, FIFOs and devices; nothing the user had is replaced or lost."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.atomic_write import NotAFileError, write_bytes_atomic, write_text_atomic


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_symlink_is_written_through_to_its_target(tmp_path):
    real = tmp_path / "data" / "report.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write_text_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)  # the link stays a link
    assert real.read_text() == "new"
    assert _leftovers(tmp_path) == [] and _leftovers(real.parent) == []


def test_a_chain_of_links_and_a_dangling_link_reach_the_final_target(tmp_path):
    real = tmp_path / "real.txt"
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(real)  # dangling until written
    write_text_atomic(tmp_path / "a", "made")
    assert real.read_text() == "made" and (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


def test_an_existing_file_keeps_its_permissions(tmp_path):
    for mode in (0o644, 0o640, 0o755, 0o444):
        path = tmp_path / f"f{mode:o}"
        path.write_text("old")
        path.chmod(mode)
        write_text_atomic(path, "new")
        assert stat.S_IMODE(path.stat().st_mode) == mode and path.read_text() == "new"


def test_a_new_file_gets_the_umask_mode_not_600(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


@pytest.mark.parametrize("kind", ["fifo", "folder", "socket", "link to fifo"])
def test_a_fifo_folder_or_socket_is_refused_and_kept(tmp_path, kind):
    import socket

    path = tmp_path / "target"
    sock = None
    if kind in ("fifo", "link to fifo"):
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    written = path
    if kind == "link to fifo":
        written = tmp_path / "link"
        written.symlink_to(path)
    try:
        with pytest.raises(NotAFileError) as caught:
            write_bytes_atomic(written, b"data")
    finally:
        if sock is not None:
            sock.close()
    message = str(caught.value)
    assert "\n" not in message and str(written) in message and "not a file" in message
    mode = os.lstat(path).st_mode
    assert {"fifo": stat.S_ISFIFO, "link to fifo": stat.S_ISFIFO, "folder": stat.S_ISDIR,
            "socket": stat.S_ISSOCK}[kind](mode)
    assert _leftovers(tmp_path) == []


def char_device(tmp_path, name="full"):
    """A character device to aim at: as root a private node (a bug must never replace the system's /dev/full),
    else /dev/null, which a non-root process cannot replace."""
    if os.geteuid() == 0:
        node = tmp_path / name
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 7 if name == "full" else 3))
        return node
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null here")
    return Path("/dev/null")


@pytest.mark.parametrize("name", ["null", "full"])
def test_a_device_is_refused_never_replaced(tmp_path, name):
    device = char_device(tmp_path, name)
    before = os.lstat(device)
    with pytest.raises(NotAFileError, match="character device"):
        write_text_atomic(device, "csv")
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_refused_write_is_an_oserror_callers_already_handle(tmp_path):
    assert issubclass(NotAFileError, OSError)


_NAME_BYTES = st.binary(min_size=1, max_size=60).filter(lambda b: b"/" not in b and b"\0" not in b
                                                       and b not in (b".", b"..", b"neighbour"))


@settings(max_examples=50, deadline=None)
@given(name=_NAME_BYTES, old=st.binary(max_size=2048), new=st.binary(max_size=4096),
       mode=st.sampled_from([0o600, 0o640, 0o644, 0o664, 0o444, 0o755]), via_link=st.booleans())
def test_any_name_bytes_and_mode_round_trip_and_nothing_else_is_touched(tmp_path_factory, name, old, new, mode,
                                                                        via_link):
    folder = tmp_path_factory.mktemp("aw")
    target = os.path.join(os.fsencode(folder), name)
    with open(target, "wb") as f:
        f.write(old)
    os.chmod(target, mode)
    neighbour = folder / "neighbour"
    neighbour.write_bytes(b"keep")
    written = target
    if via_link:
        written = os.path.join(os.fsencode(folder), b"link-to-" + name[:40])
        if os.path.lexists(written):
            return
        os.symlink(target, written)
    write_bytes_atomic(os.fsdecode(written), new)
    with open(target, "rb") as f:
        assert f.read() == new
    assert stat.S_IMODE(os.stat(target).st_mode) == mode and os.path.islink(written) == via_link
    assert neighbour.read_bytes() == b"keep"
    assert sorted(os.listdir(os.fsencode(folder))) == sorted({name, b"neighbour", os.path.basename(written)})
