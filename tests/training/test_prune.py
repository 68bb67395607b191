"""Cutting the bundled network to narrower blocks: the right shapes, and the kept channels are the ones that matter."""
from __future__ import annotations

import numpy as np
import pytest

from kise_desktop.paths import REPO_DIR
from training.data.ferplus import DataError, load_split
from training.from_tflite import calibration_faces, rebuild
from training.models import build_model, inner_width
from training.prune import prune_into
from training.train import load_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wide(bundled_model, ferplus_root):
    config = load_config(REPO_DIR / "training/configs/kise_v2_pairs_blur_ft.json")
    calibration = calibration_faces(str(ferplus_root.parent), n=256)
    return rebuild(bundled_model, config, calibration), config, calibration


def accuracy(model, faces: np.ndarray, labels: np.ndarray) -> float:
    return float((model.predict(faces[..., None].astype(np.float32), batch_size=256, verbose=0).argmax(1)
                  == labels).mean())


def test_the_cut_narrows_only_the_convs_inside_blocks(wide):
    source, config, calibration = wide
    narrow = build_model(config["architecture"], **{**config["model_args"], "inner_ratio": 0.5})
    kept = prune_into(source, narrow, calibration)
    assert kept["block1_a"] == (32, 64) and kept["block3_a2"] == (128, 256)
    assert inner_width(256, 0.375) == 96 and inner_width(64, 0.05) == 8
    # Block outputs (and so the shortcuts and the head) keep their width and their weights.
    for name in ("stem_conv", "block2_short", "probabilities"):
        for a, b in zip(source.get_layer(name).get_weights(), narrow.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    assert narrow.count_params() < 0.6 * source.count_params()


def test_keeping_the_important_channels_beats_keeping_the_others(wide, ferplus_root, monkeypatch):
    import training.prune as prune

    source, config, calibration = wide
    valid = load_split("valid", "majority", ferplus_root.parent)
    faces, labels = valid.images[:600], valid.labels[:600]
    args = {**config["model_args"], "inner_ratio": 0.75}
    by_importance = build_model(config["architecture"], **args)
    prune_into(source, by_importance, calibration)
    # The same cut with the ranking reversed: the least important channels kept.
    monkeypatch.setattr(prune, "channel_importance", lambda *a, f=prune.channel_importance: -f(*a))
    reversed_cut = build_model(config["architecture"], **args)
    prune_into(source, reversed_cut, calibration)
    monkeypatch.undo()
    assert accuracy(by_importance, faces, labels) > accuracy(reversed_cut, faces, labels) + 0.1


def test_a_cut_that_changes_a_block_output_is_refused_in_one_line(wide):
    source, config, calibration = wide
    other = build_model(config["architecture"], **{**config["model_args"], "widths": [32, 64, 128, 256, 128]})
    with pytest.raises(DataError, match="only the convs inside a block can be narrowed"):
        prune_into(source, other, calibration)
