"""The robustness benchmark on a small real slice: real models, real corruptions, a real table."""
from __future__ import annotations

import json

import pytest

from training import evaluate, robustness
from training.corruptions import CORRUPTIONS, LEVELS

SLICE = 120


@pytest.fixture(scope="module")
def report(tmp_path_factory, bundled_model, seed_model, ferplus_root):
    out = tmp_path_factory.mktemp("robustness")
    seed_tflite, seed_sidecar = seed_model
    code = robustness.main([str(bundled_model), f"{seed_tflite}:{seed_sidecar}", "--limit", str(SLICE),
                            "--data", str(ferplus_root.parent), "--out", str(out)])
    assert code == 0
    return out, json.loads((out / "robustness.json").read_text())


def test_every_model_is_scored_on_every_corruption_and_severity(report):
    _, data = report
    assert data["images"] == SLICE and [m["classes"] for m in data["models"]] == [8, 7]
    expected = {"clean"} | {f"{n}/{lv}" for n in CORRUPTIONS for lv in LEVELS}
    for model in data["models"]:
        assert set(model["accuracy"]) == expected
        assert all(0.0 <= a <= 1.0 for a in model["accuracy"].values())
        assert model["latency_ms_batch1_1thread"] > 0


def test_the_bundled_model_beats_the_seed_clean_and_degrades_under_strong_corruption(report):
    _, data = report
    ours, seed = data["models"]
    assert ours["accuracy"]["clean"] > seed["accuracy"]["clean"] + 0.2
    assert ours["mean_corrupted"] > seed["mean_corrupted"]
    # Severity 3 of the photometric corruptions costs our model accuracy: the benchmark measures something.
    for name in ("gaussian_blur", "sensor_noise", "low_light"):
        assert ours["accuracy"][f"{name}/3"] < ours["accuracy"]["clean"], name


def test_table_and_markdown_name_every_corruption_and_the_cpu(report, capsys):
    out, data = report
    markdown = (out / "robustness.md").read_text()
    for name in CORRUPTIONS:
        assert name in data["text"] and name in markdown
    assert "mean under corruption" in markdown and "ISA" in markdown
    assert data["cpu"]["logical_cpus"] >= 1


def test_evaluate_corruptions_flag_runs_the_same_benchmark(tmp_path, bundled_model, ferplus_root, capsys):
    code = evaluate.main([str(bundled_model), "--corruptions", "--limit", "40", "--data", str(ferplus_root.parent),
                          "--out", str(tmp_path)])
    assert code == 0
    data = json.loads((tmp_path / "robustness.json").read_text())
    assert data["images"] == 40 and "mean under corruption" in capsys.readouterr().out


def test_a_missing_model_is_one_clear_line(tmp_path, capsys):
    assert robustness.main([str(tmp_path / "nope.tflite"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'nope.tflite'}: model file not found"]
