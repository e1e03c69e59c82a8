"""The README documents what a user needs to know to run the workbench: every environment variable it reads."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# os.environ.get("X"), environ["X"], os.getenv("X"), environ.setdefault("X", …) and NAME_ENV = "X" constants.
READS = re.compile(r"""(?:environ(?:\.get|\.setdefault)?\s*[(\[]|getenv\(|_ENV\s*=)\s*["']([A-Z][A-Z0-9_]+)["']""")


def variables_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "workbench").rglob("*.py"):
        found.update(READS.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_scan_finds_known_variables():
    assert {"WORKBENCH_HOME", "CUDA_VISIBLE_DEVICES", "DISPLAY", "WORKBENCH_CIFAR_MIRROR"} <= variables_read_by_the_code()


def test_readme_lists_every_environment_variable_the_code_reads():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in variables_read_by_the_code() if f"`{name}`" not in readme)
    assert not missing, f"README.md does not document {missing}"
