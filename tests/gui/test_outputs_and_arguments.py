"""The GUI writes the CLI's schema; a bad sidecar is one line; --size and --screenshot are checked."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kise_desktop import cli
from kise_desktop.core.results import FRAME_CSV_HEADER, SCHEMA_VERSION
from kise_desktop.paths import REPO_DIR

WAIT = 30000


def keys_of(record: dict) -> dict:
    """The schema of a record: its keys, and its faces' keys."""
    return {"keys": sorted(record), "face": sorted(record["faces"][0]) if record["faces"] else None}


def test_gui_photo_json_and_recorder_csv_have_the_cli_schema(qtbot, make_window, dlib_faces_dir, model_files,
                                                              tmp_path, capsys):
    photo = dlib_faces_dir / "2008_001322.jpg"
    win = make_window()
    win.open_source(str(photo))
    qtbot.waitUntil(lambda: win.last_packet is not None and win.last_packet.kind == "photos"
                    and bool(win.last_packet.panels) and bool(win.last_packet.panels[0].result.faces), timeout=WAIT)
    _, json_path = win.save_photo(tmp_path / "gui.png")
    gui = json.loads(json_path.read_text(encoding="utf-8"))

    model = ["--model", str(model_files[0])] + (["--sidecar", str(model_files[1])] if model_files[1] else [])
    assert cli.main(["annotate", str(photo), "-o", str(tmp_path / "cli"), "--detector", "haar", *model]) == 0
    capsys.readouterr()
    annotate = json.loads((tmp_path / "cli" / "results.json").read_text(encoding="utf-8"))

    assert gui["schema_version"] == annotate["schema_version"] == SCHEMA_VERSION
    assert sorted(gui) == sorted(annotate)
    gui_image, cli_image = gui["images"][0], annotate["images"][0]
    assert sorted(set(cli_image) - set(gui_image)) == ["original_size", "scale"]   # what only file loading knows
    assert keys_of(gui_image)["face"] == keys_of(cli_image)["face"]
    # Same photo, same photo preset, same pipeline: the same faces.
    assert [f["box"] for f in gui_image["faces"]] == [f["box"] for f in cli_image["faces"]]
    for a, b in zip(gui_image["faces"], cli_image["faces"]):
        np.testing.assert_allclose(list(a["probabilities"].values()), list(b["probabilities"].values()), atol=1e-5)

    win.open_source(0)
    qtbot.waitUntil(lambda: win.last_packet is not None and win.last_packet.kind == "camera"
                    and bool(win.last_packet.panels[0].result.faces), timeout=WAIT)
    win.start_recording(tmp_path / "session.csv")
    qtbot.waitUntil(lambda: win.recorder.rows >= 2, timeout=WAIT)
    win.stop_recording()
    with open(tmp_path / "session.csv", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == FRAME_CSV_HEADER
    # The `kise video` CSV has this same header (tests/cli/test_inputs_checked.py checks it against
    # FRAME_CSV_HEADER); the columns `kise report` reads are all there and filled.
    for column in ("frame", "time_s", "track_id", "label", "confidence", "p_happiness", "smoothed_happiness"):
        assert rows[0][column] != ""


@pytest.mark.parametrize("field", ["labels", "crop_margin"])
def test_gui_reports_a_bad_sidecar_field_in_one_line(qtbot, make_window, model_files, tmp_path, field):
    if model_files[1] is None:
        pytest.skip("the model in use has no sidecar to break")
    data = json.loads(model_files[1].read_text(encoding="utf-8"))
    data[field] = 8 if field == "labels" else "wide"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    win = make_window()
    assert win.load_model(model_files[0], bad) is False
    assert f"field '{field}'" in win.model_error and str(bad) in win.model_error
    assert "Traceback" not in win.model_error and "TypeError" not in win.model_error
    assert "\n" not in win.model_error.split(": ", 1)[1]
    assert win.statusBar().toolTip() == win.model_error.replace("\n", " ")   # whole, where the bar clips it
    # in Korean, the reason is in Korean too, and the model panel follows the language
    win.set_language("ko")
    assert f"'{field}' 필드" in win.model_error and str(bad) in win.model_error and "must be" not in win.model_error
    assert win.model_error.startswith("모델을 불러올 수 없습니다")
    assert win.model_error in win.model_box.label.text()


def run_app(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "kise_desktop.gui.app", *args], cwd=REPO_DIR, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("size", ["big", "0x0", "99999x800", "1280x-5"])
def test_app_size_is_validated(size):
    done = run_app("--fresh", f"--size={size}")
    assert done.returncode == 2 and "--size" in done.stderr and "Traceback" not in done.stderr


def test_unwritable_screenshot_path_is_reported_and_the_app_still_quits(tmp_path, dlib_faces_dir):
    blocker = tmp_path / "a_file"
    blocker.write_text("in the way")
    target = blocker / "shot.png"
    done = run_app("--fresh", "--source", str(dlib_faces_dir / "2008_001322.jpg"), "--screenshot", str(target),
                   "--quit-after", "1")
    assert done.returncode == 1, done.stderr
    assert f"could not write {target}" in done.stderr and "Traceback" not in done.stderr
