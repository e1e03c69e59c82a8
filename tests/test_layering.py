"""The architecture rules (docs/DESIGN.md), checked on the real import graph; contracts in .importlinter."""

import subprocess
import sys
from pathlib import Path

import pytest


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "module",
    [
        "workbench.core.datasets",
        "workbench.core.images",
        "workbench.core.images.prepare",
        "workbench.core.architectures",
        "workbench.core.training",
        "workbench.core.modelio",
        "workbench.core.runs",
        # the package's __init__ imports nothing: its modules are checked one by one (the GUI imports them)
        *(f"workbench.core.runs.{m}" for m in ("folder", "summary", "table", "filters", "export", "meta", "trash",
                                             "queue", "queue_runner", "report_table")),
        "workbench.cli",
    ],
)
def test_core_imports_neither_qt_nor_tensorflow(module):
    loaded = _modules_after(f"import {module}")
    assert not loaded & {"PySide6", "pyqtgraph", "shiboken6"}, f"{module} pulled in Qt"
    assert not loaded & {"tensorflow", "keras", "tf_keras"}, f"{module} imported TensorFlow eagerly"


def test_import_contracts_hold():
    """import-linter on .importlinter: the core never imports Qt, the GUI never imports TensorFlow/Keras
    directly, and the layers (cli > gui > core; app > main window > panels > widgets > tasks; runs >
    training > model files > architectures/datasets > helpers) are never crossed upwards."""
    root = Path(__file__).resolve().parents[1]
    code = ("from importlinter.cli import lint_imports; "
            "raise SystemExit(lint_imports(config_filename='.importlinter', no_cache=True, no_logo=True))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout and "layers" not in out.stderr


def test_the_contracts_live_in_one_file():
    """The import-linter configuration is .importlinter only (pyproject.toml would be read instead if it
    also had one, and two copies drift)."""
    root = Path(__file__).resolve().parents[1]
    assert "[tool.importlinter" not in (root / "pyproject.toml").read_text(encoding="utf-8")
    config = (root / ".importlinter").read_text(encoding="utf-8")
    assert config.count("type = layers") >= 3


def _layers(config: str, container: str) -> list[str]:
    """The layer names of the layers contract over ``container`` in .importlinter."""
    section = config.split(f"containers =\n    {container}\n", 1)[1].split("\n\n", 1)[0]
    names = section.split("layers =", 1)[1].split()
    return [name for name in names if name != "|"]


@pytest.mark.parametrize("package", ["core", "gui", "core.modelio", "core.images"])
def test_every_module_sits_in_a_layer(package):
    """A module the layers contract does not name is checked by nothing: each new module joins a layer."""
    root = Path(__file__).resolve().parents[1]
    config = (root / ".importlinter").read_text(encoding="utf-8")
    container = f"workbench.{package}"
    if f"containers =\n    {container}\n" not in config:
        pytest.skip(f"{container} has no layers contract of its own")
    folder = root / "workbench" / Path(*package.split("."))
    modules = {p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "__main__")}
    modules |= {p.name for p in folder.iterdir() if (p / "__init__.py").exists()}
    missing = modules - set(_layers(config, container))
    assert not missing, f"not in the layers contract of {container}: {sorted(missing)}"
