"""The post-hoc class bias: fitted on real validation faces with the bundled model, reported on test."""
from __future__ import annotations

import json

import numpy as np
import pytest

from training import class_bias
from training.class_bias import apply_bias, fit_bias, summary


def test_a_bias_moves_decisions_towards_a_class_and_keeps_rows_normalised():
    probs = np.array([[0.6, 0.3, 0.1, 0, 0, 0, 0, 0], [0.2, 0.7, 0.1, 0, 0, 0, 0, 0]], dtype=np.float64)
    bias = np.zeros(8)
    bias[2] = 1.5
    moved = apply_bias(probs, bias)
    np.testing.assert_allclose(moved.sum(1), 1.0)
    assert moved[:, 2].tolist() > probs[:, 2].tolist()
    assert moved.argmax(1).tolist() == [0, 1]           # exp(1.5) * 0.1 = 0.45 is still under 0.6 and 0.7
    bias[2] = 1.9                                      # 0.67: above 0.6, under 0.7
    assert apply_bias(probs, bias).argmax(1).tolist() == [2, 1]


@pytest.mark.slow
def test_the_fitted_bias_never_costs_validation_accuracy_and_the_table_reports_both_splits(
        tmp_path, bundled_model, ferplus_root, capsys):
    code = class_bias.main([f"{bundled_model}@off", "--data", str(ferplus_root.parent), "--limit", "600",
                            "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "valid" in out and "test" in out and "kise_emotion @off" in out
    doc = json.loads((tmp_path / "class_bias.json").read_text())
    row = doc["models"][0]
    assert set(row["bias"]) == {"neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                                "contempt"} and row["bias"]["neutral"] == 0
    before, after = row["valid"]["before"], row["valid"]["after"]
    assert after["accuracy"] >= before["accuracy"] and after["macro_f1"] >= before["macro_f1"]


def test_fitting_on_a_model_already_at_its_best_changes_nothing():
    labels = np.arange(8).repeat(5)
    probs = np.full((40, 8), 0.02)
    probs[np.arange(40), labels] = 0.86                  # every face right: nothing to gain
    assert not fit_bias(probs, labels, 0.0).any()
    assert summary(probs, labels)["macro_f1"] == 1.0
