"""YuNet on the real dlib-faces photos: faces, scores, landmarks, aligned crops, bad model files.

Thresholds sit a little under what was measured here (live preset at 640x480:
recall 100%, precision 98%; photo preset at the photos' own size: recall 100%).
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from kise_desktop.core.detectors import DetectorError, YuNetDetector, YuNetSettings, make_detector
from kise_desktop.core.faces import FaceCropper, eye_angle_deg
from kise_desktop.core.presets import LIVE_YUNET, PHOTO_YUNET
from kise_desktop.core.sources import load_image
from test_detectors import score  # one scorer for every detector kind


@pytest.fixture(scope="module")
def yunet() -> YuNetDetector:
    return YuNetDetector(LIVE_YUNET)


def test_live_preset_finds_the_annotated_faces_at_640x480(yunet, annotated_photos):
    yunet.settings = LIVE_YUNET
    counts = score(yunet, annotated_photos, (640, 480))
    assert counts.true_positives + counts.false_negatives == 43
    assert counts.recall >= 0.95 and counts.precision >= 0.90


def test_photo_preset_finds_the_annotated_faces_at_their_own_size(yunet, annotated_photos):
    yunet.settings = PHOTO_YUNET
    counts = score(yunet, annotated_photos)
    assert counts.recall >= 0.95 and counts.precision >= 0.90


def test_landmarks_fall_inside_their_box_with_the_eyes_above_the_mouth(yunet, annotated_photos):
    yunet.settings = PHOTO_YUNET
    seen = 0
    for photo in annotated_photos:
        for d in yunet.detect(load_image(photo.path)):
            x, y, w, h = d.box
            assert d.landmarks.shape == (5, 2) and 0.0 < d.score <= 1.0
            # A little slack: a landmark of a face cut by the frame edge may sit on the clipped border.
            assert np.all(d.landmarks[:, 0] >= x - 2) and np.all(d.landmarks[:, 0] <= x + w + 2)
            assert np.all(d.landmarks[:, 1] >= y - 2) and np.all(d.landmarks[:, 1] <= y + h + 2)
            eyes_y = d.landmarks[:2, 1].mean()
            mouth_y = d.landmarks[3:, 1].mean()
            assert eyes_y < d.landmarks[2, 1] < mouth_y       # eyes, then nose, then mouth, downwards
            seen += 1
    assert seen >= 40


def test_bgr_gray_and_bgra_frames_give_the_same_faces(yunet, group_photo):
    yunet.settings = LIVE_YUNET
    from_bgr = [d.box for d in yunet.detect(group_photo)]
    from_bgra = [d.box for d in yunet.detect(cv2.cvtColor(group_photo, cv2.COLOR_BGR2BGRA))]
    assert len(from_bgr) == 3 and from_bgra == from_bgr
    gray = cv2.cvtColor(group_photo, cv2.COLOR_BGR2GRAY)
    assert len(yunet.detect(gray)) == 3         # gray is expanded to 3 channels, faces still found


def test_input_size_is_set_only_when_the_frame_size_changes(group_photo, monkeypatch):
    detector = YuNetDetector(LIVE_YUNET)
    calls = []
    net = detector._net
    real = net.setInputSize

    class Spy:
        def __getattr__(self, name):
            return getattr(net, name)

        def setInputSize(self, size):
            calls.append(size)
            real(size)

    detector._net = Spy()
    for _ in range(3):
        detector.detect(group_photo)
    detector.detect(cv2.resize(group_photo, None, fx=0.5, fy=0.5))
    assert len(calls) == 2


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    # Put the photo on a larger canvas first so that the corners stay in view after the turn.
    pad = max(h, w) // 3
    canvas = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    ch, cw = canvas.shape[:2]
    m = cv2.getRotationMatrix2D((cw / 2, ch / 2), degrees, 1.0)
    return cv2.warpAffine(canvas, m, (cw, ch), borderMode=cv2.BORDER_REPLICATE)


def test_alignment_levels_a_tilted_real_face(dlib_faces_dir):
    """Turn a real photo by 20 degrees, crop its face with and without alignment at 160 px, and
    measure the eye line in each crop with YuNet itself."""
    photo = rotated(load_image(dlib_faces_dir / "2008_001322.jpg"), 20.0)
    detector = YuNetDetector(YuNetSettings(score_threshold=0.6, model="n", detect_width=None))
    faces = detector.detect(photo)
    big = max(faces, key=lambda d: d.box[2] * d.box[3])
    assert abs(eye_angle_deg(big.landmarks)) > 12          # the turn is visible in the landmarks
    gray = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    measure = YuNetDetector(YuNetSettings(score_threshold=0.5, model="n", detect_width=None))
    angles = {}
    for align in (False, True):
        crop = FaceCropper((160, 160), margin=0.4, align=align).crop(gray, [big])[0].copy()
        found = measure.detect(crop)
        assert found, f"no face in the {'aligned' if align else 'plain'} crop"
        angles[align] = eye_angle_deg(max(found, key=lambda d: d.box[2] * d.box[3]).landmarks)
    # YuNet's own landmarks see only part of a tilt (about 15 of 20 degrees here), so one warp
    # levels the face part of the way: at least a third less tilt, measured on the crops themselves.
    assert abs(angles[False]) > 12
    assert abs(angles[True]) < abs(angles[False]) * 2 / 3, angles


def test_a_big_face_aligned_matches_the_plain_crop_when_level(group_photo):
    """With the eye line forced level, the aligned path (pre-shrunk, then warped) gives the plain crop."""
    detector = YuNetDetector(PHOTO_YUNET)
    gray = cv2.cvtColor(group_photo, cv2.COLOR_BGR2GRAY)
    face = detector.detect(group_photo)[0]
    level = face.landmarks.copy()
    level[1, 1] = level[0, 1]
    from kise_desktop.core.types import Detection
    levelled = Detection(face.box, face.score, level)
    plain = FaceCropper((48, 48), margin=0.2).crop(gray, [face.box])[0].astype(float)
    aligned = FaceCropper((48, 48), margin=0.2, align=True).crop(gray, [levelled])[0].astype(float)
    # Same picture up to sub-pixel placement (the plain crop rounds its corners to whole pixels).
    assert np.corrcoef(plain.ravel(), aligned.ravel())[0, 1] > 0.9


def test_missing_and_corrupt_model_files_name_the_file(tmp_path):
    missing = tmp_path / "nothing.onnx"
    with pytest.raises(DetectorError, match="nothing.onnx.*missing"):
        YuNetDetector(LIVE_YUNET, model_path=missing)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x01\x12\x04junk" * 100)
    with pytest.raises(DetectorError, match="corrupt.onnx"):
        YuNetDetector(LIVE_YUNET, model_path=corrupt)


def test_make_detector_builds_yunet_from_its_settings_and_switches_network_in_place(group_photo):
    detector = make_detector(LIVE_YUNET)
    assert isinstance(detector, YuNetDetector) and detector.model_path.name == "face_detection_yunet_2023mar.onnx"
    detector.settings = PHOTO_YUNET
    assert len(detector.detect(group_photo)) == 3 and detector.model_path.name == "yunet_n_640_640.onnx"
    assert math.isclose(LIVE_YUNET.score_threshold, 0.7)
