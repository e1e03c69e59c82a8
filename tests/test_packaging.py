"""`pip install .` gives the full app: the wheel carries the resources (style sheet, icon, desktop entry), the
licence and the metadata."""

from __future__ import annotations

import configparser
import email
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def src(tmp_path_factory) -> Path:
    """A copy of what the build reads, so building leaves the tree clean."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    for folder in ("workbench", "resources"):
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return src


@pytest.fixture(scope="module")
def wheel(src, tmp_path_factory) -> Path:
    """A wheel built the way `pip install .` builds one."""
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (built,) = out.glob("cifar_workbench-*.whl")
    return built


RESOURCES = ("style.qss", "cifar-workbench.svg", "cifar-workbench-48.png", "cifar-workbench-128.png",
             "cifar-workbench-256.png", "cifar-workbench.desktop")


def test_wheel_ships_the_resources_and_licence(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in RESOURCES:  # the top-level resources/ folder, mapped by the build to workbench.resources
            assert f"workbench/resources/{name}" in names, sorted(names)
            assert zf.read(f"workbench/resources/{name}") == (REPO / "resources" / name).read_bytes()
        assert not any(n.startswith("resources/") for n in names)  # no stray top-level package
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)


def test_every_resource_file_is_listed_and_the_wheel_has_every_package(wheel):
    shipped = {p.name for p in (REPO / "resources").iterdir() if p.is_file() and p.name != "__init__.py"}
    assert shipped == set(RESOURCES)  # a new file in resources/ needs its pattern in package-data and here
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    packages = {p.parent.relative_to(REPO).as_posix() for p in (REPO / "workbench").rglob("*.py")}
    assert {f"{package}/__init__.py" for package in packages if (REPO / package / "__init__.py").exists()} <= names


def test_desktop_entry_opens_the_window_with_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(REPO / "resources" / "cifar-workbench.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    command, *args = desktop["Exec"].split()
    assert scripts[command] == "workbench.cli:main" and args == ["gui"]
    assert desktop["Type"] == "Application" and desktop["Terminal"] == "false"
    assert (REPO / "resources" / f"{desktop['Icon']}.svg").is_file()
    from workbench.gui.resources import ICON_NAME

    assert desktop["Icon"] == ICON_NAME


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


def test_installed_wheel_finds_its_style_sheet_and_icon(wheel, tmp_path):
    # Unpacked wheel = an installed site-packages; run from elsewhere so the repository cannot be found.
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    code = (
        "import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'; "
        "import workbench.gui.resources as r; from workbench.gui.qt_app import application; "
        "app = application(); "
        "print(r.STYLESHEET); print(len(r.stylesheet())); "
        "print(*sorted(s.width() for s in app.windowIcon().availableSizes()))"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    path, length, sizes = proc.stdout.splitlines()
    assert path.startswith(str(site)) and int(length) > 100
    assert {48, 128, 256} <= {int(size) for size in sizes.split()}
    assert proc.stderr == ""


def test_editable_install_reads_the_resources_folder_in_place(src, tmp_path):
    # The editable wheel `pip install -e .` makes (PEP 660, setuptools' own hook), installed into a bare site dir.
    proc = subprocess.run(
        [sys.executable, "-c", f"from setuptools import build_meta; print(build_meta.build_editable({str(tmp_path)!r}))"],
        capture_output=True, text=True, timeout=300, cwd=src,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = tmp_path / "site"
    with zipfile.ZipFile(tmp_path / proc.stdout.split()[-1]) as zf:
        zf.extractall(site)
    # -S: no other site-packages, so only this install can provide `workbench`
    code = f"import site; site.addsitedir({str(site)!r}); from importlib import resources; " \
           "print(resources.files('workbench.resources') / 'style.qss')"
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Path(proc.stdout.strip()) == src / "resources" / "style.qss"


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


def test_icon_pngs_are_the_svg_rendered_at_their_sizes(tmp_path):
    # A changed SVG whose PNGs were not rendered again would show two different icons.
    from PIL import Image
    import numpy as np

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "render_icon.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for size in (48, 128, 256):
        name = f"cifar-workbench-{size}.png"
        with Image.open(REPO / "resources" / name) as shipped, Image.open(tmp_path / name) as fresh:
            assert shipped.size == fresh.size == (size, size)
            diff = np.abs(np.asarray(shipped.convert("RGBA"), float) - np.asarray(fresh.convert("RGBA"), float))
        assert diff.mean() < 2.0, (name, diff.mean())  # the same drawing, give or take anti-aliasing
