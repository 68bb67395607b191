"""A looped video plays on by seeking back: time keeps increasing, tracks carry on."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.presets import LIVE_HAAR
from kise_desktop.core.sources import VideoSource, open_source


@pytest.fixture(scope="module")
def d0(shared_data: Path) -> Path:
    path = shared_data / "videos" / "d0.mp4"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def test_a_looped_video_keeps_time_increasing_and_restarts_at_frame_0(d0):
    with VideoSource(d0) as once:
        first_pass = [f.image_bgr for f in once]
        fps = once.fps
    n = len(first_pass)
    assert n > 10
    with open_source(d0, loop=True) as looped:
        frames = [next(looped) for _ in range(2 * n + 5)]
        assert looped.loops == 2
    times = np.array([f.timestamp for f in frames])
    assert np.all(np.diff(times) > 0)
    np.testing.assert_allclose(np.diff(times), 1.0 / fps, atol=1e-6)   # no jump, no repeat at the seam
    # the second pass starts with the file's first frame again (a seek, the same pixels)
    assert np.array_equal(frames[n].image_bgr, first_pass[0])
    assert np.array_equal(frames[2 * n - 1].image_bgr, first_pass[-1])


def test_without_loop_the_video_ends(d0):
    with open_source(d0) as once:
        count = sum(1 for _ in once)
        assert once.loops == 0
    assert count > 10


def test_the_face_keeps_its_track_id_across_the_loop(d0, classifier):
    pipeline = Pipeline(classifier, LIVE_HAAR)
    ids = []
    with open_source(d0, loop=True) as looped:
        n = looped.frame_count
        for i, frame in enumerate(looped):
            result = pipeline.analyze(frame.image_bgr, frame.timestamp)
            ids.extend(f.track_id for f in result.faces)
            if i >= n + 10:         # ten frames into the second pass
                break
        assert looped.loops == 1
    assert ids, "no face found in d0"
    # d0 starts and ends on the same neutral face, so the box overlaps across the seam
    assert len(set(ids)) == 1
