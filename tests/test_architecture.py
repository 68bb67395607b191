"""Boundaries the architecture promises, checked on the source itself."""
from __future__ import annotations

import ast
from pathlib import Path

from kise_desktop.paths import PACKAGE_DIR


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_qt_and_no_tensorflow():
    core_files = sorted((PACKAGE_DIR / "core").glob("*.py"))
    assert core_files
    for path in core_files:
        bad = imported_modules(path) & {"PySide6", "PyQt5", "PyQt6", "pyqtgraph", "tensorflow", "keras"}
        assert not bad, f"{path.name} imports {bad}"


def test_app_never_imports_training_code():
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        assert "training" not in imported_modules(path), f"{path} imports training"
