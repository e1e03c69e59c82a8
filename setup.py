"""Build mapping that pyproject.toml cannot state: the repository's top-level `resources/` folder ships as the
package `workbench.resources`, next to the packages found under `workbench/` (everything else is in pyproject)."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["workbench*"]), "workbench.resources"],
    package_dir={"workbench.resources": "resources"},
)
