"""The import summary `datasets add` prints and its --json form: wording that says what happened."""

from __future__ import annotations

import json

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.core.folder_fixtures import class_tree, noise, save
from workbench.cli.data_cmds import import_report
from workbench.core.datasets.folder_import import import_folder
from workbench.core.datasets.import_summary import import_summary


def test_a_pixel_leak_is_worded_once(tmp_path):
    root = tmp_path / "split"
    class_tree(root / "train", {"ant": 3, "bee": 3}, seed=1)
    class_tree(root / "test", {"ant": 1, "bee": 1}, seed=2)
    info = PngInfo()
    info.add_text("Comment", "saved again")
    Image.open(root / "train" / "ant" / "002.png").save(root / "test" / "ant" / "resaved.png", pnginfo=info)
    text = "\n".join(import_report(import_folder(root, size=8)))
    assert "leakage: 1 test images are also in train (same pixels):" in text
    assert "same same" not in text


def test_nothing_held_out_is_not_called_20_percent(tmp_path):
    root = tmp_path / "single"
    for cls in ("a", "b"):
        save(root / cls / "only.png", noise((8, 8), ord(cls)))
    result = import_folder(root, size=8)
    assert len(result.dataset.y_test) == 0
    text = "\n".join(import_report(result))
    assert "held out" not in text.replace("no image was held out", "") and "20 %" not in text
    assert "no image was held out" in text
    assert import_summary(result)["split_note"] == result.split.describe()


def test_the_summary_is_plain_json(tmp_path):
    root = class_tree(tmp_path / "p", {"a": 5, "b": 5}, size=(8, 8))
    (root / "a" / "broken.png").write_bytes(b"\x89PNG broken")
    facts = import_summary(import_folder(root, size=8))
    assert json.loads(json.dumps(facts)) == facts
    assert facts["skipped"] == 1 and facts["skipped_files"][0]["path"] == "a/broken.png"
    assert facts["split"] == "held out" and facts["train_size"] + facts["test_size"] == 10 and facts["leaks"] == []
