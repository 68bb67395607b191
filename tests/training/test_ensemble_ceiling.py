"""The ensemble ceiling on a real slice of FER+ validation, read by the real bundled and v1 models."""
from __future__ import annotations

import pytest

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.paths import REPO_DIR
from training import ensemble_ceiling
from training.data.ferplus import load_split

V1 = REPO_DIR / "training/anchors/kise_emotion_v1.tflite"


def test_each_model_and_their_average_on_the_same_faces(ferplus_root, bundled_model, capsys):
    data = str(ferplus_root.parent)
    assert ensemble_ceiling.main([f"{bundled_model}@off", str(V1), "--limit", "300", "--data", data]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert [row[0] for row in rows] == ["kise_emotion", "kise_emotion_v1", "kise_emotion"]
    assert rows[2][:4] == ["kise_emotion", "@off", "+", "kise_emotion_v1"]

    faces = load_split("valid", "majority", data)
    images, labels = faces.images[:300], faces.labels[:300]
    one = EmotionClassifier(bundled_model, mirror="off").predict(images)
    two = EmotionClassifier(V1).predict(images)
    assert float(rows[0][-3]) == pytest.approx((one.argmax(1) == labels).mean(), abs=1e-4)
    assert float(rows[2][-3]) == pytest.approx(((one + two).argmax(1) == labels).mean(), abs=1e-4)


def test_a_seven_class_model_is_refused_in_one_line(ferplus_root, shared_data, capsys):
    seed = shared_data.parent / "anchors/seed_mini_xception_7class.tflite"
    if not seed.is_file():
        pytest.skip(f"{seed} is absent")
    sidecar = REPO_DIR / "training/anchors/seed_mini_xception_7class.json"
    assert ensemble_ceiling.main([f"{seed}:{sidecar}", "--limit", "10", "--data", str(ferplus_root.parent)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "7-class model" in err[0]
