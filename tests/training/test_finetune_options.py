"""A real fine-tune of the bundled model with frozen BatchNorm and clean pairs, on real FER+ faces."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kise_desktop.paths import REPO_DIR
from training.from_tflite import calibration_faces, rebuild
from training.train import load_config, train

pytestmark = pytest.mark.slow


def test_a_frozen_batchnorm_fine_tune_keeps_the_statistics_and_trains_the_rest(tmp_path, ferplus_root, bundled_model):
    import keras

    config = load_config(REPO_DIR / "training/configs/kise_v2_pairs_frozen_ft.json",
                         {"epochs": 1, "limit_train": 256, "limit_valid": 128, "batch_size": 64, "export": False,
                          "data_workers": 1, "init_from": str(bundled_model)})
    assert config["freeze_batchnorm"] and config["clean_pairs"]
    train(config, tmp_path, str(ferplus_root.parent))
    tuned = keras.models.load_model(tmp_path / "checkpoint.keras")
    start = rebuild(bundled_model, config, calibration_faces(str(ferplus_root.parent), seed=config["seed"]))
    bn = [layer.name for layer in start.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bn) == 17
    for name in bn:
        assert not tuned.get_layer(name).trainable          # still frozen after a save and a load
        for before, after in zip(start.get_layer(name).get_weights(), tuned.get_layer(name).get_weights()):
            np.testing.assert_array_equal(before, after)
    moved = [name for name in ("stem_conv", "probabilities")
             if not np.array_equal(start.get_layer(name).get_weights()[0], tuned.get_layer(name).get_weights()[0])]
    assert moved == ["stem_conv", "probabilities"]


def test_a_narrower_config_starts_from_the_bundled_file_cut_down(tmp_path, ferplus_root, bundled_model, capfd):
    import keras

    config = load_config(REPO_DIR / "training/configs/kise_v2_slim375_distill.json",
                         {"epochs": 1, "limit_train": 256, "limit_valid": 128, "batch_size": 64, "export": False,
                          "data_workers": 1, "distill": None, "init_from": str(bundled_model)})
    train(config, tmp_path, str(ferplus_root.parent))
    assert "cut to block1_a 24/64" in capfd.readouterr().err
    tuned = keras.models.load_model(tmp_path / "checkpoint.keras")
    assert tuned.get_layer("block3_a_sep").get_weights()[1].shape[-1] == 96      # 3/8 of 256
    assert tuned.get_layer("block3_b_sep").get_weights()[1].shape[-1] == 256     # block outputs keep their width


def test_a_config_without_test_time_flip_exports_a_single_pass_model(tmp_path, ferplus_root, bundled_model):
    from ai_edge_litert.interpreter import Interpreter

    config = load_config(REPO_DIR / "training/configs/kise_v2_noflip_distill.json",
                         {"epochs": 1, "limit_train": 256, "limit_valid": 64, "batch_size": 64,
                          "data_workers": 1, "distill": None, "init_from": str(bundled_model)})
    assert config["test_time_flip"] is False
    train(config, tmp_path, str(ferplus_root.parent))
    report = json.loads((tmp_path / "export_report.json").read_text())
    assert report["fold_flip"] is False and report["keras"]["test_images"] == 64
    ops = {op["op_name"] for op in Interpreter(str(tmp_path / "kise_emotion_int8.tflite"))._get_ops_details()}
    folded = REPO_DIR / "training/anchors/kise_emotion_v2_folded.tflite"
    folded_ops = {op["op_name"] for op in Interpreter(str(folded))._get_ops_details()}
    assert "REVERSE_V2" in folded_ops and "REVERSE_V2" not in ops      # a default export mirrors, this one does not


def test_a_teacher_read_once_is_mixed_into_the_targets_and_kept_for_a_resume(tmp_path, ferplus_root, bundled_model):
    from kise_desktop.core.classifier import EmotionClassifier
    from training.train import prepare_data

    config = load_config(REPO_DIR / "training/configs/kise_v3_born_again.json",
                         {"epochs": 1, "limit_train": 128, "limit_valid": 64, "batch_size": 64, "export": False,
                          "data_workers": 1})
    assert config["distill"]["once"] is True
    config["distill"] = {**config["distill"], "teacher": str(bundled_model)}
    train(config, tmp_path, str(ferplus_root.parent))
    readings = np.load(tmp_path / "teacher_readings.npy")
    train_split, _, _ = prepare_data(config, str(ferplus_root.parent))
    teacher = EmotionClassifier(bundled_model, mirror="on")
    np.testing.assert_allclose(readings, teacher.predict(train_split.images), atol=1e-6)
    np.testing.assert_allclose(readings.sum(1), 1.0, atol=1e-5)
    # A rerun with more epochs resumes and reads the teacher back instead of running it again.
    before = (tmp_path / "teacher_readings.npy").stat().st_mtime_ns
    train({**config, "epochs": 2}, tmp_path, str(ferplus_root.parent))
    assert (tmp_path / "teacher_readings.npy").stat().st_mtime_ns == before
    assert json.loads((tmp_path / "state.json").read_text())["epoch"] == 2


def test_teacher_pack_reads_an_ensemble_once_and_a_run_trains_from_it_without_the_teacher(
        tmp_path, ferplus_root, bundled_model):
    """The GPU route: readings made here (the ensemble averaged, each member mirrored), then a run on a
    machine where the teacher file cannot be opened."""
    from kise_desktop.core.classifier import EmotionClassifier
    from training import teacher_pack
    from training.train import prepare_data

    v1 = REPO_DIR / "training/anchors/kise_emotion_v1.tflite"
    config = json.loads((REPO_DIR / "training/configs/kise_v3_ensemble.json").read_text())
    config.update({"epochs": 1, "limit_train": 96, "limit_valid": 64, "batch_size": 32, "export": False,
                   "data_workers": 1})
    config["distill"] = {**config["distill"], "teacher": [str(bundled_model), str(v1)]}
    config_path = tmp_path / "kise_v3_ensemble.json"
    config_path.write_text(json.dumps(config))
    assert teacher_pack.main([str(tmp_path / "readings"), str(config_path), "--data", str(ferplus_root.parent)]) == 0
    readings = np.load(tmp_path / "readings/kise_v3_ensemble.npy")
    faces = prepare_data(load_config(config_path), str(ferplus_root.parent))[0].images
    members = [EmotionClassifier(bundled_model, mirror="on").predict(faces),
               EmotionClassifier(v1, REPO_DIR / "training/anchors/kise_emotion_v1.json", mirror="on").predict(faces)]
    np.testing.assert_allclose(readings, np.mean(members, axis=0), atol=1e-6)
    assert not np.allclose(members[0], members[1], atol=1e-3)      # two teachers that do disagree

    run = tmp_path / "run"
    run.mkdir()
    (run / "teacher_readings.npy").write_bytes((tmp_path / "readings/kise_v3_ensemble.npy").read_bytes())
    gone = load_config(config_path, {"distill": {**config["distill"], "teacher": str(tmp_path / "no_such.tflite")}})
    train(gone, run, str(ferplus_root.parent))
    assert json.loads((run / "state.json").read_text())["epoch"] == 1
