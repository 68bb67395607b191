"""The core's public face (`kise_desktop.core`): the names the docstring promises, on real photos."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest


def test_photo_pipeline_reads_a_real_photo_as_the_long_way_does(dlib_faces_dir, bundled_model):
    from kise_desktop import core
    from kise_desktop.core.classifier import EmotionClassifier
    from kise_desktop.core.detectors import preset
    from kise_desktop.core.pipeline import Pipeline

    image = core.load_image(dlib_faces_dir / "2008_001009.jpg")
    short = core.photo_pipeline().analyze(image)
    long = Pipeline(EmotionClassifier(bundled_model), preset("yunet", "photo"), smoothing=0.0).analyze(image)
    assert len(short.faces) >= 1 and [f.box for f in short.faces] == [f.box for f in long.faces]
    for a, b in zip(short.faces, long.faces):
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
        assert 0 <= a.label_index < len(core.EMOTIONS) and 0 < a.confidence <= 1


def test_a_live_pipeline_follows_the_face_of_a_real_clip_with_another_model(shared_data, seed_model):
    from kise_desktop import core

    clip = shared_data / "videos" / "d0.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is absent")
    model, sidecar = seed_model                    # the seed's sidecar is not beside it: the repo has it
    assert core.find_sidecar(model) == sidecar
    pipeline = core.live_pipeline("haar", model=model)
    assert len(pipeline.classifier.labels) == 7
    tracks, times = set(), []
    with core.open_source(clip) as frames:         # the README's example, on the clip of one person
        for frame in frames:
            result = pipeline.analyze(frame.image_bgr, frame.timestamp)
            tracks |= {f.track_id for f in result.faces}
            times.append(frame.timestamp)
            if len(times) == 30:
                break
    assert len(times) == 30 and np.all(np.diff(times) > 0)
    assert len(tracks) == 1                        # one person, one track over a second of video


def test_importing_the_core_loads_no_model_runtime_and_unknown_names_fail_plainly():
    code = ("import sys, kise_desktop.core as core; "
            "heavy = [m for m in ('cv2', 'ai_edge_litert', 'tflite_runtime', 'tensorflow') if m in sys.modules]; "
            "assert not heavy, heavy; "
            "assert {'Pipeline', 'photo_pipeline', 'load_image', 'EMOTIONS'} <= set(dir(core)); "
            "print(core.Pipeline.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "kise_desktop.core.pipeline"
    from kise_desktop import core

    with pytest.raises(AttributeError, match="no_such_name"):
        core.no_such_name
