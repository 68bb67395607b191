"""Face crops for the classifier: square, with a margin, optionally levelled, resized.

A detector's box is rarely square and often tight; the model was trained on
square crops, so the crop is a square of side max(w, h) * scale * (1 + 2 * margin)
centred on the box (`scale` evens out how much of the head each detector's
boxes cover, see DetectorKind.crop_scale). Where that square leaves the frame
it is clipped (and so may end up not quite square) rather than padded:
padding with black would be a pattern the model never saw.

Where a detector gives landmarks and alignment is on, the same square is
rotated about the box centre so that the eye line is level, in one affine
warp into the crop buffer; what falls outside the frame repeats the edge pixels.
"""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

from kise_desktop.core.types import Box, Detection


def crop_box(box: Box, margin: float, frame_w: int, frame_h: int, scale: float = 1.0) -> Box:
    """The square crop region around `box`, clipped to the frame."""
    x, y, w, h = box
    side = max(w, h) * scale * (1.0 + 2.0 * margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    x0 = max(0, int(round(cx - side / 2.0)))
    y0 = max(0, int(round(cy - side / 2.0)))
    x1 = min(frame_w, int(round(cx + side / 2.0)))
    y1 = min(frame_h, int(round(cy + side / 2.0)))
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def eye_angle_deg(landmarks: np.ndarray) -> float:
    """Angle of the line from the right eye (image left) to the left eye, in degrees, clockwise positive
    in image coordinates (y down): 0 for a level face."""
    (rx, ry), (lx, ly) = landmarks[0], landmarks[1]
    return math.degrees(math.atan2(ly - ry, lx - rx))


class FaceCropper:
    """Crops faces of a grayscale frame into one reused (N, H, W) uint8 buffer."""

    def __init__(self, size: tuple[int, int], margin: float = 0.0, capacity: int = 8,
                 scale: float = 1.0, align: bool = False) -> None:
        self.size = size            # (width, height) of each crop
        self.margin = margin
        self.scale = scale          # crop side multiplier for the detector kind
        self.align = align          # level the eye line where landmarks exist
        self._buffer = np.empty((capacity, size[1], size[0]), dtype=np.uint8)
        self._matrix = np.empty((2, 3), dtype=np.float64)

    def crop(self, gray: np.ndarray, faces: Sequence[Detection | Box]) -> np.ndarray:
        """Crops for `faces` (detections or plain boxes) as a view into the buffer, valid until the next call."""
        n = len(faces)
        if n > self._buffer.shape[0]:
            # Grow to twice the need so that a crowd does not reallocate every frame.
            self._buffer = np.empty((2 * n, self.size[1], self.size[0]), dtype=np.uint8)
        frame_h, frame_w = gray.shape[:2]
        for i, face in enumerate(faces):
            box, landmarks = (face.box, face.landmarks) if isinstance(face, Detection) else (face, None)
            if self.align and landmarks is not None:
                self._warp_levelled(gray, box, landmarks, self._buffer[i])
                continue
            x, y, w, h = crop_box(box, self.margin, frame_w, frame_h, self.scale)
            if w == 0 or h == 0:
                self._buffer[i] = 0  # a box wholly outside the frame: nothing to see
                continue
            region = gray[y:y + h, x:x + w]
            # INTER_AREA when shrinking (most faces are larger than 48 px), linear when enlarging.
            interp = cv2.INTER_AREA if w > self.size[0] else cv2.INTER_LINEAR
            cv2.resize(region, self.size, dst=self._buffer[i], interpolation=interp)
        return self._buffer[:n]

    def _warp_levelled(self, gray: np.ndarray, box: Box, landmarks: np.ndarray, out: np.ndarray) -> None:
        x, y, w, h = box
        side = max(w, h) * self.scale * (1.0 + 2.0 * self.margin)
        cx, cy = x + w / 2.0, y + h / 2.0
        out_w, out_h = self.size
        zoom = out_w / max(side, 1.0)
        # Rotate by the eye angle about the box centre and zoom to the crop size, in one matrix:
        # the crop's centre maps to the output's centre.
        theta = math.radians(eye_angle_deg(landmarks))
        cos, sin = math.cos(theta) * zoom, math.sin(theta) * zoom
        m = self._matrix
        m[0, 0], m[0, 1], m[1, 0], m[1, 1] = cos, sin, -sin, cos
        m[0, 2] = out_w / 2.0 - (cos * cx + sin * cy)
        m[1, 2] = out_h / 2.0 - (-sin * cx + cos * cy)
        # warpAffine samples bilinearly; for big faces (zoom < 1/2) that aliases, so shrink the
        # neighbourhood with INTER_AREA first, as the unaligned path does.
        if zoom < 0.5:
            half = side * 0.75           # >= side * sqrt(2) / 2: the rotated square's reach
            x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
            x1, y1 = min(gray.shape[1], int(math.ceil(cx + half))), min(gray.shape[0], int(math.ceil(cy + half)))
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                pre = 2.0 * zoom          # shrink to twice the final resolution (at least a pixel a side)
                size = (max(1, round((x1 - x0) * pre)), max(1, round((y1 - y0) * pre)))
                small = cv2.resize(gray[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
                sx, sy = small.shape[1] / (x1 - x0), small.shape[0] / (y1 - y0)
                # Frame -> small: p_small = (p - origin) * s; fold the inverse into the matrix.
                m[0, 2] += cos * x0 + sin * y0
                m[1, 2] += -sin * x0 + cos * y0
                m[0, 0], m[1, 0] = m[0, 0] / sx, m[1, 0] / sx
                m[0, 1], m[1, 1] = m[0, 1] / sy, m[1, 1] / sy
                cv2.warpAffine(small, m, (out_w, out_h), dst=out, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
                return
        cv2.warpAffine(gray, m, (out_w, out_h), dst=out, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
