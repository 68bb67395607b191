"""The window as a demo uses it: a looped real clip, a recording, its session report."""
from __future__ import annotations

import csv

import numpy as np

WAIT = 30000   # ms: generous, the machine is shared (these are not timing tests)
CLIP_FRAMES = 78


def test_a_looped_clip_keeps_its_track_and_history_and_the_csv_time_increases(qtbot, make_window, short_clip,
                                                                                tmp_path):
    win = make_window(loop=True, pace=False)
    states = []
    win.worker.state_changed.connect(lambda s: states.append(s.code))
    csv_path = tmp_path / "session.csv"
    win.start_recording(csv_path)
    win.open_source(str(short_clip))
    qtbot.waitUntil(lambda: win.last_packet is not None and win.last_packet.index > CLIP_FRAMES + 40, timeout=WAIT)
    assert states.count("opening") == 1 and "ended" not in states       # looped without reopening
    assert win.stack.currentIndex() == 0                                # the video page, never the message page
    t, _ = win.history.buffer.ordered()
    assert t[0] < CLIP_FRAMES / 25.0 < t[-1]                            # the history spans the loop
    win.stop_recording()
    with csv_path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    frames = np.array([int(r["frame"]) for r in rows])
    time_col = "time_s" if "time_s" in rows[0] else "timestamp"     # the shared output schema names it time_s
    times = np.array([float(r[time_col]) for r in rows])
    assert np.all(np.diff(times) >= 0), "the CSV time went backwards"
    assert times.max() > CLIP_FRAMES / 25.0                             # past the end of the first pass
    # the person's track (the track with most rows) is seen on both sides of the loop
    tracks = [int(r["track_id"]) for r in rows]
    main = max(set(tracks), key=tracks.count)
    main_times = times[np.array(tracks) == main]
    assert main_times.min() < CLIP_FRAMES / 25.0 - 0.5 and main_times.max() > CLIP_FRAMES / 25.0 + 0.5, \
        (main, sorted(set(tracks)))
    assert len(frames) == len(times)


def test_the_displayed_label_holds_still_on_a_still_photo_for_5_s(qtbot, make_window):
    win = make_window(fps=20.0)                  # the fake camera repeats the real group photo
    seen: dict[int, set[int]] = {}
    packets = []

    def on_packet():
        p = win.last_packet
        if p is not None and p.panels and (not packets or packets[-1] is not p):
            packets.append(p)
            for face in p.panels[0].result.faces:
                seen.setdefault(face.track_id, set()).add(face.label_index)

    win.worker.packet_ready.connect(on_packet, type=2)      # queued: after the window took the packet
    win.open_source(0)
    qtbot.waitUntil(lambda: len(packets) >= 2 and packets[-1].timestamp - packets[0].timestamp >= 5.0,
                    timeout=WAIT)
    assert seen, "no face found on the photo"
    steady = {tid: labels for tid, labels in seen.items() if len(labels) == 1}
    assert steady == seen, f"labels changed on a still photo: {seen}"


# --------------------------------------------------------------------------- layout
def _clipped_controls(win):
    """Buttons / lists of the current side-panel tab that are hidden, outside the window or cut short."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractButton, QComboBox

    panel = win.side_panel
    i = panel.currentIndex()
    page, viewport = panel.pages[i], panel.scrolls[i].viewport()
    bad = []
    for w in page.findChildren(QAbstractButton) + page.findChildren(QComboBox):
        if not w.isVisibleTo(page):
            continue                      # hidden on purpose (photo navigation outside photo mode)
        top_left = w.mapTo(win, QPoint(0, 0))
        in_window = win.rect().contains(QRect(top_left, w.size()))
        in_view = viewport.rect().contains(QRect(w.mapTo(viewport, QPoint(0, 0)), w.size()))
        text = w.text() if isinstance(w, QAbstractButton) else w.currentText()
        wide_enough = w.width() >= w.minimumSizeHint().width() - 1
        if not (w.isVisible() and in_window and in_view and wide_enough):
            bad.append((text, QRect(top_left, w.size()), win.size(), in_window, in_view, wide_enough))
    return bad


def test_at_800x600_every_sections_buttons_are_visible_inside_the_window(qtbot, make_window, dlib_faces_dir):
    win = make_window(lang="en")
    win.resize(800, 600)
    for lang in ("en", "ko", "en"):          # the runtime switch re-lays out every text
        win.set_language(lang)
        for source in (0, str(dlib_faces_dir)):    # live, then photo mode (its navigation buttons shown)
            win.open_source(source)
            qtbot.waitUntil(lambda: win.last_packet is not None and
                            (win.last_packet.kind == "photos") == isinstance(source, str), timeout=WAIT)
            for i in range(win.side_panel.count()):
                win.side_panel.setCurrentIndex(i)
                qtbot.wait(30)
                assert _clipped_controls(win) == [], (lang, source, win.side_panel.tabText(i))
            # the history title is never cut: the whole title, or at least the whole face number
            title = win.history_title
            qtbot.waitUntil(lambda: "#" in title.text(), timeout=WAIT)
            assert title.fontMetrics().horizontalAdvance(title.text()) <= title.width(), (title.text(), title.width())
            who = title.toolTip().split(" - ")[-1]                # "face #24": what the title must show
            assert title.text().lower().endswith(who.lower()), (title.text(), title.toolTip())
    assert win.side_panel.width() < 800 / 2.5        # the view keeps most of the width


def test_a_status_message_is_shown_whole_at_800x600_while_the_stage_times_step_aside(qtbot, make_window):
    win = make_window(lang="en")
    win.resize(800, 600)
    win.open_source(0)
    win.controls.compare_box.setChecked(True)              # three detectors: the longest stage times
    qtbot.waitUntil(lambda: "YuNet" in win.stage_label.text(), timeout=WAIT)
    bar = win.statusBar()
    message = "Could not write /home/someone/Pictures/kise_snapshot.png: No space left on device"
    bar.showMessage(message, 5000)
    qtbot.waitUntil(lambda: not win.stage_label.isVisible(), timeout=WAIT)
    room = bar.width() - win.perf_label.width() - 20       # the message's share, less the bar's margins
    assert bar.fontMetrics().horizontalAdvance(message) <= room, (room, win.perf_label.text())
    bar.clearMessage()
    qtbot.waitUntil(win.stage_label.isVisible, timeout=WAIT)
    assert "YuNet" in win.stage_label.text()


# --------------------------------------------------------------------------- faces
def _click_face(qtbot, win, face):
    from PySide6.QtCore import QPoint, Qt

    rect, scale = win.view._layout[0]
    x, y, w, h = face.box
    pos = QPoint(int(rect.left() + (x + w / 2) * scale), int(rect.top() + (y + h / 2) * scale))
    qtbot.mouseClick(win.view, Qt.MouseButton.LeftButton, pos=pos)


def _title_follows(win, who: str) -> bool:
    """The history title names this face (in full in its tooltip; shortened to the face alone where narrow)."""
    title = win.history_title
    return title.toolTip().endswith(who) and title.text().lower().endswith(who.lower())


def test_the_face_number_on_a_box_matches_the_history_title_after_a_click(qtbot, make_window):
    from kise_desktop.gui.i18n import tr

    win = make_window(lang="en")
    win.open_source(0)
    qtbot.waitUntil(lambda: win.view.faces_shown() >= 2 and len(win.view.drawn_labels) >= 2, timeout=WAIT)
    faces = win.view._panels[0].result.faces
    target = min(faces, key=lambda f: f.box[2] * f.box[3])     # not the largest: not followed by default
    _click_face(qtbot, win, target)
    tid = target.track_id
    qtbot.waitUntil(lambda: _title_follows(win, tr("history_face", "en", id=tid)), timeout=WAIT)
    qtbot.waitUntil(lambda: any(t == tid for t, _ in win.view.drawn_labels), timeout=WAIT)
    drawn = dict(win.view.drawn_labels)
    assert drawn[tid].startswith(f"#{tid} "), drawn             # the same number on the box
    # choosing another face from the list follows that one, with its number
    combo = win.history_panel.face_combo
    other = next(t for t in drawn if t != tid)
    combo.setCurrentIndex(combo.findData(other))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: _title_follows(win, tr("history_face", "en", id=other)), timeout=WAIT)
    assert win.view.selected is not None and win.view.selected[1] == other


def test_before_any_face_the_face_list_offers_the_largest_face_in_the_window_language(qtbot, make_window):
    from kise_desktop.gui.i18n import tr

    win = make_window(lang="en")
    combo = win.history_panel.face_combo
    assert combo.count() == 1 and combo.currentText() == tr("face_auto", "en") and combo.currentData() == -1
    win.set_language("ko")                          # not blank, and not left in English either
    assert combo.count() == 1 and combo.currentText() == tr("face_auto", "ko")


def test_the_seed_models_seven_emotions_are_the_legend_and_the_switch_is_confirmed(qtbot, make_window, seed_model):
    from kise_desktop.emotions import EMOTION_INDEX, EMOTIONS

    win = make_window(lang="en")
    assert win.load_model(*seed_model)
    names = win.history.legend_names()
    assert len(names) == 7 and EMOTIONS[EMOTION_INDEX["contempt"]].en not in names
    assert "seed mini_XCEPTION" in win.statusBar().currentMessage()
    text = win.model_box.label.text()
    assert "AIHub" in text and "7" in text           # what the sidecar knows: training data, classes
    seven = ", ".join(EMOTIONS[i].en for i in range(len(EMOTIONS)) if EMOTIONS[i].en != EMOTIONS[EMOTION_INDEX["contempt"]].en)
    assert seven in text                              # which seven: the list appears where not all eight are read
    assert "mirror" not in text                       # the seed's sidecar has no mirror mode


def test_the_model_panel_says_whether_faces_are_mirror_averaged(qtbot, make_window, bundled_model):
    from kise_desktop.core.machine import cpu_description
    from kise_desktop.gui.i18n import tr

    for lang in ("en", "ko"):
        win = make_window(lang=lang)
        assert win.load_model(bundled_model)
        key = "model_mirror_on" if cpu_description()["int8_dot"] else "model_mirror_off"
        assert win.classifier.mirror == (key == "model_mirror_on")
        assert f"({tr(key, lang)})" in win.model_box.label.text()
        assert win.model_box.label.toolTip() == tr(key.replace("mirror_", "mirror_tip_"), lang)
        # The accuracy shown is the one this CPU gets: mirrored, or the sidecar's one-pass figure.
        sidecar = win.classifier.sidecar
        shown = sidecar["metrics"] if win.classifier.mirror else sidecar["metrics_one_pass"]
        assert f"{shown['accuracy'] * 100:.1f}%" in win.model_box.label.text()
    assert sidecar["metrics_one_pass"]["accuracy"] < sidecar["metrics"]["accuracy"]


def test_mirror_averaging_can_be_chosen_and_the_choice_is_kept(qtbot, make_window, bundled_model, settings):
    from kise_desktop.gui.i18n import tr

    win = make_window(lang="ko")
    assert win.load_model(bundled_model) and win.mirror_choice is None
    assert [win.model_box.mirror_combo.itemText(i) for i in range(3)] == [tr(f"mirror_choice_{k}", "ko") for k in
                                                                 ("auto", "on", "off")]
    win.open_source(0)
    qtbot.waitUntil(lambda: win.last_packet is not None, timeout=WAIT)
    for choice, mirrored in (("on", True), ("off", False)):
        win.model_box.mirror_combo.setCurrentIndex(win.model_box.mirror_combo.findData(choice))
        assert win.classifier.mirror is mirrored and win.classifier.model_path == bundled_model
        state = "on" if mirrored else "off"
        assert f"({tr('model_mirror_' + state, 'ko')})" in win.model_box.label.text()
        accuracy = win.classifier.sidecar["metrics" if mirrored else "metrics_one_pass"]["accuracy"]
        assert f"{accuracy * 100:.1f}%" in win.model_box.label.text()
        shown = win.packets_shown
        qtbot.waitUntil(lambda: win.packets_shown > shown + 2, timeout=WAIT)     # the demo goes on
    assert win.model_box.label.toolTip() == tr("model_mirror_tip_chosen_off", "ko")
    assert settings.value("mirror") == "off"
    again = make_window(lang="en")                    # the same settings: the next run starts with the choice
    assert again.mirror_choice == "off" and again.model_box.mirror_combo.currentData() == "off"
    assert again.classifier.mirror is False
    again.set_mirror(None)                            # back to the sidecar's own mode
    assert again.classifier.mirror_mode == again.classifier.sidecar.get("mirror", "off")
    assert settings.value("mirror") == ""


# --------------------------------------------------------------------------- stop, warnings, report
def test_after_stop_start_and_open_are_offered_and_timings_are_cleared(qtbot, make_window):
    win = make_window(lang="en")
    assert not win.source_box.stop_btn.isEnabled()                # nothing open yet
    win.open_source(0)
    qtbot.waitUntil(lambda: win.last_packet is not None and win.stage_label.text().strip() != "", timeout=WAIT)
    assert win.source_box.stop_btn.isEnabled()
    win.source_box.stop_btn.click()
    qtbot.waitUntil(lambda: win.stack.currentIndex() == 1, timeout=WAIT)
    assert not win.source_box.stop_btn.isEnabled()                # stopped: nothing left to stop
    qtbot.wait(700)                                   # past a status-bar refresh
    assert win.message_page.retry_btn.isVisible() and win.message_page.retry_btn.text() == win.source_box.start_camera_btn.text()
    assert win.message_page.open_btn.isVisible()
    assert win.stage_label.text().strip() == "" and win.perf_label.text().strip() == ""
    seen = win.packets_shown
    win.message_page.retry_btn.click()                             # starts the same camera again
    qtbot.waitUntil(lambda: win.packets_shown > seen and win.stack.currentIndex() == 0, timeout=WAIT)


def test_settings_that_find_no_face_get_a_warning_beside_them(qtbot, make_window):
    win = make_window(lang="en")
    win.health.no_face_s = 1.0                   # sooner than the 5 s of the app, for the test
    win.open_source(0)
    qtbot.waitUntil(lambda: win.view.faces_shown() > 0, timeout=WAIT)
    assert win.settings_warning.isHidden()
    win.worker.set_detector_settings(win.last_packet.panels[0].detector, _no_face_settings(win))
    qtbot.waitUntil(lambda: not win.settings_warning.isHidden() and
                    "No face found" in win.settings_warning.text(), timeout=WAIT)
    assert "⚠" in win.side_panel.tabText(1)          # the Settings tab shows it from the other tab too


def _no_face_settings(win):
    """Settings of the running detector that cannot find the photo's faces (a minimum size above them)."""
    import dataclasses

    settings = win.worker._settings[win.last_packet.panels[0].detector]
    fields = {f.name for f in dataclasses.fields(settings)}
    for name in ("min_size", "min_face"):
        if name in fields:
            return dataclasses.replace(settings, **{name: 400})
    return dataclasses.replace(settings, **{"score_threshold": 0.999})


def test_a_session_report_after_a_recording(qtbot, make_window, short_clip, tmp_path):
    import base64
    import re

    import cv2

    win = make_window(lang="en", pace=False)
    assert not win.record_box.report_btn.isEnabled()
    win.start_recording(tmp_path / "session.csv")
    win.open_source(str(short_clip))
    qtbot.waitUntil(lambda: win.recorder is not None and win.recorder.rows >= 40, timeout=WAIT)
    win.stop_recording()
    assert win.record_box.report_btn.isEnabled()
    html_path, png_path = win.write_session_report(tmp_path / "report.html")
    html = html_path.read_text(encoding="utf-8")
    images = re.findall(r"data:image/(?:png|jpeg);base64,([A-Za-z0-9+/=]+)", html)
    assert len(images) >= 2                           # a timeline and at least one face thumbnail
    for data in images:
        decoded = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None and decoded.size > 0
    assert "jpeg" in html                             # thumbnails from the frames the window had
    assert png_path.is_file() and cv2.imread(str(png_path)) is not None
