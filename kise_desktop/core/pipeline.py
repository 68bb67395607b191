"""One frame in, faces with emotions out: what the CLI, the GUI and the benchmarks all call."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.core.detectors import Detector, FrameImages, kind_of, make_detector, same_kind, settings_to_dict
from kise_desktop.core.faces import FaceCropper
from kise_desktop.core.labels import LIVE_LABELS, LabelSettings
from kise_desktop.core.tracking import IoUTracker
from kise_desktop.core.types import FaceResult, FrameResult

TIMING_KEYS = ("convert", "detect", "crop", "classify", "track", "total")
# Detections per second a live source may ask for (None = every frame); the GUI offers these.
DETECT_RATE_CHOICES: tuple[float | None, ...] = (None, 15.0, 10.0)
# The app's default for live video: at 30 fps it halves detection's CPU (bench_gui --paced, YuNet, one run:
# 57% -> 47% of a core for the whole app on a real one-face clip) and leaves the labels as they were (scripts/label_stability.py --detect-rate 15:
# the same changes/s and onset reactions within 0.04 s on the four real clips). Files written by
# `kise video` are still detected in every frame.
LIVE_DETECT_RATE: float | None = 15.0


class Pipeline:
    """Detect, crop, classify and track the faces of one frame at a time.

    `align_faces`: where the detector gives landmarks (YuNet), level the eye
    line before classifying. On by default because it helps and never costs
    measurably (README, "Aligned crops"; python -m training.evaluate_pipeline):
    on FER+ validation faces turned by 30 degrees it gains 4-8 points with
    either network (2023mar 80.0% -> 87.5% at -30), upright it is within
    +-0.6 points; on the test set +5.8 to +6.1 at +-30, +1.0 to +1.9 at +-15,
    +0.3/+0.4 upright, for both 2023mar (the live preset) and n.

    `detect_rate`: at most this many detections per second of video time
    (None = every frame). Between two, the last boxes and landmarks are reused
    and only the crops are classified again: every frame still gets fresh
    emotions, and the boxes trail a moving head by at most 1/rate s. Detection
    is most of a live frame's work (YuNet: ~9 of ~12 ms), so a rate of 15 at
    30 fps halves what detection costs.

    Not thread-safe (the classifier's interpreter is not): run it on one
    thread, and change settings from that thread between frames.
    """

    def __init__(self, classifier: EmotionClassifier, detector_settings: Any,
                 smoothing: LabelSettings | float = LIVE_LABELS, align_faces: bool = True,
                 detect_rate: float | None = None) -> None:
        self._last_detect_ts: float | None = None
        self._last_size: tuple[int, ...] = ()
        self._last_detections: list = []
        self._detect_rate: float | None = None
        self.detect_rate = detect_rate
        self._detector: Detector = make_detector(detector_settings)
        self._tracker = IoUTracker(smoothing=smoothing)
        self._images = FrameImages()
        self._align = align_faces
        self._classifier = classifier
        self._cropper = self._make_cropper()

    # -- settings --------------------------------------------------------------

    @property
    def detector_settings(self) -> Any:
        return self._detector.settings

    @property
    def detector(self) -> Detector:
        return self._detector

    @property
    def classifier(self) -> EmotionClassifier:
        return self._classifier

    @property
    def smoothing(self) -> LabelSettings:
        """Label smoothing and hysteresis (`kise_desktop.core.labels`); a number = old per-frame weight."""
        return self._tracker.smoothing

    @smoothing.setter
    def smoothing(self, value: LabelSettings | float) -> None:
        self._tracker.smoothing = value

    @property
    def align_faces(self) -> bool:
        return self._align

    @align_faces.setter
    def align_faces(self, on: bool) -> None:
        self._align = bool(on)
        self._cropper.align = self._align

    @property
    def detect_rate(self) -> float | None:
        return self._detect_rate

    @detect_rate.setter
    def detect_rate(self, rate: float | None) -> None:
        if rate is not None and not rate > 0:
            raise ValueError(f"detect_rate must be > 0 detections per second (or None), got {rate}")
        if rate != self._detect_rate:
            self._last_detect_ts = None
        self._detect_rate = rate

    def set_detector(self, settings: Any) -> None:
        """New detector settings; the detector is rebuilt only if its kind changes."""
        self._last_detect_ts = None         # the next frame is detected with them
        if same_kind(self._detector, settings):
            self._detector.settings = settings
        else:
            self._detector = make_detector(settings)
            self._cropper = self._make_cropper()

    def set_classifier(self, classifier: EmotionClassifier) -> None:
        self._classifier = classifier
        self._cropper = self._make_cropper()

    def _make_cropper(self) -> FaceCropper:
        kind = kind_of(self._detector.settings)
        return FaceCropper(self._classifier.input_size, self._classifier.crop_margin,
                           scale=kind.crop_scale, align=self._align)

    def reset_tracks(self) -> None:
        """Forget faces seen so far (a new video, or photos unrelated to each other)."""
        self._tracker.reset()
        self._last_detect_ts = None

    def _detection_due(self, timestamp: float, size: tuple[int, ...]) -> bool:
        last = self._last_detect_ts
        if self._detect_rate is None or last is None or size != self._last_size:
            return True
        # Time running backwards (a looped or re-opened video) detects at once.
        return not 0.0 <= timestamp - last < 1.0 / self._detect_rate - 1e-6

    # -- per frame -------------------------------------------------------------

    def analyze(self, frame_bgr: np.ndarray, timestamp: float = 0.0) -> FrameResult:
        """Faces in a BGR (or BGRA, or grayscale) uint8 frame, with per-stage timings in ms."""
        t0 = time.perf_counter()
        images = self._images.set(frame_bgr)
        gray = images.gray          # the cropper needs it whatever the detector reads
        t1 = time.perf_counter()
        detected = self._detection_due(timestamp, gray.shape)
        if detected:
            detections = self._last_detections = self._detector.detect(images)
            self._last_detect_ts, self._last_size = timestamp, gray.shape
        else:
            detections = self._last_detections
        t2 = time.perf_counter()
        crops = self._cropper.crop(gray, detections)
        t3 = time.perf_counter()
        probs = self._classifier.predict(crops)
        t4 = time.perf_counter()
        tracked = self._tracker.update([d.box for d in detections], probs, timestamp)
        faces = [FaceResult(box=d.box, probabilities=probs[i], smoothed=t.smoothed, track_id=t.track_id,
                            score=d.score, landmarks=d.landmarks, displayed=t.displayed, confident=t.confident)
                 for i, (d, t) in enumerate(zip(detections, tracked))]
        t5 = time.perf_counter()
        timings = {key: (b - a) * 1000.0 for key, a, b in zip(
            TIMING_KEYS, (t0, t1, t2, t3, t4, t0), (t1, t2, t3, t4, t5, t5))}
        height, width = gray.shape[:2]
        return FrameResult(faces=faces, timings_ms=timings, frame_size=(width, height), timestamp=timestamp,
                           detector=self._detector.kind, detected=detected)


def settings_dict(settings: Any) -> dict:
    """Settings as JSON-ready data, with their kind (kept for callers of the old name)."""
    return settings_to_dict(settings)
