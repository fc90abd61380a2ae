"""The layering rules, checked on the source: which top-level packages each part may import.

- `model_core` (the runtime) never imports qgis, PyQt, torch or `training`;
- `plugin` never imports torch or `training`;
- nothing imports `benchmarks` or `scripts` (they are entry points, not libraries).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

FORBIDDEN: dict[str, set[str]] = {
    "model_core": {"qgis", "PyQt5", "PyQt6", "sip", "torch", "training", "plugin"},
    "plugin": {"torch", "training"},
    "training": set(),
    "tests": set(),
}
NEVER_IMPORTED = {"benchmarks", "scripts"}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every absolute import in a Python file (function-level imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def violations(part: str, forbidden: set[str], root: Path = REPO_ROOT) -> list[str]:
    """'file: package' for every forbidden import in the part's files."""
    found = []
    for path in sorted((root / part).rglob("*.py")):
        for name in sorted(imported_packages(path) & forbidden):
            found.append(f"{path.relative_to(root)}: {name}")
    return found


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_each_part_imports_only_what_its_layer_allows(part: str) -> None:
    forbidden = FORBIDDEN[part] | (NEVER_IMPORTED if part in ("model_core", "plugin", "training") else set())
    assert violations(part, forbidden) == []


def test_a_deliberate_violation_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "model_core" / "engine"
    package.mkdir(parents=True)
    (package / "bad.py").write_text("def f():\n    import torch\n    from qgis.core import QgsProject\n")
    assert violations("model_core", FORBIDDEN["model_core"], tmp_path) == [
        "model_core/engine/bad.py: qgis",
        "model_core/engine/bad.py: torch",
    ]
