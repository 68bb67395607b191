"""Taking the folded mirror out of the v2 file, on real FER+ faces, and timing the result."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.paths import REPO_DIR
from training import latency, strip_mirror
from training.data.ferplus import load_split

FOLDED = REPO_DIR / "training/anchors/kise_emotion_v2_folded.tflite"


def ops(path) -> list[str]:
    from ai_edge_litert.interpreter import Interpreter

    return [op["op_name"] for op in Interpreter(str(path))._get_ops_details()]


def test_the_bundled_file_is_the_v2_file_with_its_mirror_taken_out(tmp_path, bundled_model):
    out = tmp_path / "single.tflite"
    assert strip_mirror.main([str(FOLDED), "--out", str(out)]) == 0
    assert out.read_bytes() == bundled_model.read_bytes()               # the bundle is reproducible
    folded_ops, single_ops = ops(FOLDED), ops(out)
    assert "REVERSE_V2" in folded_ops and "REVERSE_V2" not in single_ops
    assert single_ops.count("SOFTMAX") == 1 and single_ops.count("CONV_2D") * 2 == folded_ops.count("CONV_2D")
    assert out.stat().st_size < FOLDED.stat().st_size


def test_the_single_pass_with_the_mirror_at_run_time_reads_as_the_folded_file(bundled_model, ferplus_root):
    faces = load_split("valid", "majority", ferplus_root.parent).images[:400]
    folded = EmotionClassifier(FOLDED, FOLDED.with_suffix(".json")).predict(faces)
    runtime = EmotionClassifier(bundled_model, mirror="on").predict(faces)
    single = EmotionClassifier(bundled_model, mirror="off").predict(faces)
    # The folded file's mirrored branch has its own int8 calibration, so the two differ by rounding only.
    assert (runtime.argmax(1) == folded.argmax(1)).mean() >= 0.98
    assert np.abs(runtime - folded).mean() < 0.01
    assert (single.argmax(1) == folded.argmax(1)).mean() < (runtime.argmax(1) == folded.argmax(1)).mean()


@pytest.mark.parametrize("case", ["not folded", "not a model", "same as input"])
def test_what_cannot_be_stripped_is_refused_in_one_line(tmp_path, bundled_model, capsys, case):
    source = {"not folded": bundled_model, "not a model": tmp_path / "junk.tflite",
              "same as input": tmp_path / "copy.tflite"}[case]
    if case == "not a model":
        source.write_bytes(b"TFL3" + bytes(range(256)) * 8)
    if case == "same as input":
        source.write_bytes(FOLDED.read_bytes())
    out = source if case == "same as input" else tmp_path / "out.tflite"
    assert strip_mirror.main([str(source), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(source) in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.tflite").exists()
    if case == "same as input":
        assert source.read_bytes() == FOLDED.read_bytes()              # the input is untouched


def test_the_latency_table_times_the_models_interleaved(tmp_path, bundled_model, ferplus_root, capsys):
    out = tmp_path / "latency.json"
    specs = [f"{bundled_model}@off", f"{bundled_model}@on", str(FOLDED)]
    assert latency.main([*specs, "--rounds", "3", "--faces", "20", "--budget", "1",
                         "--data", str(ferplus_root.parent), "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert table.startswith("CPU: ") and "kise_emotion @off" in table and "<= 1 ms" in table
    rows = json.loads(out.read_text())["models"]
    assert [r["mirror"] for r in rows] == ["none", "runtime", "folded"]
    assert rows[0]["ratio_vs_first"] == 1.0
    # Two passes cost more than one on any CPU; the margin is loose because a shared VM is noisy.
    assert rows[1]["ratio_vs_first"] > 1.3 and rows[2]["ratio_vs_first"] > 1.3
    assert all(r["min_ms"] <= r["median_ms"] <= r["max_ms"] for r in rows)
