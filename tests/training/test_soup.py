"""Weight-space soups: the line between a model and its fine-tune, scored on real validation faces."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kise_desktop.paths import REPO_DIR
from training.data.ferplus import DataError
from training.from_tflite import calibration_faces, rebuild
from training.soup import interpolate, main
from training.train import load_config

pytestmark = pytest.mark.slow

CONFIG = REPO_DIR / "training/configs/kise_sepnet_deep3_light.json"


@pytest.fixture(scope="module")
def bundled_keras(bundled_model, ferplus_root):
    return rebuild(bundled_model, load_config(CONFIG), calibration_faces(str(ferplus_root.parent), n=128))


def nudged(model, scale: float):
    """A stand-in for a fine-tune: the same network with every weight moved a little."""
    import keras

    other = keras.models.clone_model(model)
    rng = np.random.default_rng(0)
    other.set_weights([w + scale * np.abs(w).mean() * rng.standard_normal(w.shape).astype(w.dtype)
                       if w.dtype.kind == "f" else w for w in model.get_weights()])
    return other


def test_interpolation_ends_are_the_two_models_and_the_middle_is_between(bundled_keras):
    end = nudged(bundled_keras, 0.5)
    a, b = bundled_keras.get_weights(), end.get_weights()
    for alpha, expected in ((0.0, a), (1.0, b)):
        got = interpolate(bundled_keras, end, alpha)
        assert all(np.allclose(g, e) for g, e in zip(got, expected))
    middle = interpolate(bundled_keras, end, 0.5)
    assert all(np.allclose(m, (x + y) / 2, atol=1e-6) for m, x, y in zip(middle, a, b))
    assert any(not np.allclose(m, x) for m, x in zip(middle, a))


def test_another_architecture_is_refused(bundled_keras):
    import keras

    other = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(8)])
    with pytest.raises(DataError, match="different architectures"):
        interpolate(bundled_keras, other, 0.5)


def test_the_command_keeps_clean_accuracy_and_writes_the_chosen_soup(bundled_keras, bundled_model,
                                                                      ferplus_root, tmp_path, capsys):
    # A heavily nudged "fine-tune" is worse clean: with --max-clean-drop 0 the soup may not be it.
    end_dir = tmp_path / "ft"
    end_dir.mkdir()
    nudged(bundled_keras, 3.0).save(end_dir / "best.keras")
    (end_dir / "config.json").write_text(CONFIG.read_text())
    out = tmp_path / "soup"
    code = main([str(bundled_model), str(end_dir / "best.keras"), "--out", str(out), "--alphas", "0", "1",
                 "--limit", "200", "--data", str(ferplus_root.parent)])
    assert code == 0
    report = json.loads((out / "soup.json").read_text())
    rows = {r["alpha"]: r for r in report["rows"]}
    assert rows[0.0]["valid_clean"] > rows[1.0]["valid_clean"]        # the nudge hurt, as it should
    assert report["chosen"]["alpha"] == 0.0
    assert (out / "best.keras").is_file() and json.loads((out / "config.json").read_text())["soup"]["alpha"] == 0.0
    table = capsys.readouterr().out
    assert "| 0.00 (chosen) |" in table and "| 1.00 |" in table
