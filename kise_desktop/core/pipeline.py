"""One frame in, faces with emotions out: what the CLI and the GUI both call."""
from __future__ import annotations

import time
from dataclasses import asdict

import cv2
import numpy as np

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.core.detectors import Detector, make_detector, same_kind
from kise_desktop.core.faces import FaceCropper
from kise_desktop.core.tracking import IoUTracker
from kise_desktop.core.types import FaceResult, FrameResult, HaarSettings, HogSettings

TIMING_KEYS = ("convert", "detect", "crop", "classify", "track", "total")


class Pipeline:
    """Detect, crop, classify and track the faces of one frame at a time.

    Not thread-safe (the classifier's interpreter is not): run it on one
    thread, and change settings from that thread between frames.
    """

    def __init__(self, classifier: EmotionClassifier, detector_settings: HaarSettings | HogSettings,
                 smoothing: float = 0.6) -> None:
        self._detector: Detector = make_detector(detector_settings)
        self._tracker = IoUTracker(smoothing=smoothing)
        self._gray: np.ndarray | None = None
        self.set_classifier(classifier)

    # -- settings --------------------------------------------------------------

    @property
    def detector_settings(self) -> HaarSettings | HogSettings:
        return self._detector.settings

    @property
    def detector(self) -> Detector:
        return self._detector

    @property
    def classifier(self) -> EmotionClassifier:
        return self._classifier

    @property
    def smoothing(self) -> float:
        return self._tracker.smoothing

    @smoothing.setter
    def smoothing(self, value: float) -> None:
        if not 0.0 <= value < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {value}")
        self._tracker.smoothing = value

    def set_detector(self, settings: HaarSettings | HogSettings) -> None:
        """New detector settings; the detector is rebuilt only if its kind changes."""
        if same_kind(self._detector, settings):
            self._detector.settings = settings
        else:
            self._detector = make_detector(settings)

    def set_classifier(self, classifier: EmotionClassifier) -> None:
        self._classifier = classifier
        self._cropper = FaceCropper(classifier.input_size, classifier.crop_margin)

    def reset_tracks(self) -> None:
        """Forget faces seen so far (a new video, or photos unrelated to each other)."""
        self._tracker.reset()

    # -- per frame -------------------------------------------------------------

    def analyze(self, frame_bgr: np.ndarray, timestamp: float = 0.0) -> FrameResult:
        """Faces in a BGR (or BGRA, or grayscale) uint8 frame, with per-stage timings in ms."""
        t0 = time.perf_counter()
        gray = self._to_gray(frame_bgr)
        t1 = time.perf_counter()
        boxes = self._detector.detect(gray)
        t2 = time.perf_counter()
        crops = self._cropper.crop(gray, boxes)
        t3 = time.perf_counter()
        probs = self._classifier.predict(crops)
        t4 = time.perf_counter()
        tracked = self._tracker.update(boxes, probs)
        faces = [FaceResult(box=box, probabilities=probs[i], smoothed=smoothed, track_id=track_id)
                 for i, (box, (track_id, smoothed)) in enumerate(zip(boxes, tracked))]
        t5 = time.perf_counter()
        timings = {key: (b - a) * 1000.0 for key, a, b in zip(
            TIMING_KEYS, (t0, t1, t2, t3, t4, t0), (t1, t2, t3, t4, t5, t5))}
        height, width = gray.shape[:2]
        return FrameResult(faces=faces, timings_ms=timings, frame_size=(width, height), timestamp=timestamp)

    def _to_gray(self, frame: np.ndarray) -> np.ndarray:
        if frame.dtype != np.uint8:
            raise ValueError(f"analyze() wants an 8-bit image, got {frame.dtype}")
        if frame.ndim == 2:
            return frame
        code = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}.get(frame.shape[2])
        if code is None:
            raise ValueError(f"analyze() wants 1, 3 or 4 channels, got {frame.shape}")
        if self._gray is None or self._gray.shape != frame.shape[:2]:
            self._gray = np.empty(frame.shape[:2], dtype=np.uint8)
        cv2.cvtColor(frame, code, dst=self._gray)
        return self._gray


def settings_dict(settings: HaarSettings | HogSettings) -> dict:
    """Settings as JSON-ready data, with their kind."""
    kind = "haar" if isinstance(settings, HaarSettings) else "hog"
    return {"kind": kind, **asdict(settings)}
