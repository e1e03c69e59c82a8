"""Every way to start the workbench guards its start: a training child process (multiprocessing spawn)
imports the parent's main module again under the name __mp_main__, and must not start a second CLI or
window there."""

import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["workbench", "workbench.gui.panels.training", "workbench.gui.panels.dataset_browser",
           "workbench.gui.panels.experiment"]


@pytest.mark.parametrize("module", MODULES)
def test_a_main_module_imported_by_a_child_starts_nothing(module, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["workbench", "--version"])  # unguarded, main() would print and exit
    runpy.run_module(module, run_name="__mp_main__")


def test_main_py_imported_by_a_child_starts_nothing(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["main.py", "--version"])
    runpy.run_path(str(ROOT / "main.py"), run_name="__mp_main__")
