"""Stable ids across frames and smoothing per track (labels: test_labels.py)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.presets import PHOTO_HOG
from kise_desktop.core.tracking import IoUTracker, iou


def one_hot(i: int) -> np.ndarray:
    v = np.zeros(8, np.float32)
    v[i] = 1.0
    return v


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_ids_stay_with_faces_of_a_real_photo_shifted_by_a_few_pixels(classifier, group_photo):
    pipeline = Pipeline(classifier, PHOTO_HOG)
    h, w = group_photo.shape[:2]
    frames = []
    for dx, dy in [(0, 0), (3, 1), (6, 2), (4, 4), (1, 3)]:
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        frames.append(((dx, dy), pipeline.analyze(
            cv2.warpAffine(group_photo, shift, (w, h)))))
    (dx0, dy0), first = frames[0]
    assert len(first.faces) >= 3
    start = {f.track_id: f.box for f in first.faces}
    for (dx, dy), result in frames[1:]:
        assert {f.track_id for f in result.faces} == set(start)
        for face in result.faces:
            # The same id is on the same face: of the first frame's faces, moved by the shift,
            # the one that overlaps this box most is the one that had this id.
            moved = {tid: (x + dx - dx0, y + dy - dy0, bw, bh) for tid, (x, y, bw, bh) in start.items()}
            nearest = max(moved, key=lambda tid: iou(face.box, moved[tid]))
            assert nearest == face.track_id and iou(face.box, moved[nearest]) >= 0.5


def test_a_bare_number_is_the_old_per_frame_exponential_moving_average():
    tracker = IoUTracker(smoothing=0.6)
    box = (100, 100, 50, 50)
    [(tid, s1, _, _)] = tracker.update([box], one_hot(0)[None])
    np.testing.assert_allclose(s1, one_hot(0))
    [(tid2, s2, _, _)] = tracker.update([(102, 101, 50, 50)], one_hot(1)[None])
    assert tid2 == tid
    np.testing.assert_allclose(s2, 0.6 * one_hot(0) + 0.4 * one_hot(1), atol=1e-6)
    # The label does not flip on one odd frame...
    assert int(np.argmax(s2)) == 0
    # ...but follows a lasting change.
    for _ in range(3):
        [(_, s, _, _)] = tracker.update([box], one_hot(1)[None])
    assert int(np.argmax(s)) == 1


def test_no_smoothing_returns_each_frame_as_it_is():
    tracker = IoUTracker(smoothing=0.0)
    tracker.update([(0, 0, 10, 10)], one_hot(2)[None])
    [(_, s, _, _)] = tracker.update([(0, 0, 10, 10)], one_hot(5)[None])
    np.testing.assert_allclose(s, one_hot(5))


def test_new_faces_get_new_ids_and_lost_tracks_retire():
    tracker = IoUTracker(smoothing=0.5, max_missed=2)
    a, b = (0, 0, 50, 50), (200, 0, 50, 50)
    ids = [t.track_id for t in tracker.update([a, b], np.stack([one_hot(0), one_hot(1)]))]
    assert len(set(ids)) == 2
    # b disappears for two frames (a detector blink) and comes back: same id.
    tracker.update([a], one_hot(0)[None])
    tracker.update([a], one_hot(0)[None])
    back = [t.track_id for t in tracker.update([a, b], np.stack([one_hot(0), one_hot(1)]))]
    assert back == ids
    # Gone for longer than max_missed: a new id, never a reused one.
    for _ in range(4):
        tracker.update([a], one_hot(0)[None])
    again = [t.track_id for t in tracker.update([a, b], np.stack([one_hot(0), one_hot(1)]))]
    assert again[0] == ids[0] and again[1] not in ids


def test_two_faces_never_share_a_track():
    tracker = IoUTracker()
    tracker.update([(0, 0, 50, 50)], one_hot(0)[None])
    ids = [t.track_id for t in tracker.update([(2, 0, 50, 50), (5, 2, 50, 50)], np.stack([one_hot(0)] * 2))]
    assert len(set(ids)) == 2


def test_reset_forgets_tracks():
    tracker = IoUTracker()
    [(first, *_)] = tracker.update([(0, 0, 50, 50)], one_hot(0)[None])
    tracker.reset()
    [(second, s, *_)] = tracker.update([(0, 0, 50, 50)], one_hot(3)[None])
    assert second != first
    np.testing.assert_allclose(s, one_hot(3))


def test_smoothing_out_of_range_is_refused():
    with pytest.raises(ValueError):
        IoUTracker(smoothing=1.0)
