"""The import's progress counts image files read, once each, and the result says how many became images
and how many were skipped, so "21 of 21 files read" and "20 images … 1 file skipped" agree."""

from __future__ import annotations

from tests.core.folder_fixtures import class_tree
from tests.core.user_fixtures import user_home  # noqa: F401
from workbench.core.datasets.folder_import import import_folder


def test_progress_counts_files_read_and_the_summary_counts_images_and_skips(tmp_path, user_home):
    root = class_tree(tmp_path / "photos", {"cat": 10, "dog": 10})
    (root / "cat" / "broken.jpg").write_bytes(b"not a picture")
    calls = []
    result = import_folder(root, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (21, 21)  # every candidate file read once, the unusable one included
    assert all(done <= total for done, total in calls)
    images = len(result.train_files) + len(result.test_files)
    assert images == 20 and len(result.skipped) == 1
    assert result.summary().startswith("20 images in 2 classes") and "; 1 file skipped" in result.summary()
