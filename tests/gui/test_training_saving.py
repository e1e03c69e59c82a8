"""Saving from the training tab: a failed save is shown (result line, log, status), never silent."""

from __future__ import annotations

from workbench.gui.panels.training import TrainingPanel
from workbench.gui.panels.training.saving import copy_atomically


def test_a_failed_save_is_shown_to_the_user(qtbot, tmp_path):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    model = tmp_path / "run" / "model.h5"
    model.parent.mkdir()
    model.write_bytes(b"not really a model, but a file to copy")
    panel.model_path = str(model)
    blocker_file = tmp_path / "a-file"
    blocker_file.write_text("x")
    target = blocker_file / "model.h5"  # its "folder" is a file: cannot be written, even as root
    statuses: list[str] = []
    panel.status_message.connect(statuses.append)
    with qtbot.waitSignal(panel.save_failed, timeout=5_000) as failed:
        assert not panel.save_model_as(str(target))
    message = failed.args[0]
    assert message.startswith(f"Could not save the model to {target}: ") and message.endswith("try again.")
    assert "[Errno" not in message
    assert "Could not save the model" in panel.result_label.text()  # shown in the tab, not only emitted
    assert message in panel.log_text() and statuses[-1] == message
    assert not target.exists() and list(tmp_path.glob("**/.*.part")) == []


def test_nothing_to_save_says_so(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.save_failed, timeout=5_000):
        assert not panel.save_model_as("/tmp/never-written.h5")
    assert "no trained model" in panel.result_label.text()


def test_copy_is_atomic_and_leaves_no_part_file(tmp_path):
    source = tmp_path / "a.h5"
    source.write_bytes(b"12345")
    target = copy_atomically(source, tmp_path / "out" / "b.h5")
    assert target.read_bytes() == b"12345" and not list((tmp_path / "out").glob(".*.part"))


def test_converting_back_and_forth_keeps_the_metadata_flat(tmp_path):
    """Each conversion once wrapped the file's "extra" in another "extra"."""
    import keras

    from workbench.core.modelio import read_metadata, save_model
    from workbench.gui.panels.training.saving import convert_model

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    first = save_model(model, tmp_path / "m.h5", class_names=("a", "b"), dataset_id="custom",
                       extra={"note": "kept"})
    second = convert_model(str(first), str(tmp_path / "m.keras"))
    third = convert_model(second, str(tmp_path / "again.h5"))
    meta = read_metadata(third)
    assert meta["extra"] == {"note": "kept"} and meta["class_names"] == ["a", "b"]
