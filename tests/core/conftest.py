"""Fixtures for the runtime core: real annotated photos and a real classifier."""
from __future__ import annotations

from pathlib import Path

import pytest

from kise_desktop.core.bench import AnnotatedPhoto, load_annotations
from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.core.sources import load_image


@pytest.fixture(scope="session")
def annotated_photos(dlib_faces_dir: Path) -> list[AnnotatedPhoto]:
    photos = load_annotations(dlib_faces_dir)
    assert photos, f"no annotated photos in {dlib_faces_dir}"
    return photos


@pytest.fixture(scope="session")
def group_photo(dlib_faces_dir: Path):
    """A real photo with three well-separated faces (2008_001322.jpg), BGR."""
    return load_image(dlib_faces_dir / "2008_001322.jpg")


@pytest.fixture(scope="session")
def classifier(any_model: tuple[Path, Path]) -> EmotionClassifier:
    return EmotionClassifier(*any_model)


@pytest.fixture(scope="session")
def seed_classifier(seed_model: tuple[Path, Path]) -> EmotionClassifier:
    return EmotionClassifier(*seed_model)
