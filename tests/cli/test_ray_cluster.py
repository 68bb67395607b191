"""`--address` against a real `ray start --head` cluster on loopback (token authentication on, as
Ray 2.60 may run it): refused in one line without the token, same results as one process with it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kise_desktop.paths import REPO_DIR

ray = pytest.importorskip("ray", reason="ray is not installed (extra 'train')")
sys.path.insert(0, str(REPO_DIR / "scripts"))
import local_ray_cluster  # noqa: E402

FAST = ("--detector", "haar", "--preset", "live", "--lang", "en")
PHOTOS = ("2008_001322.jpg", "2008_002079.jpg", "2008_001009.jpg")


def env_without_ray(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    return {**env, "PYTHONPATH": str(REPO_DIR), **extra}


def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=REPO_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def token_cluster():
    try:
        cluster = local_ray_cluster.start(num_cpus=2, token=True)
    except RuntimeError as exc:
        pytest.skip(f"cannot start a local Ray cluster here: {str(exc)[:200]}")
    yield cluster
    cluster.stop()


def test_unreachable_address_is_one_line_at_once(tmp_path, dlib_faces_dir, model_args):
    port = local_ray_cluster.free_port()          # nobody listens there
    done = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "annotate", str(dlib_faces_dir / PHOTOS[0]),
                           "-o", str(tmp_path / "out"), "--address", f"127.0.0.1:{port}", *model_args],
                          cwd=REPO_DIR, env=env_without_ray(), capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1 and len(lines) == 1
    assert "cannot reach a Ray cluster" in lines[0] and "ray start --head" in lines[0]
    assert not (tmp_path / "out").exists()


def test_cluster_refuses_without_token_then_gives_the_single_process_results(token_cluster, tmp_path, dlib_faces_dir,
                                                                              model_args, shared_data):
    from training.data.aihub_synth import SynthConfig, generate

    photos = [str(dlib_faces_dir / name) for name in PHOTOS]
    root = tmp_path / "aihub"
    generate("a", root, SynthConfig(clips=1, frames=2, keep_faces=False), data_root=shared_data)
    # The two refusals wait out Ray's own ~20 s of retries: run them side by side.
    refused = {
        "annotate": start("-m", "kise_desktop.cli", "annotate", *photos, "-o", str(tmp_path / "refused"),
                          "--address", token_cluster.address, *FAST, *model_args, env=env_without_ray()),
        "prepare": start("-m", "training.prepare", "aihub-a", str(root), "-o", str(tmp_path / "prepared"),
                         "--address", token_cluster.address, "--quiet", env=env_without_ray()),
    }
    single = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "annotate", *photos, "-o",
                             str(tmp_path / "single"), "--jobs", "1", *FAST, *model_args],
                            cwd=REPO_DIR, env=env_without_ray(), capture_output=True, text=True, timeout=120)
    assert single.returncode == 0, single.stderr
    for name, process in refused.items():
        _, err = process.communicate(timeout=180)
        lines = [line for line in err.splitlines() if line.strip()]
        assert process.returncode in (1, 2) and len(lines) == 1, (name, err[-2000:])
        assert "RAY_AUTH_MODE=token" in lines[0] and "Traceback" not in err
    assert not (tmp_path / "refused").exists()       # refused before anything was written

    joined = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "annotate", *photos, "-o",
                             str(tmp_path / "ray"), "--address", token_cluster.address, *FAST, *model_args],
                            cwd=REPO_DIR, env=env_without_ray(**token_cluster.env), capture_output=True, text=True,
                            timeout=180)
    assert joined.returncode == 0, joined.stderr

    def images(folder: Path) -> list[dict]:
        report = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        assert report["complete"]
        return [{k: v for k, v in i.items() if k not in ("timings_ms", "output")} for i in report["images"]]

    assert images(tmp_path / "ray") == images(tmp_path / "single")
    assert (tmp_path / "ray" / "results.csv").read_text() == (tmp_path / "single" / "results.csv").read_text()
