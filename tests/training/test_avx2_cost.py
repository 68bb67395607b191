"""The AVX2 cost table: real models under real valgrind, counted on the kernels an AVX2-only laptop runs."""
from __future__ import annotations

import json
import shutil

import pytest

from training import avx2_cost

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None,
                                reason="valgrind is not installed (.ci/run installs it)")
FACES = 8


@pytest.fixture(scope="module")
def table(tmp_path_factory, bundled_model, seed_model, ferplus_root):
    out = tmp_path_factory.mktemp("avx2") / "avx2_cost.json"
    seed_tflite, seed_sidecar = seed_model
    code = avx2_cost.main([str(bundled_model), f"{seed_tflite}:{seed_sidecar}", "--faces", str(FACES),
                           "--reference", f"{seed_tflite.stem}=0.36", "--data", str(ferplus_root.parent),
                           "--out", str(out)])
    assert code == 0
    return json.loads(out.read_text())


def test_valgrind_hides_avx512_so_xnnpack_runs_its_avx2_kernels(table):
    ours, seed = table["models"]
    assert "avx2" in ours["isa"] and not any(isa.startswith("avx512") for isa in ours["isa"])
    assert "qs8" in ours["largest_kernel"]          # the bundled model is int8
    assert "f32" in seed["largest_kernel"]          # the seed is float32
    assert not any(isa.startswith("avx512") for isa in seed["isa"])


def test_counts_per_face_are_positive_and_ordered_like_the_models_sizes(table):
    ours, seed = table["models"]
    # The bundled network does several times the seed's arithmetic (and mirror averaging doubles it).
    assert ours["instructions_per_face"] > 2 * seed["instructions_per_face"] > 0
    assert ours["ratio_vs_first"] == 1.0
    assert seed["estimated_ms"] == pytest.approx(0.36)
    assert ours["estimated_ms"] == pytest.approx(0.36 * ours["instructions_per_face"] / seed["instructions_per_face"])


def test_a_missing_model_is_one_line_and_exit_2(tmp_path, capsys):
    code = avx2_cost.main([str(tmp_path / "nope.tflite")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "nope.tflite" in err[0]


def test_a_truncated_model_is_one_line_naming_it_before_any_valgrind_run(tmp_path, bundled_model, capsys):
    broken = tmp_path / "kise_emotion.tflite"
    broken.write_bytes(bundled_model.read_bytes()[:5000])
    (tmp_path / "kise_emotion.json").write_bytes(bundled_model.with_suffix(".json").read_bytes())
    code = avx2_cost.main([str(broken), "--out", str(tmp_path / "out.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(broken) in err[0]
    assert not (tmp_path / "out.json").exists()
