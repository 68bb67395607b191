"""Resumability of training.prepare: a kill at any point, then a rerun, loses and duplicates nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kise_desktop.paths import REPO_DIR
from training.data.aihub_synth import SynthConfig, generate
from training.data.prepared import MANIFEST, SHARDS, load_prepared, read_manifest, shard_files
from training.prepare import SimulatedKill, run_prepare

CLIPS, FRAMES = 6, 4


@pytest.fixture(scope="module")
def source(tmp_path_factory, shared_data: Path) -> tuple[Path, Path]:
    """A format-A fixture and a clean, uninterrupted reference preparation of it."""
    base = tmp_path_factory.mktemp("resume")
    generate("a", base / "src", SynthConfig(clips=CLIPS, frames=FRAMES, keep_faces=False), data_root=shared_data)
    run_prepare("a", base / "src", base / "reference", use_ray=False, progress=False)
    return base / "src", base / "reference"


def assert_same_rows(out: Path, reference: Path) -> None:
    got, want = load_prepared(out), load_prepared(reference)
    keys = got.row_keys()
    assert len(keys) == len(set(keys)), "no duplicated rows"
    assert sorted(keys) == sorted(want.row_keys()), "no lost rows"
    ref_rows = {k: (img, t) for k, img, t in zip(want.row_keys(), want.images, want.targets)}
    for key, image, target in zip(keys, got.images, got.targets):
        np.testing.assert_array_equal(image, ref_rows[key][0])
        np.testing.assert_array_equal(target, ref_rows[key][1])
    assert len(read_manifest(out)) == CLIPS, "one manifest record per clip"


def test_resume_after_simulated_kill_with_torn_state(tmp_path: Path, source) -> None:
    src, reference = source
    out = tmp_path / "out"
    with pytest.raises(SimulatedKill):
        run_prepare("a", src, out, use_ray=False, progress=False, stop_after=3)
    shards = shard_files(out)
    assert len(shards) == 3
    # What a kill at a worse moment leaves: a half-written temp shard, a torn
    # manifest line, and a shard renamed into place whose line was never written.
    (out / SHARDS / ".tmp-deadbeef-123.npz").write_bytes(b"half a shard")
    lines = (out / MANIFEST).read_text().splitlines(keepends=True)
    (out / MANIFEST).write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    partial = load_prepared(out)  # readable mid-way: the temp shard is not a shard
    assert len(partial.row_keys()) == len(set(partial.row_keys())) > 0
    report = run_prepare("a", src, out, use_ray=False, progress=False)
    assert report.clips_already_done == 3
    assert report.clips_done == CLIPS - 3
    assert report.repaired == {"removed_tmp": 1, "relogged": 1}
    assert not list((out / SHARDS).glob(".tmp-*"))
    assert_same_rows(out, reference)
    # A third run has nothing left to do.
    again = run_prepare("a", src, out, use_ray=False, progress=False)
    assert again.clips_done == 0 and again.clips_already_done == CLIPS
    assert again.total_faces == load_prepared(reference).images.shape[0]


def test_resume_after_sigkill_of_the_cli(tmp_path: Path, source) -> None:
    """A real kill -9 of `python -m training.prepare` half-way, then a rerun."""
    src, reference = source
    out = tmp_path / "out"
    command = [sys.executable, "-m", "training.prepare", "aihub-a", str(src), "-o", str(out),
               "--no-ray", "--quiet", "--debug-clip-delay", "0.4"]
    process = subprocess.Popen(command, cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    manifest = out / MANIFEST
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if manifest.is_file() and len(manifest.read_text().splitlines()) >= CLIPS // 2:
                break
            time.sleep(0.05)
        assert process.poll() is None, f"finished before the kill: {process.stderr.read().decode()[-500:]}"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        process.stderr.close()
    done_before = len(shard_files(out))
    assert CLIPS // 2 <= done_before < CLIPS
    report = run_prepare("a", src, out, use_ray=False, progress=False)
    assert report.clips_already_done == done_before
    assert report.clips_done == CLIPS - done_before
    assert_same_rows(out, reference)
