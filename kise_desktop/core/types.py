"""Plain data passed between the core and its consumers (CLI, GUI, bench).

Box convention everywhere: (x, y, w, h) in integer pixels of the full frame,
x/y = top-left corner. Probabilities are float32 arrays in the model's output
order, always mapped to the eight emotions of `kise_desktop.emotions`
(a 7-class model's "disgust+contempt" goes to disgust, contempt stays 0).

Landmarks, where a detector gives them, are five (x, y) points in frame
pixels, in YuNet's order: right eye, left eye, nose tip, right mouth corner,
left mouth corner ("right" = the person's right, i.e. the left of the image).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h
LANDMARK_NAMES: tuple[str, ...] = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")


@dataclass(frozen=True)
class Detection:
    """One face found by a detector, in frame pixels."""
    box: Box
    score: float | None = None            # the detector's confidence; None where it has none (Haar, HOG)
    landmarks: np.ndarray | None = None   # (5, 2) float32, see LANDMARK_NAMES; None where it has none


@dataclass(frozen=True)
class FaceResult:
    box: Box
    probabilities: np.ndarray           # (8,) raw this frame
    smoothed: np.ndarray                # (8,) per-track smoothing over time
    track_id: int
    score: float | None = None          # detector score (Detection.score)
    landmarks: np.ndarray | None = None  # (5, 2) frame pixels (Detection.landmarks)
    displayed: int | None = None        # the label to show (with hysteresis); None = argmax of smoothed
    confident: bool = True              # False: show the label as uncertain

    @property
    def label_index(self) -> int:
        return int(np.argmax(self.smoothed)) if self.displayed is None else self.displayed

    @property
    def confidence(self) -> float:
        return float(self.smoothed[self.label_index])


@dataclass
class FrameResult:
    faces: list[FaceResult]
    timings_ms: dict[str, float] = field(default_factory=dict)  # convert, detect, crop, classify, track, total
    frame_size: tuple[int, int] = (0, 0)  # width, height
    timestamp: float = 0.0               # seconds, from the source
    detector: str = ""                   # the detector kind that found the faces ("haar", "hog", "yunet")
    detected: bool = True                # False: the boxes are the last detection's (Pipeline.detect_rate)
