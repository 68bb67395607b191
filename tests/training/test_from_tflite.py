"""Rebuilding Keras weights from the bundled TFLite file: the same network, trainable again."""
from __future__ import annotations

import numpy as np
import pytest

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.paths import REPO_DIR
from training.data.ferplus import load_split
from training.from_tflite import calibration_faces, rebuild
from training.train import load_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rebuilt(bundled_model, ferplus_root):
    config = load_config(REPO_DIR / "training/configs/kise_sepnet_deep3_light.json")
    return rebuild(bundled_model, config, calibration_faces(str(ferplus_root.parent), n=256)), config


def test_rebuilt_model_predicts_what_the_bundled_file_predicts(rebuilt, bundled_model, ferplus_root):
    import keras

    from training.export import with_flip_averaging

    model, _ = rebuilt
    faces = load_split("test", "majority", ferplus_root.parent).images[:300]
    ours = with_flip_averaging(model).predict(faces[..., None].astype(np.float32), batch_size=300, verbose=0)
    shipped = EmotionClassifier(bundled_model, mirror="on").predict(faces)     # as folded in `ours`
    # int8 activations vs float ones: the same top-1 on nearly every face, close probabilities.
    assert (ours.argmax(1) == shipped.argmax(1)).mean() >= 0.97
    assert np.abs(ours - shipped).mean() < 0.02
    # BatchNorm holds real statistics, not the placeholder unit ones: a fine-tune starts from this function.
    bn = model.get_layer("block2_a_bn")
    gamma, beta, mean, var = bn.get_weights()
    assert not np.allclose(var, 1.0 - bn.epsilon) and np.allclose(gamma, np.sqrt(var + bn.epsilon))
    assert isinstance(model.get_layer("block1_a_sep"), keras.layers.SeparableConv2D)


def test_a_config_for_another_network_is_refused(bundled_model, ferplus_root):
    from training.data.ferplus import DataError

    config = load_config(REPO_DIR / "training/configs/kise_sepnet_w48.json")
    with pytest.raises(DataError, match="do not match the config's network"):
        rebuild(bundled_model, config, calibration_faces(str(ferplus_root.parent), n=64))


def test_its_dynamic_range_export_is_small_and_reads_faces_like_the_bundled_int8(rebuilt, bundled_model,
                                                                                   ferplus_root, tmp_path):
    import json

    from training.export import convert, sidecar_for, with_flip_averaging

    model, config = rebuilt
    tflite = tmp_path / "dynamic.tflite"
    tflite.write_bytes(convert(with_flip_averaging(model), "dynamic"))
    tflite.with_suffix(".json").write_text(json.dumps(sidecar_for("dynamic", tflite.name, config, {}, "-")))
    # int8 weights (about a byte per parameter), float activations.
    assert tflite.stat().st_size < min(1.3 * model.count_params(), 1_000_000)
    faces = load_split("test", "majority", ferplus_root.parent).images[:300]
    dynamic, shipped = EmotionClassifier(tflite).predict(faces), EmotionClassifier(bundled_model, mirror="on").predict(faces)
    assert (dynamic.argmax(1) == shipped.argmax(1)).mean() >= 0.95
