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
    core_files = sorted((PACKAGE_DIR / "core").rglob("*.py"))
    assert core_files
    for path in core_files:
        bad = imported_modules(path) & {"PySide6", "PyQt5", "PyQt6", "pyqtgraph", "tensorflow", "keras"}
        assert not bad, f"{path.name} imports {bad}"


def test_detector_kinds_are_named_only_by_their_own_modules():
    """Kinds are data: outside core/detectors/ nothing names a settings class or branches on one
    (the registry maps settings to kinds), so a fourth detector needs no edit elsewhere."""
    from kise_desktop.core.detectors import kinds

    class_names = {kind.settings_class.__name__ for kind in kinds().values()}
    detectors_dir = PACKAGE_DIR / "core" / "detectors"
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if detectors_dir in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not names & class_names, f"{path.relative_to(PACKAGE_DIR)} names {names & class_names}"


def test_app_never_imports_training_code():
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        assert "training" not in imported_modules(path), f"{path} imports training"


def test_opencv_pool_sleeps_unless_the_user_says_otherwise():
    """Set before cv2 loads (OpenCV reads it once, at load): any import of the package does it."""
    import os
    import subprocess
    import sys

    code = ("import os, kise_desktop.core.detectors, cv2; "
            "print(os.environ['OPENCV_THREAD_POOL_ACTIVE_WAIT_WORKER'], os.environ['OPENCV_THREAD_POOL_ACTIVE_WAIT_MAIN'])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_THREAD_POOL")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]
    env["OPENCV_THREAD_POOL_ACTIVE_WAIT_WORKER"] = "2000"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2000", "0"]
