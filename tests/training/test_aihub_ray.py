"""training.prepare on a local Ray (2 CPUs): same rows as one process, clean shutdown, resume."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from training.data.aihub_synth import SynthConfig, generate  # noqa: E402
from training.data.prepared import load_prepared, read_manifest, shard_files  # noqa: E402
from training.prepare import SimulatedKill, run_prepare  # noqa: E402

NUM_CPUS = 2


@pytest.fixture(scope="module")
def sources(tmp_path_factory, shared_data: Path) -> dict[str, tuple[Path, Path]]:
    """Per format: a fixture (malformed cases included) and its single-process preparation."""
    base = tmp_path_factory.mktemp("ray")
    result = {}
    for fmt in ("a", "b"):
        src = base / f"src_{fmt}"
        generate(fmt, src, SynthConfig(clips=6, frames=5, malformed=True, keep_faces=False), data_root=shared_data)
        run_prepare(fmt, src, base / f"single_{fmt}", use_ray=False, progress=False)
        result[fmt] = (src, base / f"single_{fmt}")
    return result


def assert_same(out: Path, reference: Path) -> None:
    got, want = load_prepared(out), load_prepared(reference)
    assert len(got.row_keys()) == len(set(got.row_keys()))
    assert got.row_keys() == want.row_keys()  # shards load in a fixed order, whoever wrote them
    np.testing.assert_array_equal(got.images, want.images)
    np.testing.assert_array_equal(got.targets, want.targets)
    assert got.dropped == want.dropped


def test_ray_run_starts_a_local_cluster_and_shuts_it_down(tmp_path: Path, sources) -> None:
    assert not ray.is_initialized()
    src, single = sources["a"]
    report = run_prepare("a", src, tmp_path / "out", use_ray=True, num_cpus=NUM_CPUS, progress=False)
    assert not ray.is_initialized(), "prepare must shut down the Ray it started"
    assert report.mode == "ray"
    assert report.clips_done == report.clips_found
    assert_same(tmp_path / "out", single)


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the remaining tests (prepare reuses a running Ray and leaves it up)."""
    ray.init(num_cpus=NUM_CPUS, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield
    ray.shutdown()
    assert not ray.is_initialized()


def test_ray_format_b_matches_single_process(tmp_path: Path, sources, ray_session) -> None:
    src, single = sources["b"]
    report = run_prepare("b", src, tmp_path / "out", use_ray=True, progress=False)
    assert ray.is_initialized(), "a Ray started by the caller is left running"
    assert report.total_skipped == run_prepare("b", src, single, use_ray=False, progress=False).total_skipped
    assert_same(tmp_path / "out", single)


def test_ray_resume_after_interruption(tmp_path: Path, sources, ray_session) -> None:
    src, single = sources["a"]
    out = tmp_path / "out"
    with pytest.raises(SimulatedKill):
        run_prepare("a", src, out, use_ray=True, progress=False, stop_after=2)
    # Tasks in flight at the "kill" may still have published their shards.
    shards_before = len(shard_files(out))
    assert shards_before >= 2
    report = run_prepare("a", src, out, use_ray=True, progress=False)
    assert report.clips_already_done == shards_before
    assert report.clips_done == report.clips_found - shards_before
    assert len(read_manifest(out)) == report.clips_found
    assert_same(out, single)
