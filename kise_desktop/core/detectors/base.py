"""What every face detector shares: the frame it reads, the detections it returns, downscaling.

Box convention: (x, y, w, h) in integer pixels of the frame passed to
`detect`, x/y = top-left corner, always clipped to the frame. Landmarks and
scores come in `Detection` (kise_desktop.core.types).

A detector reads a `FrameImages`: the frame as given plus its grayscale
version, converted at most once per frame into a reused buffer, so that Haar
and HOG (gray) and YuNet (BGR) each take what they need and the cropper
reuses the same gray image.
"""
from __future__ import annotations

import math
from dataclasses import field
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from kise_desktop.core.types import Box, Detection


class DetectorError(Exception):
    """A detector could not be created (a model file missing or damaged); the message names the file."""


def setting(default: Any, *, label: dict[str, str], minimum: float | None = None, maximum: float | None = None,
            step: float | None = None, decimals: int = 0, choices: tuple | None = None, help: str = "") -> Any:
    """A settings field with what a form needs to show it: label (en/ko), range, step, or choices.

    `choices` lists allowed values (for `detect_width`, 0 stands for None = full size).
    """
    meta = {"label": label, "min": minimum, "max": maximum, "step": step, "decimals": decimals,
            "choices": choices, "help": help}
    return field(default=default, metadata=meta)


DETECT_WIDTHS: tuple[int, ...] = (0, 960, 640, 480, 320, 240, 160)   # 0 = full size
DETECT_WIDTH_LABEL = {"en": "Detection width", "ko": "검출 너비"}


def detect_width_setting(default: int | None) -> Any:
    return setting(default, label=DETECT_WIDTH_LABEL, choices=DETECT_WIDTHS,
                   help="downscale frames to this width for detection; None = full size")


class FrameImages:
    """One frame as BGR and as grayscale, each made at most once per frame into reused buffers."""

    def __init__(self) -> None:
        self._frame: np.ndarray | None = None
        self._gray: np.ndarray | None = None
        self._bgr: np.ndarray | None = None
        self._gray_ready = self._bgr_ready = False

    def set(self, frame: np.ndarray) -> "FrameImages":
        if frame.dtype != np.uint8:
            raise ValueError(f"wants an 8-bit image, got {frame.dtype}")
        if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
            raise ValueError(f"wants 1, 3 or 4 channels, got {frame.shape}")
        self._frame = frame[:, :, 0] if frame.ndim == 3 and frame.shape[2] == 1 else frame
        self._gray_ready = self._bgr_ready = False
        return self

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width)."""
        assert self._frame is not None
        return self._frame.shape[:2]

    @property
    def gray(self) -> np.ndarray:
        frame = self._frame
        assert frame is not None, "set() a frame first"
        if frame.ndim == 2:
            return frame
        if not self._gray_ready:
            if self._gray is None or self._gray.shape != frame.shape[:2]:
                self._gray = np.empty(frame.shape[:2], dtype=np.uint8)
            code = cv2.COLOR_BGR2GRAY if frame.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
            cv2.cvtColor(frame, code, dst=self._gray)
            self._gray_ready = True
        return self._gray

    @property
    def bgr(self) -> np.ndarray:
        frame = self._frame
        assert frame is not None, "set() a frame first"
        if frame.ndim == 3 and frame.shape[2] == 3:
            return frame
        if not self._bgr_ready:
            shape = frame.shape[:2] + (3,)
            if self._bgr is None or self._bgr.shape != shape:
                self._bgr = np.empty(shape, dtype=np.uint8)
            code = cv2.COLOR_GRAY2BGR if frame.ndim == 2 else cv2.COLOR_BGRA2BGR
            cv2.cvtColor(frame, code, dst=self._bgr)
            self._bgr_ready = True
        return self._bgr


def as_frame_images(frame: "np.ndarray | FrameImages") -> FrameImages:
    """`frame` itself if it is a FrameImages (the pipeline's), else a one-off wrapper (tests, scripts)."""
    return frame if isinstance(frame, FrameImages) else FrameImages().set(frame)


@runtime_checkable
class Detector(Protocol):
    kind: str
    settings: Any          # the frozen settings dataclass registered for `kind`

    def detect(self, frame: "np.ndarray | FrameImages") -> list[Detection]:
        """Faces in a frame (gray, BGR or BGRA uint8, or the pipeline's FrameImages), in frame pixels."""
        ...


class Downscaler:
    """Resizes frames (gray or colour) to a detection width into a reused buffer."""

    def __init__(self) -> None:
        self._buffer: np.ndarray | None = None

    def shrink(self, image: np.ndarray, detect_width: int | None, enlarge: bool = False) -> tuple[np.ndarray, float]:
        """The image to detect on and the factor that maps its coordinates back to `image`.

        Frames narrower than `detect_width` stay as they are unless `enlarge`: for Haar and HOG
        enlarging only costs time; YuNet's photo preset enlarges small photos so that their
        small faces reach the sizes it was trained on.
        """
        height, width = image.shape[:2]
        if not detect_width or detect_width == width or (detect_width > width and not enlarge):
            return image, 1.0
        new_h = max(1, round(height * detect_width / width))
        shape = (new_h, detect_width) + image.shape[2:]
        if self._buffer is None or self._buffer.shape != shape:
            self._buffer = np.empty(shape, dtype=np.uint8)
        # INTER_AREA averages pixels: no aliasing that would confuse the detectors.
        interp = cv2.INTER_AREA if detect_width < width else cv2.INTER_LINEAR
        cv2.resize(image, (detect_width, new_h), dst=self._buffer, interpolation=interp)
        return self._buffer, width / detect_width


def clip_box(x: float, y: float, w: float, h: float, factor: float, frame_w: int, frame_h: int) -> Box | None:
    """A detection-space box scaled back to frame pixels and clipped; None if nothing is left (or it is not finite)."""
    if not all(math.isfinite(v) for v in (x, y, w, h, factor)):
        return None
    x0 = max(0, int(round(x * factor)))
    y0 = max(0, int(round(y * factor)))
    x1 = min(frame_w, int(round((x + w) * factor)))
    y1 = min(frame_h, int(round((y + h) * factor)))
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def boxes_to_detections(boxes: list[tuple[float, float, float, float]], factor: float,
                        frame_w: int, frame_h: int) -> list[Detection]:
    """Score-less detections (Haar, HOG) from detection-space boxes, left to right."""
    out = [Detection(box) for box in (clip_box(*b, factor, frame_w, frame_h) for b in boxes) if box]
    # Left to right: a stable order (OpenCV's threads may return faces in any order).
    out.sort(key=lambda d: d.box)
    return out
