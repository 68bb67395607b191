"""The pipeline on real photos: faces, probabilities, timings, settings changes."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.core.detectors import HaarDetector, HogDetector, kind_names, preset
from kise_desktop.core.pipeline import TIMING_KEYS, Pipeline
from kise_desktop.core.presets import LIVE_HAAR, LIVE_HOG, PHOTO_HAAR, PHOTO_HOG


def test_analyze_finds_and_classifies_the_faces_of_a_real_photo(classifier, group_photo):
    pipeline = Pipeline(classifier, PHOTO_HOG)
    result = pipeline.analyze(group_photo, timestamp=1.5)
    assert len(result.faces) == 3
    assert result.frame_size == (group_photo.shape[1], group_photo.shape[0])
    assert result.timestamp == 1.5
    assert set(result.timings_ms) == set(TIMING_KEYS)
    parts = sum(result.timings_ms[k] for k in TIMING_KEYS if k != "total")
    assert 0 < parts <= result.timings_ms["total"] + 1e-6
    for face in result.faces:
        x, y, w, h = face.box
        assert 0 <= x < x + w <= 500 and 0 <= y < y + h <= 375
        assert face.probabilities.shape == (8,)
        assert face.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
        np.testing.assert_allclose(face.smoothed, face.probabilities)   # first frame: nothing to smooth
        assert face.label_index == int(np.argmax(face.smoothed))
    assert len({f.track_id for f in result.faces}) == 3


def test_probabilities_are_the_classifier_output_for_the_crops(classifier, group_photo):
    from kise_desktop.core.faces import FaceCropper

    pipeline = Pipeline(classifier, PHOTO_HOG)
    result = pipeline.analyze(group_photo)
    gray = cv2.cvtColor(group_photo, cv2.COLOR_BGR2GRAY)
    crops = FaceCropper(classifier.input_size, classifier.crop_margin).crop(gray, [f.box for f in result.faces])
    np.testing.assert_allclose(np.stack([f.probabilities for f in result.faces]),
                               classifier.predict(crops), atol=1e-6)


def test_set_detector_rebuilds_only_when_the_kind_changes(classifier, group_photo):
    pipeline = Pipeline(classifier, LIVE_HAAR)
    haar = pipeline.detector
    pipeline.set_detector(PHOTO_HAAR)
    assert pipeline.detector is haar and pipeline.detector_settings == PHOTO_HAAR
    pipeline.set_detector(LIVE_HOG)
    assert isinstance(pipeline.detector, HogDetector) and pipeline.detector_settings == LIVE_HOG
    pipeline.set_detector(PHOTO_HOG)
    assert len(pipeline.analyze(group_photo).faces) == 3
    pipeline.set_detector(LIVE_HAAR)
    assert isinstance(pipeline.detector, HaarDetector)


def test_set_classifier_swaps_models(seed_model, classifier, group_photo):
    pipeline = Pipeline(classifier, PHOTO_HOG)
    seed = EmotionClassifier(*seed_model)
    pipeline.set_classifier(seed)
    result = pipeline.analyze(group_photo)
    assert pipeline.classifier is seed
    assert all(f.probabilities[7] == 0 for f in result.faces)    # the seed has no contempt


def test_gray_and_bgra_frames_give_the_same_faces(classifier, group_photo):
    pipeline = Pipeline(classifier, PHOTO_HOG, smoothing=0.0)
    bgr = pipeline.analyze(group_photo)
    gray = pipeline.analyze(cv2.cvtColor(group_photo, cv2.COLOR_BGR2GRAY))
    bgra = pipeline.analyze(cv2.cvtColor(group_photo, cv2.COLOR_BGR2BGRA))
    assert [f.box for f in bgr.faces] == [f.box for f in gray.faces] == [f.box for f in bgra.faces]


def test_reset_tracks_starts_new_ids_and_unsmoothed(classifier, group_photo):
    pipeline = Pipeline(classifier, PHOTO_HOG)
    first = {f.track_id for f in pipeline.analyze(group_photo).faces}
    assert {f.track_id for f in pipeline.analyze(group_photo).faces} == first
    pipeline.reset_tracks()
    assert not first & {f.track_id for f in pipeline.analyze(group_photo).faces}


def test_a_frame_without_faces(classifier):
    result = Pipeline(classifier, LIVE_HAAR).analyze(np.full((480, 640, 3), 90, np.uint8))
    assert result.faces == [] and result.timings_ms["classify"] >= 0


# A real photo squashed to shapes no camera gives: YuNet returned infinite boxes for the flat
# ones (4000x10) and the aligned crop had nothing to shrink on a 5000x2 frame.
ODD_SHAPES = [(1, 1), (10, 4000), (2, 5000), (20, 3000), (4000, 10), (5000, 2), (3, 3)]


@pytest.mark.parametrize("kind", kind_names())
@pytest.mark.parametrize("mode", ["live", "photo"])
def test_frames_of_odd_shapes_give_results_not_exceptions(classifier, group_photo, kind, mode):
    pipeline = Pipeline(classifier, preset(kind, mode))      # one pipeline for all: state carries over too
    for height, width in ODD_SHAPES:
        for interpolation in (cv2.INTER_AREA, cv2.INTER_NEAREST):
            frame = cv2.resize(group_photo, (width, height), interpolation=interpolation)
            result = pipeline.analyze(frame)
            for face in result.faces:
                x, y, w, h = face.box
                assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= width and y + h <= height
                assert abs(float(np.sum(face.probabilities)) - 1.0) < 1e-3


def test_bad_frames_are_refused(classifier):
    pipeline = Pipeline(classifier, LIVE_HAAR)
    with pytest.raises(ValueError):
        pipeline.analyze(np.zeros((48, 48, 3), np.float32))
    with pytest.raises(ValueError):
        pipeline.analyze(np.zeros((48, 48, 2), np.uint8))
    with pytest.raises(ValueError):
        pipeline.smoothing = 1.5


def test_a_detect_rate_reuses_boxes_between_detections_and_classifies_every_frame(classifier, shared_data):
    from kise_desktop.core.detectors import preset
    from kise_desktop.core.sources import open_source

    clip = shared_data / "videos" / "d19.mp4"          # 30 fps, one man
    if not clip.is_file():
        pytest.skip(f"{clip} is absent")
    frames = []
    source = open_source(str(clip))
    for frame in source:
        frames.append((frame.image_bgr, frame.timestamp))
        if len(frames) == 60:
            break
    source.close()
    every = Pipeline(classifier, preset("yunet", "live"))
    halved = Pipeline(classifier, preset("yunet", "live"), detect_rate=15.0)
    calls = []
    real_detect = halved.detector.detect
    halved.detector.detect = lambda images: calls.append(1) or real_detect(images)
    probs_differ = 0
    previous = None
    for image, ts in frames:
        seen = len(calls)
        a, b = every.analyze(image, ts), halved.analyze(image, ts)
        assert len(b.faces) == len(a.faces) == 1
        assert b.detected == (len(calls) > seen)
        if len(calls) == seen and previous is not None:
            assert b.faces[0].box == previous.faces[0].box          # the last boxes, reused
            probs_differ += not np.allclose(b.faces[0].probabilities, previous.faces[0].probabilities)
        previous = b
    # 60 frames of 30 fps at 15 detections a second: every other frame is detected.
    assert 28 <= len(calls) <= 32
    assert probs_differ > 10             # the reused box's crop is classified again, frame by frame
    # Time running backwards (a looped video) detects at once.
    seen = len(calls)
    halved.analyze(frames[0][0], 0.0)
    assert len(calls) == seen + 1


def test_a_bad_detect_rate_is_refused(classifier):
    with pytest.raises(ValueError, match="detect_rate"):
        Pipeline(classifier, LIVE_HAAR, detect_rate=0.0)
