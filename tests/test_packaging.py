"""The distribution's shape: every project package is installed under the one `stvg`
namespace, and the layers import in one direction only (schemas <- stvgdata <- heads <- cli)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("schemas", "stvgdata", "heads", "cli")
CLI_ONLY = ("typer", "rich", "click")


def tree_packages() -> set[str]:
    return {
        ".".join(("stvg", *path.parent.relative_to(ROOT).parts))
        for layer in LAYERS
        for path in (ROOT / layer).rglob("__init__.py")
    }


def test_every_package_of_the_tree_is_installed_under_stvg() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(setuptools["packages"]) == tree_packages()
    assert setuptools["package-dir"] == {f"stvg.{layer}": layer for layer in LAYERS}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_import_downwards_only_and_no_top_level_names(layer: str) -> None:
    above = LAYERS[LAYERS.index(layer) + 1 :]
    for path in sorted((ROOT / layer).rglob("*.py")):
        for module in imported_modules(path):
            top, _, rest = module.partition(".")
            assert top not in LAYERS, f"{path}: imports {module}; write stvg.{module}"
            if top == "stvg":
                assert rest.partition(".")[0] not in above, f"{path}: imports {module}"
            if layer != "cli":
                assert top not in CLI_ONLY, f"{path}: imports {module} (cli only)"
