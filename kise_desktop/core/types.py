"""Plain data passed between the core and its consumers (CLI, GUI, bench).

Box convention everywhere: (x, y, w, h) in integer pixels of the full frame,
x/y = top-left corner. Probabilities are float32 arrays in the model's output
order, always mapped to the eight emotions of `kise_desktop.emotions`
(a 7-class model's "disgust+contempt" goes to disgust, contempt stays 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True)
class HaarSettings:
    """OpenCV Haar cascade (haarcascade_frontalface_alt2)."""
    scale_factor: float = 1.3
    min_neighbors: int = 5
    min_size: int = 30          # smallest face side in detection pixels
    detect_width: int | None = None  # downscale frames to this width for detection; None = full size


@dataclass(frozen=True)
class HogSettings:
    """dlib HOG frontal face detector."""
    upsample: int = 1
    detect_width: int | None = None


@dataclass(frozen=True)
class FaceResult:
    box: Box
    probabilities: np.ndarray           # (8,) raw this frame
    smoothed: np.ndarray                # (8,) per-track exponential smoothing
    track_id: int

    @property
    def label_index(self) -> int:
        return int(np.argmax(self.smoothed))

    @property
    def confidence(self) -> float:
        return float(self.smoothed[self.label_index])


@dataclass
class FrameResult:
    faces: list[FaceResult]
    timings_ms: dict[str, float] = field(default_factory=dict)  # convert, detect, crop, classify, track, total
    frame_size: tuple[int, int] = (0, 0)  # width, height
    timestamp: float = 0.0               # seconds, from the source
