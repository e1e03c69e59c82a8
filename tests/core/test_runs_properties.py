"""Property tests for the files the runs package reads and writes: the queue file, meta.json, run folders
and the CSV/Markdown exports. Arbitrary names, bytes and sizes round-trip or are refused in one sentence,
and nothing already there is lost. No TensorFlow here."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.run_fixtures import write_run
from workbench.core.runs import export, meta, table
from workbench.core.runs.queue import QueueError, RunQueue, read_queue
from workbench.core.training.config import TrainConfig

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TINY = dict(dataset="builtin", arch="embedded_cnn", epochs=1, batch_size=8, limit=16)

# Names a Linux file system takes: no "/" or NUL, not "." or "..", at most 255 bytes; any other bytes,
# non-UTF-8 ones included (they reach Python as surrogate escapes).
folder_names = st.binary(min_size=1, max_size=60).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..") and not b.startswith(b".")
).map(os.fsdecode)
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)  # lone surrogates too


def _one_sentence(text: str) -> bool:
    return bool(text) and "\n" not in text and "Traceback" not in text


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("props")


def _fresh(scratch: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=scratch))


# ---- the queue file ---------------------------------------------------------------------------------

@SETTINGS
@given(labels=st.lists(any_text, min_size=1, max_size=5), dataset=any_text.filter(str.strip))
def test_queue_items_round_trip(scratch, labels, dataset):
    queue = RunQueue(_fresh(scratch) / "queue.json")
    added = [queue.add(TrainConfig(**{**TINY, "dataset": dataset}), label=label) for label in labels]
    state = read_queue(queue.path)
    assert [i.id for i in state.items] == [i.id for i in added]
    assert [i.label for i in state.items] == [label[:200] for label in labels]
    assert all(i.config.dataset == dataset for i in state.items)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=2000),
                      st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
                                   lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                        max_size=4),
                                   max_leaves=20).map(lambda v: json.dumps({"format": 1, "items": [v]}).encode())))
def test_a_planted_queue_file_reads_or_is_refused_in_one_sentence_and_is_kept(scratch, data):
    path = _fresh(scratch) / "queue.json"
    path.write_bytes(data)
    try:
        read_queue(path)
    except QueueError as exc:
        assert _one_sentence(str(exc)), str(exc)
        with pytest.raises(QueueError):  # an edit of an unreadable queue refuses too ...
            RunQueue(path).add(TrainConfig(**TINY))
        assert path.read_bytes() == data  # ... and leaves the file as it was


@SETTINGS
@given(field=st.sampled_from(["epochs", "batch_size", "limit", "seed", "learning_rate", "augment", "cutout"]),
       value=st.one_of(st.booleans(), st.floats(allow_nan=True), st.integers(min_value=-10**20, max_value=10**20),
                       st.text(max_size=10), st.none()))
def test_a_queued_setting_of_any_type_reads_as_that_type_or_is_refused(scratch, field, value):
    queue = RunQueue(_fresh(scratch) / "queue.json")
    queue.add(TrainConfig(**TINY))
    data = json.loads(queue.path.read_text())
    data["items"][0]["config"][field] = value
    queue.path.write_text(json.dumps(data))
    try:
        config = read_queue(queue.path).items[0].config
    except QueueError as exc:
        assert _one_sentence(str(exc)) and "item 1" in str(exc)
        return
    stored = getattr(config, field)
    kind = {"learning_rate": float, "augment": bool}.get(field, int)
    assert stored is None or type(stored) is kind or (kind is float and type(stored) is int)


# ---- meta.json --------------------------------------------------------------------------------------

@SETTINGS
@given(name=any_text, note=any_text, tags=st.lists(st.text(max_size=45), max_size=5))
def test_labels_round_trip_or_are_refused(scratch, name, note, tags):
    run = write_run(_fresh(scratch), "run")
    kept = []
    for tag in tags:
        try:
            meta.add_tag(run, tag)
            kept.append(tag.strip())
        except meta.MetaError as exc:
            assert _one_sentence(str(exc))
    for setter, value in ((meta.set_name, name), (meta.set_note, note)):
        try:
            setter(run, value)
        except meta.MetaError as exc:
            assert _one_sentence(str(exc))
    labels, why = meta.read_meta(run)
    assert why == ""
    assert list(labels.tags) == list(dict.fromkeys(kept))
    assert (run / "config.json").is_file()  # labels never touch the run's own files


@SETTINGS
@given(data=st.binary(max_size=3000))
def test_any_meta_json_reads_as_labels_or_one_sentence(scratch, data):
    run = write_run(_fresh(scratch), "run")
    (run / "meta.json").write_bytes(data)
    labels, why = meta.read_meta(run)
    assert why == "" or _one_sentence(why)
    assert len(labels.tags) <= meta.MAX_TAGS and len(labels.note) <= meta.MAX_NOTE_CHARS
    assert table.read_row(run) is not None  # a bad meta.json never hides the run


# ---- run folders ------------------------------------------------------------------------------------

@SETTINGS
@given(config=st.binary(max_size=2000), result=st.binary(max_size=500), history=st.binary(max_size=2000))
def test_a_run_folder_with_any_bytes_is_a_row_with_notes(scratch, config, result, history):
    run = write_run(_fresh(scratch), "run")
    (run / "config.json").write_bytes(config)
    (run / "result.json").write_bytes(result)
    (run / "history.csv").write_bytes(history)
    row = table.read_row(run)
    assert row is not None and row.get("folder") == "run"  # never vanishes while config.json exists
    assert all(_one_sentence(n) for n in row.notes)


# ---- the exports ------------------------------------------------------------------------------------

@SETTINGS
@given(names=st.lists(folder_names, min_size=1, max_size=4, unique=True),
       settings_=st.dictionaries(st.text(min_size=1, max_size=30), st.one_of(any_text, st.floats(), st.integers(),
                                                                           st.booleans(), st.none()), max_size=6))
def test_exports_keep_their_shape_and_never_start_a_formula(scratch, names, settings_):
    root = _fresh(scratch)
    for n, name in enumerate(names):
        write_run(root, name, config={**settings_, "seed": n})
    loaded = table.load_table(root)
    assert sorted(r.run_dir for r in loaded.rows) == sorted(str(root / n) for n in names)
    columns = table.all_columns(loaded)
    text = export.to_csv(loaded.rows, columns)
    text.encode("utf-8")  # writable as UTF-8 whatever the folder names held
    parsed = list(csv.reader(io.StringIO(text)))
    assert len(parsed) == len(names) + 1 and all(len(r) == len(columns) for r in parsed)
    for cell in (c for r in parsed for c in r):
        assert cell.lstrip()[:1] not in export.FORMULA_STARTS or _is_number(cell), cell  # -0.5 is a number
    markdown = export.to_markdown(loaded.rows, columns)
    markdown.encode("utf-8")
    lines = markdown.splitlines()
    assert len(lines) == len(names) + 2
    cells = [len(line.replace("\\\\", "").replace("\\|", "").split("|")) for line in lines]
    assert len(set(cells)) == 1  # no cell breaks out of its column


def test_concurrent_queue_writers_lose_nothing(tmp_path):
    """Four processes adding five items each at once: all twenty are there (the edit lock holds)."""
    import subprocess
    import sys

    path = tmp_path / "queue.json"
    code = ("import sys; from workbench.core.runs.queue import RunQueue; "
            "from workbench.core.training.config import TrainConfig; q = RunQueue(sys.argv[1]); "
            "[q.add(TrainConfig(dataset='builtin', arch='embedded_cnn', epochs=1), label=f'{sys.argv[2]}-{i}') "
            "for i in range(5)]")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(n)], env=env) for n in range(4)]
    assert all(p.wait(120) == 0 for p in procs)
    labels = sorted(i.label for i in read_queue(path).items)
    assert labels == sorted(f"{n}-{i}" for n in range(4) for i in range(5))
