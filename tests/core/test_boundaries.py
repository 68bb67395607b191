"""The core stays free of Qt and TensorFlow, and loads nothing heavy at import."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kise_desktop.core

CORE = Path(kise_desktop.core.__file__).parent
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "tensorflow", "training")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_sources_import_no_qt_and_no_tensorflow():
    files = sorted(CORE.glob("*.py"))
    assert len(files) >= 9
    for path in files + [CORE.parent / "cli.py"]:
        bad = imported_modules(path) & set(FORBIDDEN)
        assert not bad, f"{path.name} imports {bad}"


def test_importing_the_core_and_cli_pulls_in_no_qt_or_tensorflow():
    code = ("import sys, kise_desktop.cli, kise_desktop.core.bench, kise_desktop.core.sources, "
            "kise_desktop.core.render, kise_desktop.core.pipeline\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{FORBIDDEN!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=CORE.parent.parent)
    assert out.stdout.strip() == ""
