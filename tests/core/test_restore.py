"""Crop restoration (core/restore.py) on real FER+ faces, alone and inside the bundled model's classifier."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from kise_desktop.core.classifier import EmotionClassifier, ModelError
from kise_desktop.core.restore import VALIDATED_SETTINGS, Restoration, bright_level, noise_sigma
from training import corruptions
from training.data.ferplus import load_split

RESTORE = Restoration(**VALIDATED_SETTINGS)


@pytest.fixture(scope="module")
def faces(ferplus_root) -> tuple[np.ndarray, np.ndarray]:
    valid = load_split("valid", "majority", ferplus_root.parent)
    return valid.images[:400], valid.labels[:400]


@pytest.fixture(scope="module")
def plain_faces(faces) -> np.ndarray:
    """Faces that need no repair: well exposed and not grainy (most FER+ faces)."""
    images = faces[0]
    keep = (bright_level(images) >= VALIDATED_SETTINGS["dark_below"]) & \
           (noise_sigma(images) <= VALIDATED_SETTINGS["noise_above"])
    assert keep.mean() > 0.8
    return images[keep]


def test_faces_that_need_no_repair_pass_unchanged(plain_faces):
    out = RESTORE(plain_faces)
    assert out is plain_faces                       # not even copied
    assert Restoration()(plain_faces) is plain_faces


def test_a_dark_face_is_lifted_back_towards_the_original(plain_faces):
    original = plain_faces[:64]
    dark = corruptions.corrupt(original, "low_light", 3)
    assert (bright_level(dark) < 20).all()          # a grey level range of under 20: nearly black
    lifted = RESTORE(dark)
    assert lifted is not dark and not np.shares_memory(lifted, dark)
    np.testing.assert_array_equal(dark, corruptions.corrupt(original, "low_light", 3))   # the input is untouched
    assert (bright_level(lifted) > 200).all()
    means = lifted.reshape(64, -1).mean(1)
    assert abs(np.median(means) - 128) < 15 and means.min() > 80 and means.max() < 200   # around mid-grey
    corr = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(original, lifted)]
    assert np.median(corr) > 0.8                    # the same face, its structure kept


def test_the_noise_estimate_tracks_the_added_noise_and_denoising_brings_the_face_back(plain_faces):
    original = plain_faces[:64]
    base = noise_sigma(original)
    for level, std in zip((1, 2, 3), corruptions.SEVERITIES["sensor_noise"]):
        estimate = noise_sigma(corruptions.corrupt(original, "sensor_noise", level))
        assert np.median(estimate) == pytest.approx(np.sqrt(std ** 2 + np.median(base) ** 2), rel=0.25)
    noisy = corruptions.corrupt(original, "sensor_noise", 3)
    repaired = RESTORE(noisy)
    error_before = np.abs(noisy.astype(float) - original).mean()
    error_after = np.abs(repaired.astype(float) - original).mean()
    assert error_after < 0.6 * error_before
    assert noise_sigma(repaired).max() < noise_sigma(noisy).min()


def test_the_bundled_model_reads_dark_and_noisy_faces_better_with_its_sidecar_restoration(
        faces, bundled_model, tmp_path):
    images, labels = faces
    sidecar = json.loads(bundled_model.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["restore"] == VALIDATED_SETTINGS
    without = tmp_path / "no_restore.json"
    without.write_text(json.dumps({k: v for k, v in sidecar.items() if k != "restore"}))
    restored, raw = EmotionClassifier(bundled_model), EmotionClassifier(bundled_model, without)
    assert restored.restore.active and not raw.restore.active

    def accuracy(classifier, batch):
        return float((classifier.predict(batch).argmax(1) == labels).mean())

    clean_gap = accuracy(restored, images) - accuracy(raw, images)
    assert abs(clean_gap) <= 0.01                   # clean faces are read as before (within 4 of 400)
    for name in ("low_light", "sensor_noise"):
        degraded = corruptions.corrupt(images, name, 3)
        gain = accuracy(restored, degraded) - accuracy(raw, degraded)
        assert gain > 0.1, f"{name}: restoration gained only {gain:.3f}"


@pytest.mark.parametrize("restore, field", [("dark", "restore"), ({"dark_below": -1}, "restore.dark_below"),
                                            ({"noise_above": "6"}, "restore.noise_above"),
                                            ({"sharpen": 1}, "restore.sharpen")])
def test_a_bad_restore_setting_is_one_line_naming_the_sidecar_and_field(tmp_path, bundled_model, restore, field):
    model = tmp_path / "m.tflite"
    shutil.copy(bundled_model, model)
    sidecar = json.loads(bundled_model.with_suffix(".json").read_text(encoding="utf-8"))
    sidecar["restore"] = restore
    (tmp_path / "m.json").write_text(json.dumps(sidecar))
    with pytest.raises(ModelError) as caught:
        EmotionClassifier(model)
    message = str(caught.value)
    assert str(tmp_path / "m.json") in message and f"'{field}'" in message and "\n" not in message
