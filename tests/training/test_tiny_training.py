"""A tiny real training run: TFLite export works and resume continues at the next epoch."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.paths import REPO_DIR
from training.data.ferplus import load_split
from training.export import convert, sidecar_for
from training.train import load_config, train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, ferplus_root):
    out = tmp_path_factory.mktemp("tiny_run")
    config = load_config(REPO_DIR / "training/configs/tiny.json", {"epochs": 1})
    train(config, out, str(ferplus_root.parent))
    return out, config


def test_tiny_run_exports_a_working_tflite(tiny_run, ferplus_root):
    import keras

    out, config = tiny_run
    model = keras.models.load_model(out / "best.keras")
    tflite = out / "tiny.tflite"
    tflite.write_bytes(convert(model, "float32"))
    tflite.with_suffix(".json").write_text(json.dumps(sidecar_for("float32", tflite.name, config, {}, "-")))
    classifier = EmotionClassifier(tflite)
    faces = load_split("test", "majority", ferplus_root.parent).images[:5]
    probs = classifier.predict(faces)
    assert probs.shape == (5, 8)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    assert (probs >= 0).all()


def test_resume_continues_at_the_next_epoch(tiny_run, ferplus_root, capfd):
    out, _ = tiny_run
    assert json.loads((out / "state.json").read_text())["epoch"] == 1
    config = load_config(REPO_DIR / "training/configs/tiny.json", {"epochs": 2})
    train(config, out, str(ferplus_root.parent))
    assert "resuming" in capfd.readouterr().err
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 2
    epochs_logged = [line.split(",")[0] for line in (out / "log.csv").read_text().splitlines()[1:]]
    assert epochs_logged == ["1", "2"]  # epoch 1 was not redone
