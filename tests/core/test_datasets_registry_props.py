"""Property tests of the user-datasets registry file: any name, path or class name either round-trips
exactly or is refused in one sentence, and nothing already in the file is lost, also with concurrent writers."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.datasets import DatasetError, read_registry
from workbench.core.datasets.user_datasets import UserDataset, check_name, registry_path, update_registry

# A file name: 1 to 255 bytes, anything but "/" and NUL (what Linux allows).
FILE_NAME = st.binary(min_size=1, max_size=255).filter(lambda b: b"/" not in b and b"\0" not in b)
# A path: up to 4096 bytes, anything but NUL.
PATH = st.binary(min_size=1, max_size=4096).filter(lambda b: b"\0" not in b).map(lambda b: os.fsdecode(b"/" + b))
CLASS_NAME = FILE_NAME.map(lambda b: b.decode("utf-8", "backslashreplace"))  # as folder import shows it
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@contextlib.contextmanager
def fresh_home(tmp_path_factory):
    home = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    old = os.environ.get("WORKBENCH_HOME")
    os.environ["WORKBENCH_HOME"] = str(home)
    try:
        yield home
    finally:
        os.environ["WORKBENCH_HOME"] = old if old is not None else ""


def entry(name: str, source: str, classes: tuple[str, ...]) -> UserDataset:
    return UserDataset(name, source, source, None, None, "crop", classes, 3, 1, (8, 8, 3), "2026-12-06T10:00:00+00:00")


def one_sentence(exc: Exception) -> bool:
    text = str(exc)
    return bool(text) and "\n" not in text and text.rstrip(")").endswith(".") and "Traceback" not in text


def add(name: str, item: UserDataset) -> None:
    def change(datasets):
        datasets[name] = item
        return datasets
    update_registry(change)


@PROPS
@given(name=st.text(max_size=80) | st.sampled_from(["ok", "Katzen 猫", "a" * 60]), source=PATH,
       classes=st.lists(CLASS_NAME, min_size=1, max_size=5, unique=True))
def test_any_entry_round_trips_or_is_refused_and_keeps_the_others(tmp_path_factory, name, source, classes):
    with fresh_home(tmp_path_factory):
        add("before", entry("before", "/data/x", ("a", "b")))
        on_disk = registry_path().read_bytes()
        try:
            tidy = check_name(name)
        except DatasetError as exc:
            assert one_sentence(exc)
            return
        if tidy.casefold() == "before":
            return
        item = entry(tidy, source, tuple(classes))
        try:
            add(tidy, item)
        except DatasetError as exc:
            assert one_sentence(exc) and registry_path().read_bytes() == on_disk
            return
        registry = read_registry()
        assert registry.warning is None
        assert registry.datasets == {"before": entry("before", "/data/x", ("a", "b")), tidy: item}
        assert os.fsencode(registry.datasets[tidy].source) == os.fsencode(source)
        registry_path().read_bytes().decode("utf-8")  # valid UTF-8 on disk, whatever the path's bytes


@PROPS
@given(garbage=st.binary(max_size=2000))
def test_an_unreadable_file_is_never_overwritten(tmp_path_factory, garbage):
    with fresh_home(tmp_path_factory) as home:
        registry_path().parent.mkdir(parents=True, exist_ok=True)
        registry_path().write_bytes(garbage)
        unreadable = read_registry().warning is not None
        add("new", entry("new", "/data/new", ("a",)))
        kept = sorted(home.glob("datasets.json.unreadable-*"))
        if unreadable:
            assert [p.read_bytes() for p in kept] == [garbage]
            assert list(read_registry().datasets) == ["new"]
        else:
            assert kept == [] and "new" in read_registry().datasets


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writers=st.integers(2, 6), each=st.integers(1, 8))
def test_concurrent_writers_lose_nothing(tmp_path_factory, writers, each):
    with fresh_home(tmp_path_factory):
        add("before", entry("before", "/data/x", ("a",)))
        errors: list[Exception] = []

        def write(w: int) -> None:
            try:
                for i in range(each):
                    add(f"w{w}-{i}", entry(f"w{w}-{i}", f"/data/{w}/{i}", ("a", "b")))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert set(read_registry().datasets) == {"before"} | {f"w{w}-{i}" for w in range(writers)
                                                              for i in range(each)}
