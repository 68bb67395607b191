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


def test_rebuilt_model_predicts_what_the_bundled_file_predicts(bundled_model, ferplus_root):
    import keras

    from training.export import with_flip_averaging

    config = load_config(REPO_DIR / "training/configs/kise_sepnet_deep3_light.json")
    model = rebuild(bundled_model, config, calibration_faces(str(ferplus_root.parent), n=256))
    faces = load_split("test", "majority", ferplus_root.parent).images[:300]
    ours = with_flip_averaging(model).predict(faces[..., None].astype(np.float32), batch_size=300, verbose=0)
    shipped = EmotionClassifier(bundled_model).predict(faces)
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
