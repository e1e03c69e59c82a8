"""core/datasets has no import circle, function-level imports included (a hidden circle is still one)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "workbench" / "core" / "datasets"


def _graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.level == 1:
                    deps.add(node.module.split(".")[0])
                elif node.module.startswith("workbench.core.datasets."):
                    deps.add(node.module.split(".")[3])
        graph[name] = deps & set(modules)
    return graph


def test_no_module_imports_one_that_imports_it_back():
    graph = _graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for dep in sorted(graph[name]):
            assert dep not in path, " -> ".join(path[path.index(dep):] + [dep])
            if dep not in done:
                visit(dep, path + [dep])
        done.add(name)

    for name in sorted(graph):
        visit(name, [name])
    assert "user_datasets" not in graph["registry"] and "registry" in graph["user_datasets"]
