"""`screenshots --dataset` takes a user dataset's name or an image folder / archive path too."""

from __future__ import annotations

from tests.core.user_fixtures import messy_tree, user_home  # noqa: F401
from workbench.core.datasets import add_user_dataset
from workbench.gui.screenshots import dataset_problem


def test_names_folders_and_archives_are_accepted_and_other_files_refused(user_home, tmp_path):
    root = messy_tree(tmp_path / "photos")
    assert dataset_problem(str(root), None) is None
    (tmp_path / "photos.zip").write_bytes(b"PK")
    assert dataset_problem(str(tmp_path / "photos.zip"), None) is None  # unreadable archives fail at import
    (tmp_path / "notes.txt").write_text("x")
    problem = dataset_problem(str(tmp_path / "notes.txt"), None)
    assert problem and "not a folder or a .zip/.tar/.tar.gz archive" in problem and problem.endswith(".")
    assert "There is no dataset called 'nope'" in dataset_problem("nope", None)
    add_user_dataset("mine", root)
    assert dataset_problem("mine", None) is None
