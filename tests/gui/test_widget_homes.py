"""Each GUI name has one home: a class lives in the module its name says, and no old alias is left."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

WIDGETS = Path(__file__).resolve().parents[2] / "workbench" / "gui" / "widgets"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_a_widget_class_named_like_a_module_lives_in_that_module():
    modules = {p.stem for p in WIDGETS.glob("*.py") if p.stem != "__init__"}
    misplaced = []
    for stem in sorted(modules):
        module = importlib.import_module(f"workbench.gui.widgets.{stem}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and _snake(name) in modules - {stem}:
                misplaced.append(f"{name} is in {stem}.py, beside {_snake(name)}.py")
    assert not misplaced, misplaced


def test_the_model_setup_box_and_picker_have_their_own_modules():
    from workbench.gui.widgets.model_picker import ModelPicker
    from workbench.gui.widgets.model_setup import ModelSetupBox

    assert ModelPicker.__module__ == "workbench.gui.widgets.model_picker"
    assert ModelSetupBox.__module__ == "workbench.gui.widgets.model_setup"


def test_no_old_aliases_or_unused_lookups_remain():
    import workbench.gui.worker as worker
    from workbench.gui.tasks import PanelTasks
    from workbench.gui.widgets.run_table_model import RunTableModel

    assert not hasattr(worker, "TaskRunner")  # PanelTasks is the one name
    assert not hasattr(PanelTasks, "run_function")  # start is the one name
    assert not hasattr(RunTableModel, "index_of")  # nothing called it
