"""OpenCV's Haar cascade (Viola-Jones, 2001): fast on large frontal faces, no score, no landmarks."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kise_desktop.core.detectors.base import (DetectorError, Downscaler, FrameImages, as_frame_images,
                                              boxes_to_detections, detect_width_setting, setting)
from kise_desktop.core.detectors.registry import DetectorKind, register, width_text
from kise_desktop.core.types import Detection

HAAR_CASCADE_FILE = "haarcascade_frontalface_alt2.xml"


@dataclass(frozen=True)
class HaarSettings:
    """OpenCV Haar cascade (haarcascade_frontalface_alt2)."""
    scale_factor: float = setting(1.3, label={"en": "Scale factor", "ko": "배율"},
                                  minimum=1.01, maximum=2.0, step=0.05, decimals=2,
                                  help="step between searched face sizes: smaller finds more, slower")
    min_neighbors: int = setting(5, label={"en": "Min neighbours", "ko": "최소 이웃 수"},
                                 minimum=0, maximum=30, step=1,
                                 help="overlapping hits needed: more = fewer false faces, more misses")
    min_size: int = setting(30, label={"en": "Min face size (px)", "ko": "최소 얼굴 크기 (px)"},
                            minimum=10, maximum=500, step=5, help="smallest face side in detection pixels")
    detect_width: int | None = detect_width_setting(None)


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
        self._downscaler = Downscaler()

    def detect(self, frame: np.ndarray | FrameImages) -> list[Detection]:
        gray = as_frame_images(frame).gray
        s = self.settings
        small, factor = self._downscaler.shrink(gray, s.detect_width)
        found = self._cascade.detectMultiScale(
            small, scaleFactor=s.scale_factor, minNeighbors=s.min_neighbors,
            minSize=(s.min_size, s.min_size))
        boxes = [tuple(map(float, b)) for b in found] if len(found) else []
        return boxes_to_detections(boxes, factor, gray.shape[1], gray.shape[0])


def _describe(s: HaarSettings) -> str:
    return f"haar {s.scale_factor:g}/{s.min_neighbors} min{s.min_size} {width_text(s.detect_width)}"


register(DetectorKind(
    name="haar",
    display_name={"en": "Haar (OpenCV)", "ko": "Haar (OpenCV)"},
    settings_class=HaarSettings,
    factory=HaarDetector,
    presets={
        # What the seed project used: (1.3, 5) at full size.
        "seed": HaarSettings(scale_factor=1.3, min_neighbors=5, min_size=30, detect_width=None),
        # Live: detect at 320 px wide, 1/4 of the pixels of 640x480. A finer scale step (1.2) and one
        # neighbour fewer win back most of the recall lost to the smaller image; min_size 20 at 320 px
        # is a 40 px face at 640x480.
        "live": HaarSettings(scale_factor=1.2, min_neighbors=4, min_size=20, detect_width=320),
        # Photos: a finer search for small faces, width capped at 2048 so a 4096 px photo does not take seconds.
        "photo": HaarSettings(scale_factor=1.1, min_neighbors=5, min_size=20, detect_width=2048),
    },
    summary={"en": "2001 cascade: fast on big frontal faces, misses small and turned ones",
             "ko": "2001년 캐스케이드: 큰 정면 얼굴에 빠름, 작거나 돌린 얼굴은 놓침"},
    describe=_describe,
))
