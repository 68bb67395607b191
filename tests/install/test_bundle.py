"""The PyInstaller bundle, when one has been built: `KISE_BUNDLE_DIR=dist/kise pytest tests/install/test_bundle.py`.

Building it takes minutes and needs PyInstaller (not a dependency of the app), so CI does not; the README's
"Bundle" section has the command and what it gave. Without KISE_BUNDLE_DIR these tests skip.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

BUNDLE = os.environ.get("KISE_BUNDLE_DIR")
pytestmark = pytest.mark.skipif(not BUNDLE, reason="no bundle to test: set KISE_BUNDLE_DIR (scripts/build_bundle.py)")


def exe(name: str) -> str:
    return str(Path(BUNDLE) / (name + (".exe" if os.name == "nt" else "")))


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "KISE_", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)


def test_bundle_cli_annotates_a_photo_with_its_own_resources(tmp_path, dlib_faces_dir):
    version = run([exe("kise"), "--version"], tmp_path)
    assert version.returncode == 0 and "(from package)" in version.stdout, version.stderr
    done = run([exe("kise"), "annotate", str(dlib_faces_dir / "2008_002506.jpg"), "-o", "out"], tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert len(report["images"][0]["faces"]) >= 2
    assert Path(report["model_path"]).resolve().is_relative_to(Path(BUNDLE).resolve())


def test_bundle_app_writes_a_screenshot(tmp_path, dlib_faces_dir):
    done = run([exe("kise-desktop"), "--fresh", "--source", str(dlib_faces_dir / "2008_002506.jpg"),
                "--screenshot", "shot.png", "--quit-after", "4"], tmp_path)
    assert done.returncode == 0, done.stderr
    from PIL import Image

    with Image.open(tmp_path / "shot.png") as image:
        assert image.size == (1280, 800)
