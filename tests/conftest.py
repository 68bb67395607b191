"""Shared fixtures: the real data folder (skipped with a reason if absent) and offscreen Qt."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# pytest-qt aborts the whole run without a display unless Qt renders offscreen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kise_desktop.paths import MODELS_DIR, REPO_DIR, data_dir  # noqa: E402

SEED_MODEL = REPO_DIR.parent / "shared" / "anchors" / "seed_mini_xception_7class.tflite"
SEED_SIDECAR = REPO_DIR / "training" / "anchors" / "seed_mini_xception_7class.json"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = data_dir()
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent (set KISE_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def ferplus_root(shared_data: Path) -> Path:
    path = shared_data / "ferplus"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def dlib_faces_dir(shared_data: Path) -> Path:
    path = shared_data / "dlib-faces"
    if not (path / "testing.xml").is_file():
        pytest.skip(f"{path} (dlib face photos with boxes) is absent")
    return path


@pytest.fixture(scope="session")
def bundled_model() -> Path:
    path = MODELS_DIR / "kise_emotion.tflite"
    if not path.is_file():
        pytest.fail(f"bundled model {path} is missing from the repository")
    return path


@pytest.fixture(scope="session")
def seed_model() -> tuple[Path, Path]:
    if not SEED_MODEL.is_file():
        pytest.skip(f"seed model {SEED_MODEL} is absent")
    return SEED_MODEL, SEED_SIDECAR


@pytest.fixture(scope="session")
def any_model(seed_model: tuple[Path, Path]) -> tuple[Path, Path]:
    """(model, sidecar): the bundled model when it is committed, else the seed's."""
    bundled = MODELS_DIR / "kise_emotion.tflite"
    if bundled.is_file() and bundled.with_suffix(".json").is_file():
        return bundled, bundled.with_suffix(".json")
    return seed_model
