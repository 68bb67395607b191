"""dlib's HOG + linear SVM detector (2005 features): frontal faces from ~80 px, no score, no landmarks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kise_desktop.core.detectors.base import (Downscaler, FrameImages, as_frame_images, boxes_to_detections,
                                              detect_width_setting, setting)
from kise_desktop.core.detectors.registry import DetectorKind, register, width_text
from kise_desktop.core.types import Detection


@dataclass(frozen=True)
class HogSettings:
    """dlib HOG frontal face detector."""
    upsample: int = setting(1, label={"en": "Upsampling", "ko": "업샘플링"}, minimum=0, maximum=3, step=1,
                            help="each doubles the image: finds faces half the size, ~4x the time")
    detect_width: int | None = detect_width_setting(None)


class HogDetector:
    """dlib's HOG + linear SVM frontal face detector.

    Its window is about 80x80 pixels: each `upsample` doubles the image so
    faces down to ~40 (then ~20) pixels are found, at ~4x the cost each time.
    """

    kind = "hog"

    def __init__(self, settings: HogSettings = HogSettings()) -> None:
        import dlib  # imported here so that users of the other detectors never pay for it

        self._detector = dlib.get_frontal_face_detector()
        self.settings = settings
        self._downscaler = Downscaler()

    def detect(self, frame: np.ndarray | FrameImages) -> list[Detection]:
        gray = as_frame_images(frame).gray
        s = self.settings
        small, factor = self._downscaler.shrink(gray, s.detect_width)
        # dlib wants a contiguous array; the downscale buffer and cv2 outputs are.
        rects = self._detector(np.ascontiguousarray(small), int(s.upsample))
        boxes = [(float(r.left()), float(r.top()), float(r.width()), float(r.height())) for r in rects]
        return boxes_to_detections(boxes, factor, gray.shape[1], gray.shape[0])


def _describe(s: HogSettings) -> str:
    return f"hog up{s.upsample} {width_text(s.detect_width)}"


register(DetectorKind(
    name="hog",
    display_name={"en": "HOG (dlib)", "ko": "HOG (dlib)"},
    settings_class=HogSettings,
    factory=HogDetector,
    # dlib does the work on its own; OpenCV only converts and resizes, jobs too small for its pool.
    opencv_threads=1,
    presets={
        "seed": HogSettings(upsample=1, detect_width=None),
        # HOG's ~80 px window without upsampling at up to 640 px wide: 1280x720 costs the same as 640x480.
        # Faces below ~80 px at 640x480 are missed (far from the camera).
        "live": HogSettings(upsample=0, detect_width=640),
        "photo": HogSettings(upsample=1, detect_width=2048),
    },
    summary={"en": "2005 HOG + SVM: steady on frontal faces from ~80 px, slow when upsampled",
             "ko": "2005년 HOG + SVM: 80 px 이상 정면 얼굴에 안정적, 업샘플링하면 느림"},
    describe=_describe,
))
