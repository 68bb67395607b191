"""The webcam corruptions on real FER+ faces: each changes the face, is deterministic for
a seed, and a stronger severity moves the face further from the original."""
from __future__ import annotations

import numpy as np
import pytest

from training.corruptions import CORRUPTIONS, LEVELS, corrupt
from training.data.ferplus import load_split


@pytest.fixture(scope="module")
def faces(ferplus_root) -> np.ndarray:
    # Real test faces; 64 so that random per-image draws (sides, signs, directions) all occur.
    return load_split("test", "majority", ferplus_root.parent).images[:64]


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_each_corruption_changes_every_face_and_keeps_shape_and_type(faces, name):
    original = faces.copy()
    for level in LEVELS:
        out = corrupt(faces, name, level, seed=0)
        assert out.shape == faces.shape and out.dtype == np.uint8
        changed = [not np.array_equal(o, f) for o, f in zip(out, faces)]
        assert all(changed), f"{name}/{level} left {changed.count(False)} faces unchanged"
    np.testing.assert_array_equal(faces, original)  # the input is never modified


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_each_corruption_is_deterministic_for_a_seed(faces, name):
    a = corrupt(faces, name, 2, seed=5)
    b = corrupt(faces.copy(), name, 2, seed=5)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["motion_blur", "sensor_noise", "side_light", "rotation", "box_jitter"])
def test_random_corruptions_depend_on_the_seed(faces, name):
    assert not np.array_equal(corrupt(faces, name, 3, seed=0), corrupt(faces, name, 3, seed=1))


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_stronger_severity_is_further_from_the_original(faces, name):
    distances = [_distance(corrupt(faces, name, level, seed=0), faces) for level in LEVELS]
    assert distances[0] > 0.3, f"{name}: severity 1 barely changes the faces ({distances[0]:.2f} grey levels)"
    assert distances[0] < distances[1] < distances[2], f"{name}: {distances}"


def test_unknown_corruption_or_severity_is_a_clear_error(faces):
    with pytest.raises(ValueError, match="unknown corruption 'fog'"):
        corrupt(faces, "fog", 1)
    with pytest.raises(ValueError, match="severity must be one of"):
        corrupt(faces, "jpeg", 4)
