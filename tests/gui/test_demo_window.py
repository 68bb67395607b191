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
    times = np.array([float(r["timestamp"]) for r in rows])
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
