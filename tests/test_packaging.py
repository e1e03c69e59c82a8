"""`pip install .` gives the full app: the wheel carries the style sheet, the licence and the metadata."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built the way `pip install .` builds one, from a copy of the sources (the tree stays clean)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "workbench", src / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (built,) = out.glob("cifar_workbench-*.whl")
    return built


def test_wheel_ships_the_style_sheet_and_licence(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "workbench/gui/resources/style.qss" in names
        assert zf.read("workbench/gui/resources/style.qss") == (REPO / "workbench/gui/resources/style.qss").read_bytes()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)


def test_wheel_metadata_states_pythons_urls_and_tensorboard(wheel):
    with zipfile.ZipFile(wheel) as zf:
        (meta_name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(zf.read(meta_name))
        entry_points = zf.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert meta["Requires-Python"].replace(" ", "") in (">=3.11,<3.14", "<3.14,>=3.11")
    assert meta["License-Expression"] == "MIT"
    urls = {line.split(",")[0] for line in meta.get_all("Project-URL")}
    assert {"Homepage", "Issues", "Documentation"} <= urls
    classifiers = set(meta.get_all("Classifier"))
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in (11, 12, 13)} <= classifiers
    assert any(r.startswith("tensorboard") for r in meta.get_all("Requires-Dist"))
    assert "workbench = workbench.cli:main" in entry_points


def test_installed_wheel_finds_its_style_sheet(wheel, tmp_path):
    # Unpacked wheel = an installed site-packages; run from elsewhere so the repository cannot be found.
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    code = (
        "import workbench.gui.resources as r; "
        "print(r.STYLESHEET); print(len(r.stylesheet()))"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    path, length = proc.stdout.split()
    assert path.startswith(str(site)) and int(length) > 100
    assert proc.stderr == ""


def test_a_missing_style_sheet_is_a_visible_warning(monkeypatch, capsys, tmp_path):
    import workbench.gui.resources as resources

    monkeypatch.setattr(resources, "STYLESHEET", tmp_path / "style.qss")
    assert resources.stylesheet() == ""
    err = capsys.readouterr().err.strip()
    assert err.startswith("warning: the workbench style sheet") and str(tmp_path / "style.qss") in err
    assert "reinstall" in err and len(err.splitlines()) == 1


def test_classifiers_and_ci_cover_exactly_the_allowed_pythons():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    allowed = {f"3.{minor}" for minor in range(11, 14)}
    prefix = "Programming Language :: Python :: "
    listed = {c[len(prefix):] for c in project["classifiers"] if c.startswith(prefix) and c[len(prefix):].count(".") == 1}
    assert listed == allowed
    ci = (REPO / ".ci" / "run").read_text()
    assert "sys.version_info[:2] == (3, 11)" in ci and "sys.version_info[:2] == (3, 13)" in ci  # both ends
    assert "bash scripts/test.sh" in ci and "bash scripts/test.sh" in (REPO / "README.md").read_text()
