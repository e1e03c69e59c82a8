"""Without a display or Qt's xcb libraries, `python main.py` says so in one sentence instead of Qt aborting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.gui.display_check import XCB_LIBRARIES, display_problem, requested_platforms

REPO = Path(__file__).resolve().parents[1]
FAKE_LIBRARIES = {"libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4"}


def _all_load(soname: str) -> bool:
    return True


def _gui_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def test_headless_platforms_need_nothing():
    for value in ("offscreen", "minimal", "offscreen:fontengine=freetype", "vnc;xcb"):
        assert display_problem({"QT_QPA_PLATFORM": value}, platform="linux", loads=lambda s: False) is None


def test_no_display_is_one_sentence_naming_the_command_line():
    problem = display_problem({}, platform="linux", loads=_all_load)
    assert problem is not None and problem.startswith("The window cannot open: there is no display")
    assert "workbench --help" in problem and problem.count(". ") == 0 and problem.endswith(".")


def test_xcb_forced_without_an_x_display_is_no_display():
    problem = display_problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, platform="linux", loads=_all_load)
    assert problem is not None and "DISPLAY is not set" in problem


def test_missing_xcb_libraries_name_their_debian_packages():
    present = {"libxcb-cursor.so.0"}
    problem = display_problem(
        {"DISPLAY": ":0"}, platform="linux", libraries=FAKE_LIBRARIES, loads=lambda s: s in present
    )
    assert problem is not None
    assert "libxcb-icccm.so.4" in problem and "`sudo apt install libxcb-icccm4`" in problem
    assert "libxcb-cursor0" not in problem


def test_wayland_session_and_other_systems_are_left_to_qt():
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, platform="linux", loads=lambda s: False) is None
    assert display_problem({}, platform="darwin", loads=lambda s: False) is None


def test_all_libraries_present_is_fine():
    assert display_problem({"DISPLAY": ":0"}, platform="linux", loads=_all_load) is None


def test_platform_list_is_parsed_like_qt():
    assert requested_platforms({"QT_QPA_PLATFORM": " XCB:foo=1 ; wayland"}) == ["xcb", "wayland"]
    assert requested_platforms({}) == []


def test_the_check_imports_no_qt():
    code = "import sys, workbench.gui.display_check; print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    out = subprocess.run([sys.executable, "-c", code], env=_gui_env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check only runs on Linux")
def test_main_without_a_display_exits_1_with_one_sentence():
    out = subprocess.run(
        [sys.executable, str(REPO / "main.py")], env=_gui_env(), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 1, out.stderr  # Qt's own abort was rc 134
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: The window cannot open: there is no display"), out.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check only runs on Linux")
def test_main_with_missing_xcb_libraries_exits_1_naming_packages():
    # A library no system has stands in for a missing one; DISPLAY points at a display that is never reached.
    code = (
        "import sys; import workbench.gui.display_check as d; "
        "d.XCB_LIBRARIES = {'libworkbench-missing-test.so.9': 'libworkbench-missing-test9'}; "
        "from workbench.cli import main; sys.exit(main([]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=_gui_env(DISPLAY=":97"), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 1, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "libworkbench-missing-test.so.9" in lines[0] and "sudo apt install libworkbench-missing-test9" in lines[0]


def test_readme_lists_every_package_the_check_can_name():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    line = next(l for l in readme.splitlines() if "sudo apt install libxcb1" in l)
    assert set(line.strip(" `.").split()[3:]) == set(XCB_LIBRARIES.values())
