"""The GUI benchmark itself runs end to end (a short real run: real video from real photos, real model).

No speed is asserted here (speed is what the benchmark prints); this keeps the
script that produces the README's app figures from rotting.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kise_desktop.core.pipeline import LIVE_DETECT_RATE
from kise_desktop.paths import REPO_DIR


@pytest.mark.slow
def test_bench_gui_measures_displayed_fps_cpu_latency_and_memory(tmp_path, dlib_faces_dir, model_files):
    video = tmp_path / "demo.avi"
    made = subprocess.run([sys.executable, str(REPO_DIR / "scripts" / "make_demo_video.py"), str(video),
                           "--photos", str(dlib_faces_dir), "--only", "2008_001322.jpg", "2009_004587.jpg",
                           "--seconds-per-photo", "1"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    out = tmp_path / "bench_gui.json"
    model, sidecar = model_files
    # the reference the figures are also compared with: a (short) real `kise bench` run
    ref = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "bench", "--configs", "live-haar",
                          "--sizes", "640x480", "--repeats", "1", "--no-seed", "--no-videos", "--model", str(model),
                          *(["--sidecar", str(sidecar)] if sidecar else []), "-o", str(tmp_path / "kb")],
                         capture_output=True, text=True, cwd=REPO_DIR, timeout=180)
    assert ref.returncode == 0, ref.stderr[-2000:]
    cmd = [sys.executable, "-m", "kise_desktop.gui.bench_gui", "--video", str(video), "--detector", "haar",
           "--seconds", "1.5", "--rounds", "1", "--warmup", "1", "--model", str(model), "--json", str(out),
           "--kise-bench", str(tmp_path / "kb" / "bench.json")]
    if sidecar is not None:
        cmd += ["--sidecar", str(sidecar)]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO_DIR, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    # the app's default Find faces rate, unless told otherwise
    assert f"| haar @{LIVE_DETECT_RATE:g}/s |" in run.stdout and "displayed/pipeline" in run.stdout
    row = json.loads(out.read_text(encoding="utf-8"))["results"][0]
    assert row["pipeline_fps"] > 0 and row["displayed_fps"] > 0          # frames went through both paths
    assert row["loop_lateness_ms"]["ticks"] > 10                         # the 20 ms probe timer ran
    assert row["rss_start_mb"] > 50 and row["rss_end_mb"] > 50
    assert set(row["per_frame_ms"]) >= {"worker_analyze", "gui_paint", "gui_thread_cpu"}
    assert row["per_frame_ms"]["gui_paint"] > 0                          # the window really painted
    assert row["cpu_one_core"] > 0 and "app CPU" in run.stdout           # process CPU s per wall s was read
    assert row["detectors_ran"] == ["haar"] and row["kind"] == "haar"    # the packets came from the asked kind
    assert row["detect_rate"] == LIVE_DETECT_RATE
    assert row["kise_bench_fps"] > 0                                     # read from the real kise bench run
    assert row["displayed_vs_kise_bench"] == pytest.approx(row["displayed_fps"] / row["kise_bench_fps"])
