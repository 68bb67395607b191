"""`kise video` on a clip assembled from real photos, `kise bench`, `kise --help`."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import pytest

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.presets import LIVE_YUNET
from kise_desktop.core.sources import open_source
from kise_desktop.paths import REPO_DIR



def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kise: error:")]

FRAMES_EACH = 4


@pytest.fixture
def clip(tmp_path, dlib_faces_dir) -> Path:
    """8 frames at 10 fps: a photo with 3 faces held for 4 frames, then one with 2 faces."""
    path = tmp_path / "clip.mp4"
    size = (500, 374)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, size)
    for name in ("2008_001322.jpg", "2008_001009.jpg"):
        image = cv2.resize(cv2.imread(str(dlib_faces_dir / name)), size)
        for i in range(FRAMES_EACH):
            writer.write(image)
    writer.release()
    return path


def test_video_gives_one_csv_row_per_face_per_frame(run_kise, model_args, any_model, clip, tmp_path):
    out, table = tmp_path / "out.mp4", tmp_path / "faces.csv"
    code, _, err = run_kise("video", clip, "-o", out, "--csv", table, *model_args)
    assert code == 0, err
    with table.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    # What the same pipeline sees in the same decoded frames.
    pipeline = Pipeline(EmotionClassifier(*any_model), LIVE_YUNET)
    with open_source(clip) as source:
        expected = [pipeline.analyze(f.image_bgr, f.timestamp) for f in source]
    assert len(expected) == 2 * FRAMES_EACH
    per_frame = Counter(int(r["frame"]) for r in rows)
    assert [per_frame.get(i, 0) for i in range(len(expected))] == [len(r.faces) for r in expected]
    assert sum(len(r.faces) for r in expected) > 0
    for row in rows:
        result = expected[int(row["frame"])]
        assert float(row["time_s"]) == pytest.approx(result.timestamp, abs=1e-3)
        box = (int(row["x"]), int(row["y"]), int(row["w"]), int(row["h"]))
        assert box in [f.box for f in result.faces]
        assert sum(float(row[f"p_{k}"]) for k in ("neutral", "happiness", "surprise", "sadness", "anger",
                                                  "disgust", "fear", "contempt")) == pytest.approx(1, abs=1e-3)
    # While the photo holds still, each face keeps its track id.
    first_shot = [r for r in rows if int(r["frame"]) < FRAMES_EACH]
    ids_per_frame = [sorted(r["track_id"] for r in first_shot if int(r["frame"]) == i) for i in range(FRAMES_EACH)]
    assert all(ids == ids_per_frame[0] for ids in ids_per_frame)

    written = cv2.VideoCapture(str(out))
    count = 0
    while written.read()[0]:
        count += 1
    written.release()
    assert count == 2 * FRAMES_EACH


def test_video_csv_defaults_next_to_the_output(run_kise, model_args, clip, tmp_path):
    code, _, err = run_kise("video", clip, "-o", tmp_path / "v" / "annotated.mp4", "--detector", "hog",
                            "--max-frames", "3", *model_args)
    assert code == 0, err
    with (tmp_path / "v" / "annotated.csv").open(encoding="utf-8") as fh:
        frames = {int(r["frame"]) for r in csv.DictReader(fh)}
    assert frames <= {0, 1, 2} and frames


@pytest.mark.parametrize("case", ["missing", "photo", "not a video", "camera"])
def test_video_input_errors(run_kise, model_args, dlib_faces_dir, tmp_path, case):
    spec = {"missing": tmp_path / "gone.mp4", "photo": dlib_faces_dir / "2008_001322.jpg",
            "not a video": tmp_path / "text.mp4", "camera": "93"}[case]
    if case == "not a video":
        spec.write_text("no frames here")
    code, _, err = run_kise("video", spec, "-o", tmp_path / "o.mp4", *model_args)
    assert code == 1
    assert len(error_lines(err)) == 1 and str(spec) in error_lines(err)[0] and "Traceback" not in err


def test_bench_writes_table_json_and_chart(run_kise, model_args, shared_data, tmp_path):
    clip = shared_data / "videos" / "d19.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is absent")
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / clip.name).symlink_to(clip)          # one short real clip
    code, out, err = run_kise("bench", "--data", shared_data, "--configs", "live-yunet,live-haar",
                              "--sizes", "640x480", "--repeats", "1", "--videos", videos, "--video-frames", "12",
                              "-o", tmp_path / "out", *model_args)
    assert code == 0, err
    assert "live-haar" in out and "live-yunet" in out and "recall" in out
    report = json.loads((tmp_path / "out" / "bench.json").read_text(encoding="utf-8"))
    rows = {r["config"]: r for r in report["detectors"]}
    assert set(rows) == {"live-yunet", "live-haar"} and report["faces"] == 43
    for row in rows.values():
        assert row["size"] == "640x480" and row["total_ms_median"] >= row["detect_ms_median"] > 0
        assert 0 < row["recall"] <= 1 and 0 < row["precision"] <= 1 and row["smallest_found"] > 0
    assert {"live-yunet_vs_live-haar_detect_ms", "live-yunet_vs_live-haar_fps"} <= set(report["ratios"])
    assert set(report["smallest_face_640x480"]) == {"live-yunet", "live-haar"}
    assert "smallest face found reliably" in out
    # the video section: each live preset on the clip, every frame counted
    assert {(v["clip"], v["config"]) for v in report["videos"]} == {("d19.mp4", "live-yunet"), ("d19.mp4", "live-haar")}
    for v in report["videos"]:
        assert v["frames"] == 12 and v["frame_size"] == "480x480" and 0 <= v["face_share"] <= 1
        assert v["total_ms_p90"] >= v["total_ms_median"] >= v["detect_ms_median"] > 0
    budgets = {b["name"]: b for b in report["budgets"]}
    assert "live-yunet frames with a face, d19.mp4" in budgets
    assert all(("PASS  " if b["passed"] else "MISS  ") + b["name"] in out for b in budgets.values())
    assert all(t["ms_per_face_batch8"] > 0 for t in report["classifiers"].values())
    # classifier latency comes with the CPU's instruction sets, in the table and the JSON
    assert report["machine"]["cpu"]["isa"] and f"ISA: {' '.join(report['machine']['cpu']['isa'])}" in out
    assert (tmp_path / "out" / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_with_an_empty_video_folder_is_a_clear_error(run_kise, model_args, shared_data, tmp_path):
    code, _, err = run_kise("bench", "--data", shared_data, "--configs", "live-haar", "--videos", tmp_path,
                            *model_args)
    assert code == 1 and len(error_lines(err)) == 1 and str(tmp_path) in error_lines(err)[0]


def test_bench_without_data_is_a_clear_error(run_kise, model_args, tmp_path):
    code, _, err = run_kise("bench", "--data", tmp_path, *model_args)
    assert code == 1 and error_lines(err) and str(tmp_path) in err


def test_help_and_usage_as_a_real_command():
    for args in (["--help"], ["annotate", "--help"], ["video", "--help"], ["bench", "--help"]):
        done = subprocess.run([sys.executable, "-m", "kise_desktop.cli", *args], capture_output=True,
                              text=True, cwd=REPO_DIR, timeout=60)
        assert done.returncode == 0 and "usage: kise" in done.stdout
    done = subprocess.run([sys.executable, "-m", "kise_desktop.cli"], capture_output=True, text=True,
                          cwd=REPO_DIR, timeout=60)
    assert done.returncode == 2 and "usage: kise" in done.stderr


def test_no_traceback_for_a_bad_model_from_a_real_process(dlib_faces_dir, tmp_path):
    model = tmp_path / "broken.tflite"
    model.write_bytes(b"")
    done = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "annotate", str(dlib_faces_dir / "2008_001322.jpg"),
                           "-o", str(tmp_path / "o"), "--model", str(model)],
                          capture_output=True, text=True, cwd=REPO_DIR, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"kise: error: {model}")
    assert "Traceback" not in done.stderr
