"""Bad training data gives one clear line naming the file, and no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from kise_desktop.paths import REPO_DIR

GOOD_ROW = 'fer0000000.png,"(0, 0, 48, 48)",4,0,0,1,3,2,0,0,0,0\n'


def run_module(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "KISE_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_one_clear_line(result: subprocess.CompletedProcess, must_name: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert must_name in lines[0], lines[0]


def make_split(root: Path, rows: str, image: np.ndarray | bytes | None) -> Path:
    split = root / "ferplus" / "FER2013Train"
    split.mkdir(parents=True)
    (split / "label.csv").write_text(rows)
    if isinstance(image, bytes):
        (split / "fer0000000.png").write_bytes(image)
    elif image is not None:
        cv2.imwrite(str(split / "fer0000000.png"), image)
    return split


def test_missing_data_folder(tmp_path):
    missing = tmp_path / "nowhere"
    result = run_module("training.data.ferplus", "--data", str(missing), cache=tmp_path)
    assert_one_clear_line(result, str(missing / "ferplus"))


def test_malformed_label_row(tmp_path, ferplus_root):
    face = cv2.imread(str(ferplus_root / "FER2013Train" / "fer0000000.png"), cv2.IMREAD_GRAYSCALE)
    split = make_split(tmp_path / "data", GOOD_ROW + 'fer0000001.png,"(0, 0, 48, 48)",4,zero,0\n', face)
    result = run_module("training.data.ferplus", "--data", str(tmp_path / "data"), cache=tmp_path)
    assert_one_clear_line(result, f"{split / 'label.csv'}:2")


def test_unreadable_image(tmp_path):
    split = make_split(tmp_path / "data", GOOD_ROW, b"\x89PNG\r\n\x1a\n this is not really a png")
    result = run_module("training.data.ferplus", "--data", str(tmp_path / "data"), cache=tmp_path)
    assert_one_clear_line(result, str(split / "fer0000000.png"))


def test_train_reports_missing_data_in_one_line(tmp_path):
    missing = tmp_path / "nowhere"
    result = run_module("training.train", "--config", str(REPO_DIR / "training/configs/tiny.json"),
                        "--data", str(missing), "--out", str(tmp_path / "run"), cache=tmp_path)
    assert_one_clear_line(result, str(missing / "ferplus"))


def test_a_corrupt_distillation_teacher_is_named_in_one_line(tmp_path, ferplus_root):
    import json

    teacher = tmp_path / "teacher.tflite"
    teacher.write_bytes(b"not a model at all" * 10)
    config = json.loads((REPO_DIR / "training/configs/tiny.json").read_text())
    config["distill"] = {"teacher": str(teacher), "sidecar": str(REPO_DIR / "resources/models/kise_emotion.json")}
    path = tmp_path / "distill.json"
    path.write_text(json.dumps(config))
    result = run_module("training.train", "--config", str(path), "--data", str(ferplus_root.parent),
                        "--out", str(tmp_path / "run"), cache=tmp_path)
    assert_one_clear_line(result, str(teacher))
