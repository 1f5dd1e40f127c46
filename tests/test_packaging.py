"""The distribution's shape: every project package is installed under the one `stvg`
namespace, the layers import in one direction only (schemas <- stvgdata <- heads <- cli), and
every module imports on its own (no import cycle hidden by what a test run imported before)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
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


def test_a_method_never_imports_another_and_shared_heads_import_none() -> None:
    """Method folders meet only in the shared packages and the registry's import strings."""
    from stvg.heads.registry import METHODS

    for path in sorted((ROOT / "heads").rglob("*.py")):
        parts = path.relative_to(ROOT / "heads").parts
        own = parts[0] if parts[0] in METHODS else None
        for module in imported_modules(path):
            folder = module.split(".")[2] if module.startswith("stvg.heads.") else None
            if folder in METHODS:
                assert folder == own, f"{path}: imports {module}"


# stvgdata package -> the stvgdata packages it must not import: networks sit below the
# extraction that wraps them, and weight sources below both.
NETWORK_LAYERS = {
    "weights": ("encoders", "extractors", "regions", "cache"),
    "encoders": ("extractors", "regions", "cache"),
}


@pytest.mark.parametrize("package", sorted(NETWORK_LAYERS))
def test_networks_never_import_the_extraction_that_wraps_them(package: str) -> None:
    for path in sorted((ROOT / "stvgdata" / package).rglob("*.py")):
        for module in imported_modules(path):
            if module.startswith("stvg.stvgdata."):
                folder = module.split(".")[2]
                assert folder not in NETWORK_LAYERS[package], f"{path}: imports {module}"


def test_bench_holds_benchmarks_and_each_experiment_has_a_listed_readme() -> None:
    for path in sorted((ROOT / "bench").glob("*.py")):
        assert not path.name.startswith("probe_"), f"{path}: a probe belongs in experiments/"
        assert not [m for m in imported_modules(path) if m.partition(".")[0] == "tests"], path
    index = (ROOT / "experiments" / "README.md").read_text()
    for topic in sorted(p for p in (ROOT / "experiments").iterdir() if p.is_dir()):
        assert (topic / "README.md").is_file(), topic
        assert f"]({topic.name}/README.md)" in index, f"experiments/README.md misses {topic.name}"


IMPORT_EACH_FIRST = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    modules = []
    for layer in sys.argv[1:]:
        package = importlib.import_module(f"stvg.{layer}")
        modules += [m.name for m in pkgutil.walk_packages(package.__path__, f"stvg.{layer}.")]
    failed = []
    for module in modules:
        for name in [key for key in sys.modules if key.startswith("stvg.")]:
            del sys.modules[name]  # as if this module were the program's first import
        try:
            importlib.import_module(module)
        except Exception as err:
            failed.append(f"{module}: {err!r}")
    print("\\n".join(failed))
    """
)


@pytest.mark.slow
def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", IMPORT_EACH_FIRST, *LAYERS],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", done.stdout
