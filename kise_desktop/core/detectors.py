"""Face detectors behind one interface: OpenCV Haar and dlib HOG.

Box convention: (x, y, w, h) in integer pixels of the frame passed to
`detect`, x/y = top-left corner, always clipped to the frame.

Both detectors can detect on a downscaled copy of the frame
(`detect_width`) and map the boxes back: detection cost grows with the pixel
count, so halving the width makes detection roughly four times cheaper, at the
price of missing faces that become smaller than the detector's window.

The expensive objects (the cascade file, dlib's HOG model) are loaded once in
the constructor; `settings` is plain data and may be replaced between frames.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from kise_desktop.core.types import Box, HaarSettings, HogSettings

HAAR_CASCADE_FILE = "haarcascade_frontalface_alt2.xml"


class DetectorError(Exception):
    """A detector could not be created (e.g. the cascade file is missing)."""


@runtime_checkable
class Detector(Protocol):
    settings: HaarSettings | HogSettings

    def detect(self, gray: np.ndarray) -> list[Box]:
        """Faces in an 8-bit grayscale frame, as (x, y, w, h) in frame pixels."""
        ...


class _Downscaler:
    """Resizes frames to a detection width into a reused buffer."""

    def __init__(self) -> None:
        self._buffer: np.ndarray | None = None

    def shrink(self, gray: np.ndarray, detect_width: int | None) -> tuple[np.ndarray, float]:
        """The image to detect on and the factor that maps its boxes back to `gray`."""
        height, width = gray.shape[:2]
        if not detect_width or detect_width >= width:
            return gray, 1.0  # never upscale: that only costs time
        new_h = max(1, round(height * detect_width / width))
        if self._buffer is None or self._buffer.shape != (new_h, detect_width):
            self._buffer = np.empty((new_h, detect_width), dtype=np.uint8)
        # INTER_AREA averages pixels: no aliasing that would confuse the detectors.
        cv2.resize(gray, (detect_width, new_h), dst=self._buffer, interpolation=cv2.INTER_AREA)
        return self._buffer, width / detect_width


def _scale_and_clip(boxes: list[tuple[float, float, float, float]], factor: float,
                    frame_w: int, frame_h: int) -> list[Box]:
    out: list[Box] = []
    for x, y, w, h in boxes:
        x0 = max(0, int(round(x * factor)))
        y0 = max(0, int(round(y * factor)))
        x1 = min(frame_w, int(round((x + w) * factor)))
        y1 = min(frame_h, int(round((y + h) * factor)))
        if x1 > x0 and y1 > y0:
            out.append((x0, y0, x1 - x0, y1 - y0))
    # Left to right: a stable order (OpenCV's threads may return faces in any order).
    out.sort()
    return out


def _check_gray(gray: np.ndarray) -> None:
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"detect() wants an 8-bit grayscale image, got {gray.dtype} {gray.shape}")


class HaarDetector:
    """OpenCV Haar cascade (haarcascade_frontalface_alt2).

    Fast on large faces; `scale_factor` trades speed for how finely face sizes
    are searched, `min_neighbors` trades recall for precision, and `min_size`
    (in detection pixels) skips the many small windows that cost most.
    """

    kind = "haar"

    def __init__(self, settings: HaarSettings = HaarSettings(), cascade_path: str | Path | None = None) -> None:
        path = Path(cascade_path) if cascade_path else Path(cv2.data.haarcascades) / HAAR_CASCADE_FILE
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise DetectorError(f"{path}: cannot load the Haar cascade")
        self.settings = settings
        self._downscaler = _Downscaler()

    def detect(self, gray: np.ndarray) -> list[Box]:
        _check_gray(gray)
        s = self.settings
        small, factor = self._downscaler.shrink(gray, s.detect_width)
        found = self._cascade.detectMultiScale(
            small, scaleFactor=s.scale_factor, minNeighbors=s.min_neighbors,
            minSize=(s.min_size, s.min_size))
        boxes = [tuple(map(float, b)) for b in found] if len(found) else []
        return _scale_and_clip(boxes, factor, gray.shape[1], gray.shape[0])


class HogDetector:
    """dlib's HOG + linear SVM frontal face detector.

    Its window is about 80x80 pixels: each `upsample` doubles the image so
    faces down to ~40 (then ~20) pixels are found, at ~4x the cost each time.
    """

    kind = "hog"

    def __init__(self, settings: HogSettings = HogSettings()) -> None:
        import dlib  # imported here so that Haar-only users never pay for it

        self._detector = dlib.get_frontal_face_detector()
        self.settings = settings
        self._downscaler = _Downscaler()

    def detect(self, gray: np.ndarray) -> list[Box]:
        _check_gray(gray)
        s = self.settings
        small, factor = self._downscaler.shrink(gray, s.detect_width)
        # dlib wants a contiguous array; the downscale buffer and cv2 outputs are.
        rects = self._detector(np.ascontiguousarray(small), int(s.upsample))
        boxes = [(float(r.left()), float(r.top()), float(r.width()), float(r.height())) for r in rects]
        return _scale_and_clip(boxes, factor, gray.shape[1], gray.shape[0])


def make_detector(settings: HaarSettings | HogSettings) -> HaarDetector | HogDetector:
    """The detector that these settings describe."""
    if isinstance(settings, HaarSettings):
        return HaarDetector(settings)
    if isinstance(settings, HogSettings):
        return HogDetector(settings)
    raise TypeError(f"unknown detector settings: {settings!r}")


def same_kind(detector: Detector, settings: HaarSettings | HogSettings) -> bool:
    """Whether `detector` can take `settings` without being rebuilt."""
    return type(detector.settings) is type(settings)
