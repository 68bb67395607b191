"""The window on a fake camera made of real photos, with the real model and the real core."""
from __future__ import annotations

import csv
import dataclasses
import json
import os

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor

from kise_desktop.emotions import EMOTIONS
from kise_desktop.gui.i18n import tr

from gui_fakes import GROUP_PHOTO, annotated_boxes, iou, place_on_canvas

from kise_desktop.core.detectors import kind_names, preset
from kise_desktop.core.pipeline import LIVE_DETECT_RATE
from kise_desktop.core.sources import load_image

WAIT = 20000  # ms; generous: the machine may be busy (these are not timing tests)


def wait_for_faces(qtbot, win, detector=None, n_panels=1):
    def ok():
        p = win.last_packet
        assert p is not None and len(p.panels) == n_panels
        if detector:
            assert p.panels[0].detector == detector
        assert all(panel.result.faces for panel in p.panels)
    qtbot.waitUntil(ok, timeout=WAIT)
    return win.last_packet


def test_overlays_appear_for_annotated_faces(qtbot, make_window, dlib_faces_dir, group_photo):
    win = make_window()
    win.open_source(0)
    packet = wait_for_faces(qtbot, win)
    _, (dx, dy) = place_on_canvas(load_image(group_photo))
    truth = [(x + dx, y + dy, w, h) for x, y, w, h in annotated_boxes(dlib_faces_dir, GROUP_PHOTO)]
    faces = packet.panels[0].result.faces
    matched = [t for t in truth if any(iou(t, f.box) >= 0.5 for f in faces)]
    assert len(matched) >= 2, f"annotated {truth}, found {[f.box for f in faces]}"
    for f in faces:
        assert f.smoothed.shape == (8,) and abs(float(f.smoothed.sum()) - 1.0) < 1e-3
    # The overlay is really painted: the top edge of a box has its emotion's colour.
    qtbot.waitUntil(lambda: win.view.faces_shown() > 0, timeout=WAIT)
    image = win.view.grab().toImage()
    rect, scale = win.view._layout[0]
    face = win.view._panels[0].result.faces[0]
    x, y, w, h = face.box
    px, py = rect.left() + (x + w / 2) * scale, rect.top() + y * scale
    want = QColor(*EMOTIONS[face.label_index].color_rgb)
    near = [image.pixelColor(int(px), int(py) + d) for d in (-1, 0, 1)]
    assert any(abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 60
               for c in near), (near, want)


def test_detector_toggle_takes_effect_without_restarting_the_source(qtbot, make_window):
    win = make_window(detector="haar")
    win.open_source(0)
    wait_for_faces(qtbot, win, "haar")
    camera = win.factory.cameras[0]
    # Haar keeps OpenCV's thread pool (its kind asks for it); a one-core machine's pool is one thread.
    assert cv2.getNumThreads() > 1 or (os.cpu_count() or 1) == 1
    win.controls.radios["hog"].setChecked(True)
    wait_for_faces(qtbot, win, "hog")
    assert len(win.factory.calls) == 1 and not camera.closed.is_set()
    assert cv2.getNumThreads() == 1           # HOG (like YuNet) runs on one OpenCV thread
    before = camera.delivered
    qtbot.waitUntil(lambda: camera.delivered > before + 2, timeout=WAIT)
    # settings changes reach the running pipeline too: a huge min size finds nothing
    win.controls.radios["haar"].setChecked(True)
    win.controls.forms["haar"].widgets["min_size"].setValue(300)
    qtbot.waitUntil(lambda: win.last_packet.panels[0].detector == "haar"
                    and not win.last_packet.panels[0].result.faces, timeout=WAIT)
    assert len(win.factory.calls) == 1


def test_compare_mode_runs_the_ticked_detectors_on_the_same_frame(qtbot, make_window):
    win = make_window()
    win.open_source(0)
    win.controls.compare_checks["hog"].setChecked(False)
    win.controls.compare_box.setChecked(True)
    packet = wait_for_faces(qtbot, win, n_panels=2)
    assert [p.detector for p in packet.panels] == ["haar", "yunet"]
    assert packet.panels[0].result.timestamp == packet.panels[1].result.timestamp
    assert "detect_haar" in packet.timings_ms and "detect_yunet" in packet.timings_ms
    qtbot.waitUntil(lambda: len(win.view._layout) == 2, timeout=WAIT)
    # one detector ticked is not a comparison: back to the chosen detector alone
    win.controls.compare_checks["yunet"].setChecked(False)
    wait_for_faces(qtbot, win, "haar")


def test_three_way_compare_selects_the_clicked_face_in_its_own_panel(qtbot, make_window):
    win = make_window()
    win.open_source(0)
    win.controls.compare_box.setChecked(True)          # all three ticked by default
    packet = wait_for_faces(qtbot, win, n_panels=3)
    assert [p.detector for p in packet.panels] == list(kind_names())
    qtbot.waitUntil(lambda: len(win.view._layout) == 3 and win.view.faces_shown() > 0, timeout=WAIT)
    # the panels do not overlap, and each caption shows the status bar's time for its detector
    rects = [r for r, _ in win.view._layout]
    assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    win._update_perf()
    for kind, ms in win.view.detect_ms.items():
        assert f"{ms:.1f}" in win.stage_label.text()
    # Track ids are per panel: every panel has a face #1 here. Click the smallest face of the last panel.
    last = len(win.view._panels) - 1
    rect, scale = win.view._layout[last]
    panel = win.view._panels[last]
    face = min(panel.result.faces, key=lambda f: f.box[2] * f.box[3])
    x, y, w, h = face.box
    pos = QPointF(rect.left() + (x + w / 2) * scale, rect.top() + (y + h / 2) * scale)
    assert win.view.face_at(pos) == (panel.detector, face.track_id)
    qtbot.mouseClick(win.view, Qt.MouseButton.LeftButton, pos=pos.toPoint())
    assert win.selected_face == (panel.detector, face.track_id)
    qtbot.waitUntil(lambda: win._history_face_key == (panel.detector, face.track_id), timeout=WAIT)
    # the history reads that panel's face, not the first panel's face with the same number
    key, followed = win._history_face(win.last_packet.panels)
    assert key == (panel.detector, face.track_id)
    own = [f for p in win.last_packet.panels if p.detector == panel.detector for f in p.result.faces]
    assert any(f is followed for f in own)
    others = [f for p in win.last_packet.panels[:last] for f in p.result.faces if f.track_id == face.track_id]
    assert all(f is not followed for f in others)
    # the full title is the tooltip; a narrow panel (fonts differ per machine) shows just "Face #2 (YuNet)"
    who = tr("history_face_of", "en", id=face.track_id, det="YuNet")
    assert win.history_title.toolTip().endswith(who)
    assert win.history_title.text().lower().endswith(who.lower())
    # in a small window each caption still fits its own panel (it gives up the detector's origin first)
    from kise_desktop.gui.video_view import CAPTION_PT

    for size, lang in (((1100, 760), "en"), ((800, 600), "ko"), ((800, 600), "en")):
        win.set_language(lang)
        win.resize(*size)
        qtbot.waitUntil(lambda: len(win.view.drawn_captions) == 3 and win.view.width() < size[0], timeout=WAIT)
        qtbot.wait(100)
        _, fm = win.view.bold_font(CAPTION_PT)
        for (rect, _), text in zip(win.view._layout, win.view.drawn_captions):
            assert fm.horizontalAdvance(text) <= rect.width(), (size, lang, text, rect.width())
            assert text.endswith("ms") and "…" not in text, (size, lang, text)


def test_history_plot_receives_points(qtbot, make_window):
    win = make_window()
    win.open_source(0)
    qtbot.waitUntil(lambda: win.history.points_received >= 5, timeout=WAIT)
    win.history.refresh()
    assert win.history.visible_points() >= 2
    t, v = win.history.buffer.ordered()
    assert np.all(np.diff(t) >= 0)
    smoothed = v[-1, :8]                       # the buffer holds smoothed (0..7) then raw (8..15) values
    assert np.isfinite(smoothed).all() and abs(float(smoothed.sum()) - 1.0) < 1e-3
    who = tr("history_face", "en", id=win._history_face_key[1])
    assert win.history_title.toolTip().endswith(who)
    assert win.history_title.text().lower().endswith(who.lower())


def test_clicking_a_face_selects_it_for_the_history(qtbot, make_window):
    win = make_window()
    win.open_source(0)
    wait_for_faces(qtbot, win)
    qtbot.waitUntil(lambda: win.view.faces_shown() > 0 and bool(win.view._layout), timeout=WAIT)
    rect, scale = win.view._layout[0]
    face = min(win.view._panels[0].result.faces, key=lambda f: f.box[2] * f.box[3])
    x, y, w, h = face.box
    pos = QPointF(rect.left() + (x + w / 2) * scale, rect.top() + (y + h / 2) * scale)
    assert win.view.face_at(pos) == ("haar", face.track_id)
    win.view.face_clicked.emit(*win.view.face_at(pos))
    assert win.selected_face == ("haar", face.track_id)
    qtbot.waitUntil(lambda: win._history_face_key == ("haar", face.track_id), timeout=WAIT)
    win.view.face_clicked.emit("", -1)                   # a click beside the faces: back to the main face
    assert win.selected_face is None


def test_camera_failing_mid_stream_shows_a_message_and_stays_responsive(qtbot, make_window):
    win = make_window(fail_after=6)
    win.open_source(0)
    qtbot.waitUntil(lambda: win.last_state is not None and win.last_state.code == "lost", timeout=WAIT)
    assert win.stack.currentIndex() == 1
    assert tr("state_lost", "en", error="").split("\n")[0] in win.message_page.label.text()
    assert win.message_page.retry_btn.isVisible() and win.message_page.open_btn.isVisible()
    # the event loop still runs: a timer fires and the language can still be switched
    fired = []
    QTimer.singleShot(10, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=WAIT)
    win.set_language("ko")
    assert tr("state_lost", "ko", error="").split("\n")[0] in win.message_page.label.text()
    # Retry opens the camera again and frames flow
    win.message_page.retry_btn.click()
    qtbot.waitUntil(lambda: len(win.factory.cameras) == 2 and win.factory.cameras[1].delivered > 0, timeout=WAIT)
    assert win.thread.isRunning()


def test_opening_a_bad_file_shows_an_error(qtbot, make_window, tmp_path):
    win = make_window()
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 50)
    win.open_source(str(bad))
    qtbot.waitUntil(lambda: win.last_state is not None and win.last_state.code == "open_failed", timeout=WAIT)
    assert win.stack.currentIndex() == 1 and "broken.mp4" in win.message_page.label.text()
    assert str(bad) not in win.message_page.label.text()      # named once, then the reason; not the path again
    bad_photo = tmp_path / "broken.jpg"
    bad_photo.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    win.open_source(str(bad_photo))
    qtbot.waitUntil(lambda: win.last_state.code == "open_failed"
                    and "broken.jpg" in win.message_page.label.text(), timeout=WAIT)
    assert win.thread.isRunning() and win.message_page.backdrop is None   # no stale picture behind an error
    # in Korean, the reason is in Korean too (the core's reason key, translated), file name and all
    english = win.message_page.label.text()
    assert win.last_state.problem.reason == "damaged" and "damaged or truncated" in english
    win.set_language("ko")
    korean = win.message_page.label.text()
    assert "손상되었거나 잘린 이미지" in korean and "broken.jpg" in korean and "damaged or truncated" not in korean


def test_end_of_video_offers_to_play_again(qtbot, make_window, tmp_path, group_photo):
    path = tmp_path / "short.avi"
    frame, _ = place_on_canvas(load_image(group_photo))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
    for _ in range(5):
        writer.write(frame)
    writer.release()
    win = make_window()
    win.open_source(str(path))
    qtbot.waitUntil(lambda: win.last_state is not None and win.last_state.code == "ended", timeout=WAIT)
    assert win.last_packet is not None and win.last_packet.kind == "video"
    assert win.message_page.retry_btn.text() == tr("btn_replay", "en")
    assert not win.source_box.stop_btn.isEnabled()          # the video has closed itself
    assert win.stage_label.text() == "" and win.perf_label.text() == ""    # no figures of a finished run
    # the last annotated frame stays behind the message, dimmed so that the white text reads on it
    assert win.message_page.backdrop is not None
    page = win.message_page.grab().toImage()
    row = [page.pixelColor(x, page.height() // 4).lightness() for x in range(0, page.width(), 4)]
    assert max(row) <= 90 and len(set(row)) > 3, row     # dark, and a picture, not a flat page
    seen = win.packets_shown
    win.message_page.retry_btn.click()
    qtbot.waitUntil(lambda: win.packets_shown > seen, timeout=WAIT)
    assert win.source_box.stop_btn.isEnabled()


def test_switching_language_changes_labels(qtbot, make_window):
    win = make_window(lang="en")
    win.open_source(0)
    wait_for_faces(qtbot, win)
    assert win.windowTitle() == tr("app_title", "en")
    assert win.history.legend_names() == [e.en for e in EMOTIONS]
    assert win.controls.compare_box.text() == tr("compare", "en")
    win.lang_combo.setCurrentIndex(win.lang_combo.findData("ko"))
    assert win.lang == "ko" and win.windowTitle() == tr("app_title", "ko")
    assert win.history.legend_names() == [e.ko for e in EMOTIONS]
    assert win.controls.compare_box.text() == "검출기 비교"
    assert win.controls.forms["haar"].widgets["min_size"].toolTip()            # the field's help text
    assert win.controls.forms["haar"]._labels["scale_factor"].text() == "배율"   # the field's Korean label
    assert win.source_box.open_video_btn.text() == "동영상 열기..."
    assert win.view.lang == "ko"
    assert win.lang_actions["ko"].isChecked()


def test_photo_mode_steps_through_a_folder_and_saves_image_and_json(qtbot, make_window, dlib_faces_dir, tmp_path):
    win = make_window()
    win.open_source(str(dlib_faces_dir))
    qtbot.waitUntil(lambda: win.last_packet is not None and win.last_packet.kind == "photos", timeout=WAIT)
    assert win.source_box.photo_box.isVisible()
    # photos get their own detector settings (the core's photo presets), live video keeps its own
    assert win.controls.all_settings() == {k: preset(k, "photo") for k in kind_names()}
    first = win.last_packet
    qtbot.waitUntil(lambda: win.plot_stack.currentIndex() == 1, timeout=WAIT)
    assert abs(float(win.bars.heights.sum()) - 1.0) < 1e-3   # the main face's probabilities as bars
    assert first.index == 0 and first.count == len(list(dlib_faces_dir.glob("*.jpg")))
    win.source_box.next_btn.click()
    qtbot.waitUntil(lambda: win.last_packet.index == 1, timeout=WAIT)
    assert win.last_packet.name != first.name and str(win.last_packet.count) in win.source_box.photo_label.text()
    win.source_box.prev_btn.click()
    qtbot.waitUntil(lambda: win.last_packet.index == 0 and win.last_packet.seq > first.seq, timeout=WAIT)
    image_path, json_path = win.save_photo(tmp_path / "out.png")
    saved = cv2.imread(str(image_path))
    assert saved.shape[:2] == first.frame_bgr.shape[:2]
    assert not np.array_equal(saved, first.frame_bgr)          # annotations were drawn
    data = json.loads(json_path.read_text(encoding="utf-8"))
    faces = data["images"][0]["faces"]
    assert len(faces) == len(win.last_packet.panels[0].result.faces) > 0
    assert {f["label"] for f in faces} <= {e.key for e in EMOTIONS}
    win.open_source(0)
    assert win.controls.all_settings() == {k: preset(k, "live") for k in kind_names()}
    qtbot.waitUntil(lambda: win.last_packet.kind == "camera", timeout=WAIT)
    assert win.plot_stack.currentIndex() == 0


def test_record_csv_and_snapshot(qtbot, make_window, tmp_path):
    win = make_window()
    win.open_source(0)
    wait_for_faces(qtbot, win)
    win.start_recording(tmp_path / "session.csv")
    qtbot.waitUntil(lambda: win.recorder.frames >= 3, timeout=WAIT)
    rows_written = win.recorder.rows
    win.stop_recording()
    with open(tmp_path / "session.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= rows_written > 0
    assert rows[0]["label"] in {e.key for e in EMOTIONS}
    probs = [float(rows[0][f"p_{e.key}"]) for e in EMOTIONS]
    assert abs(sum(probs) - 1.0) < 0.01
    out = win.save_snapshot(tmp_path / "snap.png")
    img = cv2.imread(str(out))
    assert img is not None and img.shape == (480, 640, 3)


def test_model_switch_and_a_bad_model(qtbot, make_window, seed_model, tmp_path):
    win = make_window()
    win.open_source(0)
    wait_for_faces(qtbot, win)
    name_before = win.classifier.name
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    assert win.load_model(bad) is False
    assert win.classifier is not None and win.classifier.name == name_before   # still running on the old one
    assert "bad.tflite" in win.model_box.label.text()
    assert win.load_model(seed_model[0], seed_model[1]) is True
    assert win.classifier.name == "seed mini_XCEPTION (7-class, AIHub)"
    assert "seed mini_XCEPTION" in win.model_box.label.text() and "7" in win.model_box.label.text()
    seen = win.packets_shown
    qtbot.waitUntil(lambda: win.packets_shown > seen + 2, timeout=WAIT)
    # the seed has no contempt class: every face's contempt probability is exactly 0
    qtbot.waitUntil(lambda: win.last_packet.panels[0].result.faces and all(
        f.probabilities[7] == 0.0 for f in win.last_packet.panels[0].result.faces), timeout=WAIT)


def test_settings_are_remembered(qtbot, make_window, settings):
    first = make_window(lang="en", detector=None)
    assert first.controls.detector == "yunet"            # the default on a fresh settings file
    first.close()
    win = make_window(lang="en", detector="hog")
    forms = win.controls.forms
    forms["haar"].widgets["scale_factor"].setValue(1.35)
    forms["yunet"].widgets["score_threshold"].setValue(0.55)
    forms["yunet"].widgets["model"].setCurrentIndex(forms["yunet"].widgets["model"].findData("n"))
    forms["yunet"].widgets["enlarge"].setChecked(True)
    forms["hog"].widgets["detect_width"].setCurrentIndex(forms["hog"].widgets["detect_width"].findData(0))
    win.controls.compare_checks["haar"].setChecked(False)
    win.controls.compare_box.setChecked(True)
    win.set_language("ko")
    win.resize(1000, 700)
    win.close()
    assert not win.thread.isRunning()
    assert settings.value("live/yunet/score_threshold") is not None       # per mode/kind/field
    again = make_window(lang=None, detector=None)
    assert again.lang == "ko" and again.controls.detector == "hog"
    live = again.controls.all_settings()
    assert live["haar"].scale_factor == pytest.approx(1.35)
    assert live["yunet"] == dataclasses.replace(preset("yunet", "live"), score_threshold=0.55, model="n",
                                                enlarge=True)
    assert live["hog"].detect_width is None and live["hog"].upsample == preset("hog", "live").upsample
    assert again.controls.compare_box.isChecked() and again.controls.compared == ["hog", "yunet"]
    # photos kept their own presets (nothing was changed there)
    assert again.detector_settings.in_mode("photo") == {k: preset(k, "photo") for k in kind_names()}
    assert (again.width(), again.height()) == (1100, 760)   # make_window resizes; geometry was restored first
    assert settings.value("lang") == "ko"
    assert settings.value("model_path") == str(again.classifier.model_path)


def test_a_malformed_settings_file_starts_with_defaults(qtbot, make_window, settings):
    """Values an older version or a hand edit left wrong read as defaults; the window still starts."""
    for key, value in {"lang": "fr", "detector": "nonesuch", "compare": "maybe", "compare_kinds": "x,,y",
                       "detect_rate": "fast", "history_seconds": "long", "mirror": "sideways",
                       "geometry": "not bytes", "live/haar/scale_factor": "big"}.items():
        settings.setValue(key, value)
    settings.sync()
    win = make_window(lang=None, detector=None)
    assert win.lang == "ko" and win.controls.detector == "yunet" and win.mirror_choice is None
    assert not win.controls.compare_box.isChecked()
    assert all(check.isChecked() for check in win.controls.compare_checks.values())
    assert win.controls.detect_rate == LIVE_DETECT_RATE
    assert win.history_seconds.value() == 30.0
    assert win.controls.all_settings()["haar"] == preset("haar", "live")
    win.open_source(0)
    wait_for_faces(qtbot, win)


def test_closing_stops_the_worker_thread_without_warnings(qtbot, make_window, qtlog):
    win = make_window()
    win.open_source(0)
    wait_for_faces(qtbot, win)
    camera = win.factory.cameras[0]
    already = len(qtlog.records)   # (the offscreen platform plugin warns once at show time)
    with qtbot.waitSignal(win.worker.finished, timeout=WAIT):
        win.close()
    assert not win.thread.isRunning() and win.thread.isFinished()
    assert camera.closed.is_set()
    warnings = [r for r in qtlog.records[already:] if r.type.name in ("QtWarningMsg", "QtCriticalMsg", "QtFatalMsg")]
    assert not warnings, [r.message for r in warnings]


def test_a_missing_model_is_a_clear_message_and_frames_still_show(qtbot, tmp_path, settings, model_files,
                                                                  group_photo):
    from kise_desktop.gui.main_window import MainWindow

    win = MainWindow(settings=settings, camera_lister=lambda: [], model_path=tmp_path / "missing.tflite",
                     lang="en", auto_camera=False, source=str(group_photo))
    qtbot.addWidget(win)
    try:
        assert win.classifier is None
        assert tr("no_model", "en") in win.model_box.label.text() and "missing.tflite" in win.model_box.label.text()
        assert win.view.notice == tr("no_model_notice", "en")
        # the photo still shows, unanalysed ...
        qtbot.waitUntil(lambda: win.last_packet is not None, timeout=WAIT)
        assert win.last_packet.panels == [] and win.stack.currentIndex() == 0
        # ... and opening a model analyses it
        assert win.load_model(*model_files)
        assert win.view.notice == ""
        qtbot.waitUntil(lambda: bool(win.last_packet.panels) and bool(win.last_packet.panels[0].result.faces),
                        timeout=WAIT)
    finally:
        win.close()
    assert not win.thread.isRunning()


def test_dropping_files_opens_them(qtbot, make_window, dlib_faces_dir):
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    win = make_window()
    mime = QMimeData()
    paths = sorted(dlib_faces_dir.glob("*.jpg"))[:2]
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    win.dropEvent(event)
    qtbot.waitUntil(lambda: win.last_packet is not None and win.last_packet.kind == "photos", timeout=WAIT)
    assert win.last_packet.count == 2 and win.last_packet.name == paths[0].name


def test_the_registry_drives_the_detector_forms(qtbot, fourth_kind, make_window):
    """A fourth kind registered in the core gets a chooser entry and a form, with no GUI code."""
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

    win = make_window(lang="en")
    controls = win.controls
    assert list(controls.radios) == list(kind_names()) and "centre" in controls.radios
    assert controls.radios["centre"].text() == "Centre box (toy)"
    form = controls.forms["centre"]
    spin = form.widgets["fraction"]
    assert isinstance(spin, QDoubleSpinBox) and (spin.minimum(), spin.maximum(), spin.decimals()) == (0.1, 1.0, 1)
    assert isinstance(form.widgets["margin"], QSpinBox) and form.widgets["margin"].maximum() == 9
    assert isinstance(form.widgets["shape"], QComboBox) and form.widgets["shape"].count() == 2
    assert isinstance(form.widgets["mirrored"], QCheckBox)
    assert form.title() == "Centre box (toy)" and form._labels["fraction"].text() == "Box size"
    win.set_language("ko")
    assert form._labels["fraction"].text() == "상자 크기" and controls.radios["centre"].text() == "가운데 상자 (장난감)"
    # choosing it runs it: one face in the middle of the 640x480 frame, of the form's size
    win.open_source(0)
    controls.radios["centre"].setChecked(True)
    win.side_panel.show_widget(controls)        # the detector forms are on the Settings tab
    assert form.isVisible() and not controls.forms["haar"].isVisible()
    packet = wait_for_faces(qtbot, win, "centre")
    assert [f.box for f in packet.panels[0].result.faces] == [(200, 120, 240, 240)]    # half of 480
    spin.setValue(0.2)
    qtbot.waitUntil(lambda: [f.box for f in win.last_packet.panels[0].result.faces] == [(272, 192, 96, 96)],
                    timeout=WAIT)
    # the Defaults button restores its live preset; photos switch it to its photo preset
    controls.defaults_btn.click()
    assert controls.settings("centre") == preset("centre", "live")
    win.close()
    assert win.settings.value("live/centre/fraction") is not None


def test_a_corrupt_yunet_model_falls_back_to_haar_and_keeps_running(qtbot, make_window, tmp_path, monkeypatch):
    from kise_desktop.core.detectors import yunet

    broken = tmp_path / "models"
    broken.mkdir()
    for name in yunet.YUNET_MODEL_FILES.values():
        (broken / name).write_bytes(b"not an onnx file" * 100)
    monkeypatch.setattr(yunet, "MODELS_DIR", broken)
    win = make_window(detector="yunet")
    assert win.controls.detector == "yunet"
    win.open_source(0)
    packet = wait_for_faces(qtbot, win, "haar")                # the next frames come from Haar
    assert win.controls.detector == "haar" and packet.panels[0].detector == "haar"
    assert "face_detection_yunet_2023mar.onnx" in win.detector_error and "Haar" in win.detector_error
    assert win._detector_box is not None and win._detector_box.isVisible()
    assert "face_detection_yunet_2023mar.onnx" in win._detector_box.text()
    seen = win.packets_shown
    qtbot.waitUntil(lambda: win.packets_shown > seen + 3, timeout=WAIT)   # and it keeps running
    assert win.thread.isRunning()
    # compare mode with the broken YuNet ticked: it is unticked, the other two still run
    win.controls.compare_box.setChecked(True)
    qtbot.waitUntil(lambda: [p.detector for p in win.last_packet.panels] == ["haar", "hog"], timeout=WAIT)
    assert not win.controls.compare_checks["yunet"].isChecked()


def test_yunet_landmarks_are_drawn_as_dots(qtbot, make_window):
    from kise_desktop.gui.video_view import LANDMARK_RGB

    win = make_window(detector="yunet")
    win.open_source(0)
    packet = wait_for_faces(qtbot, win, "yunet")
    assert all(f.landmarks is not None and f.landmarks.shape == (5, 2) for f in packet.panels[0].result.faces)
    qtbot.waitUntil(lambda: win.view.faces_shown() > 0 and bool(win.view._layout), timeout=WAIT)
    image = win.view.grab().toImage()
    rect, scale = win.view._layout[0]
    face = max(win.view._panels[0].result.faces, key=lambda f: f.box[2])
    hits = 0
    for x, y in face.landmarks:
        c = image.pixelColor(int(rect.left() + x * scale), int(rect.top() + y * scale))
        hits += abs(c.red() - LANDMARK_RGB[0]) + abs(c.green() - LANDMARK_RGB[1]) + abs(c.blue() - LANDMARK_RGB[2]) < 60
    assert hits >= 4, hits          # (a label may cover one point)


def test_find_faces_rate_starts_at_the_live_default_reaches_the_worker_and_is_remembered(qtbot, make_window,
                                                                                     settings):
    from kise_desktop.core.pipeline import LIVE_DETECT_RATE

    win = make_window(lang="en", detector="yunet")
    assert win.controls.detect_rate == LIVE_DETECT_RATE
    win.open_source(0)
    wait_for_faces(qtbot, win, "yunet")
    qtbot.waitUntil(lambda: win.worker._detect_rate == LIVE_DETECT_RATE, timeout=WAIT)
    assert "second" in win.controls.rate_combo.currentText()
    win.controls.set_detect_rate(None)                         # "in every frame"
    qtbot.waitUntil(lambda: win.worker._detect_rate is None, timeout=WAIT)
    wait_for_faces(qtbot, win, "yunet")
    win.set_language("ko")
    assert win.controls.rate_combo.currentText() == "매 프레임"
    win.close()
    again = make_window(lang="en", detector="yunet")
    assert again.controls.detect_rate is None and float(settings.value("detect_rate")) == 0.0


def test_defaults_restore_the_modes_presets_and_each_mode_keeps_its_edits(qtbot, make_window, dlib_faces_dir):
    """The forms show the window's DetectorSettingsModel: edits land in the current mode only."""
    win = make_window(detector="haar")
    win.open_source(0)
    min_size = win.controls.forms["haar"].widgets["min_size"]
    min_size.setValue(90)
    assert win.detector_settings.current("haar").min_size == 90
    win.open_source(str(dlib_faces_dir))
    qtbot.waitUntil(lambda: win.last_packet is not None and win.last_packet.kind == "photos", timeout=WAIT)
    assert min_size.value() == preset("haar", "photo").min_size       # photos: their own settings
    min_size.setValue(120)
    win.controls.defaults_btn.click()
    assert win.controls.all_settings() == {k: preset(k, "photo") for k in kind_names()}
    assert win.detector_settings.in_mode("live")["haar"].min_size == 90   # live kept its edit
    win.open_source(0)
    assert min_size.value() == 90 and win.controls.settings("haar") == win.detector_settings.current("haar")
    qtbot.waitUntil(lambda: win.last_packet.kind == "camera" and win.last_packet.panels[0].detector == "haar",
                    timeout=WAIT)
