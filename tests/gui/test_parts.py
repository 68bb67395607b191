"""The GUI's Qt-light parts: ring buffer, i18n table, source requests, and the scriptable entry point."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from PySide6.QtGui import QImage

from kise_desktop.gui.history_plot import HistoryPlot, RingBuffer
from kise_desktop.gui.i18n import LANGUAGES, keys, missing, tr
from kise_desktop.gui.qt_compat import affected
from kise_desktop.gui.worker import request_for
from kise_desktop.paths import REPO_DIR


def test_ring_buffer_keeps_the_newest_samples_in_order():
    rb = RingBuffer(capacity=5, width=8)
    for i in range(12):
        rb.append(float(i), np.full(8, i, np.float32))
    t, v = rb.ordered()
    assert list(t) == [7.0, 8.0, 9.0, 10.0, 11.0] and len(rb) == 5
    assert np.array_equal(v[:, 0], t.astype(np.float32))
    t2, _ = rb.since(9.5)
    assert list(t2) == [10.0, 11.0]


def test_history_plot_memory_is_bounded_and_restarts_on_rewind(qtbot):
    plot = HistoryPlot(seconds=10, capacity=300)
    qtbot.addWidget(plot)
    probs = np.full(8, 1 / 8, np.float32)
    for i in range(2000):                       # ~an hour at 0.5 Hz, or a minute at 30 fps
        plot.add(i * 0.05, probs if i % 50 else None)
    assert len(plot.buffer) == 300 and plot.points_received == 2000
    plot.refresh()
    assert 0 < plot.visible_points() <= 300
    plot.add(1.0, probs)                        # time went backwards: a new source
    assert len(plot.buffer) == 1


def test_a_one_frame_spike_survives_the_thinning_of_a_long_history(qtbot):
    from kise_desktop.emotions import EMOTION_INDEX

    plot = HistoryPlot(seconds=60)
    qtbot.addWidget(plot)
    plot.resize(500, 220)
    plot.show()
    surprise = EMOTION_INDEX["surprise"]
    calm = np.zeros(8, np.float32)
    calm[0] = 1.0
    flash = np.zeros(8, np.float32)
    flash[surprise] = 1.0
    n = 1800                                    # a minute at 30 fps, far more samples than pixels
    for i in range(n):
        plot.add(i / 30, flash if i == 1000 else calm)   # a sample that every-3rd thinning dropped
    plot.refresh()
    qtbot.waitUntil(lambda: plot.curves and plot.curves[surprise].getData()[1] is not None, timeout=5000)
    x, y = plot.curves[surprise].getData()     # what is drawn: thinned to about the plot's width
    assert len(np.unique(x)) <= n / 2            # the curve is thinned (min and max of each span) ...
    assert float(np.nanmax(y)) == 1.0            # ... and the one frame of surprise is still drawn
    assert plot.visible_points() == n


def test_every_string_has_both_languages():
    for lang in LANGUAGES:
        assert missing(lang) == []
    assert tr("camera_n", "ko", n=2) == "카메라 2"
    assert tr("compare_caption", "en", det="HOG", n=1, ms=2.0) == "HOG: 1 face, detect 2.0 ms"   # not "1 faces"
    assert tr("compare_caption", "en", det="HOG", n=0, ms=2.0) == "HOG: 0 faces, detect 2.0 ms"
    assert tr("compare_caption", "ko", det="HOG", n=1, ms=2.0) == "HOG: 얼굴 1개, 검출 2.0 ms"
    assert len(keys()) > 50


def test_every_error_reason_has_korean_words_with_the_same_placeholders():
    import string

    from kise_desktop.core.classifier import MODEL_REASONS, ModelError
    from kise_desktop.core.sources import REASONS, SPECIAL_FILE_KINDS, SourceError
    from kise_desktop.gui.i18n import _MODEL_REASONS_KO, _REASONS_KO, _SPECIAL_FILE_KINDS_KO, error_text

    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert set(_REASONS_KO) == set(REASONS) and set(_SPECIAL_FILE_KINDS_KO) == set(SPECIAL_FILE_KINDS)
    assert set(_MODEL_REASONS_KO) == set(MODEL_REASONS)
    assert not set(REASONS) & set(MODEL_REASONS)          # one look-up serves both kinds of error
    for english_table, korean_table in ((REASONS, _REASONS_KO), (MODEL_REASONS, _MODEL_REASONS_KO)):
        for key, english in english_table.items():
            assert fields(korean_table[key]) == fields(english), key
    problem = SourceError.because("/tmp/x.mp4", "not_video")
    assert error_text(str(problem), problem, "en") == str(problem)
    assert error_text(str(problem), problem, "ko") == "/tmp/x.mp4: " + _REASONS_KO["not_video"]
    camera = SourceError.because("camera 1", "camera_missing", camera=1)
    assert error_text(str(camera), camera, "ko").startswith("카메라 1: ")
    field = ModelError.because("/m/x.json", "field_margin", field="crop_margin", value='"wide"')
    assert str(field) == "/m/x.json: field 'crop_margin' must be a number in [0, 1] (a fraction of the box), not \"wide\""
    assert error_text(str(field), field, "ko") == "/m/x.json: 'crop_margin' 필드는 [0, 1] 사이의 숫자(상자에 대한 비율)여야 합니다 (지금: \"wide\")"
    assert error_text("some other failure", None, "ko") == "some other failure"     # not a reasoned error: as is
    # a message that names the file already gives the reason alone; another file's problem keeps its name
    assert error_text(str(problem), problem, "en", named="x.mp4") == REASONS["not_video"]
    assert error_text(str(problem), problem, "ko", named="x.mp4") == _REASONS_KO["not_video"]
    assert error_text(str(field), field, "en", named="x.tflite") == str(field)
    assert error_text(str(field), field, "ko", named="x.tflite").startswith("/m/x.json: ")


def test_source_requests(dlib_faces_dir, tmp_path):
    assert request_for(0).is_camera and request_for("1").spec == 1
    folder = request_for(str(dlib_faces_dir))
    assert folder.is_photos and len(folder.photos) == len(list(dlib_faces_dir.glob("*.jpg")))
    photo = request_for(str(dlib_faces_dir / "2008_002506.jpg"))
    assert photo.photos == (str(dlib_faces_dir / "2008_002506.jpg"),)
    dropped = request_for([str(p) for p in sorted(dlib_faces_dir.glob("*.jpg"))[:3]])
    assert len(dropped.photos) == 3
    video = request_for(str(tmp_path / "clip.mp4"))
    assert video.spec == str(tmp_path / "clip.mp4") and not video.is_photos


def test_pyside_refcount_guard_is_active_where_needed():
    import kise_desktop.gui  # noqa: F401  (applies the guard)
    if affected():
        assert sys.getrefcount(None) > 2 ** 39 and sys.getrefcount(True) > 2 ** 39


def test_screenshot_from_the_command_line(tmp_path, dlib_faces_dir, model_files):
    """`kise-desktop --source PHOTO --screenshot F --quit-after S` writes the window and exits cleanly."""
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    cmd = [sys.executable, "-m", "kise_desktop.gui.app", "--fresh", "--lang", "en",
           "--source", str(dlib_faces_dir / "2008_002506.jpg"), "--model", str(model_files[0]),
           "--screenshot", str(out), "--quit-after", "3", "--size", "1000x700"]
    if model_files[1]:
        cmd += ["--sidecar", str(model_files[1])]
    proc = subprocess.run(cmd, cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "Fatal Python error" not in proc.stderr, proc.stderr[-2000:]
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 700)


def test_model_accuracy_is_read_from_the_sidecar_metrics(seed_model):
    import json

    from kise_desktop.about_info import sidecar_accuracy as model_accuracy

    seed = json.loads(seed_model[1].read_text(encoding="utf-8"))
    assert model_accuracy(seed) is None                  # the seed's sidecar has no metrics: shown as n/a
    # the layout training/export.py writes: TFLite parity accuracy first, then the Keras one
    sidecar = {"metrics": {"parity": {"accuracy": 0.81, "size_bytes": 1}, "keras_accuracy": 0.82}}
    assert model_accuracy(sidecar) == 0.81
    assert model_accuracy({"metrics": {"accuracy": 0.7, "parity": {"accuracy": 0.81}}}) == 0.7


def test_display_converter_matches_a_plain_opencv_conversion(dlib_faces_dir):
    import cv2

    from kise_desktop.core.sources import load_image
    from kise_desktop.gui.worker import DisplayConverter

    photo = load_image(sorted(dlib_faces_dir.glob("*.jpg"))[0])
    convert = DisplayConverter()                 # one converter, reused as the worker does
    for image in (photo, cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)):
        h, w = image.shape[:2]
        for fit in ((w // 2, h // 2), (w * 3 // 2, h * 3 // 2), None):
            qimage = convert(image, fit)
            scale = 1.0 if fit is None else min(fit[0] / w, fit[1] / h)   # fits the box, keeps the aspect
            size = (int(w * scale), int(h * scale))
            assert (qimage.width(), qimage.height()) == size
            expected = image if fit is None else cv2.resize(
                image, size, interpolation=cv2.INTER_AREA if size[0] < w else cv2.INTER_LINEAR)
            expected = cv2.cvtColor(expected, cv2.COLOR_GRAY2BGRA if image.ndim == 2 else cv2.COLOR_BGR2BGRA)
            got = np.frombuffer(qimage.constBits(), np.uint8).reshape(size[1], qimage.bytesPerLine())
            np.testing.assert_array_equal(got[:, : size[0] * 4].reshape(size[1], size[0], 4)[..., :3],
                                          expected[..., :3])


def test_detector_flags_come_from_the_registry(capsys):
    import pytest

    from kise_desktop.core.detectors import kind_names
    from kise_desktop.gui.app import build_parser

    parser = build_parser()
    assert parser.parse_args([]).compare is None
    assert parser.parse_args(["--compare"]).compare == list(kind_names())
    assert parser.parse_args(["--compare", "yunet,haar"]).compare == ["yunet", "haar"]
    assert parser.parse_args(["--detector", "yunet"]).detector == "yunet"
    for bad in (["--compare", "yunet,nosuch"], ["--compare", "yunet"], ["--detector", "nosuch"]):
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args(bad)
        assert exit_info.value.code == 2
    assert "nosuch" in capsys.readouterr().err
