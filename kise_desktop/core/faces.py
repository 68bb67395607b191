"""Face crops for the classifier: square, with a margin, clipped, resized.

A detector's box is rarely square and often tight; the model was trained on
square crops, so the crop is a square of side max(w, h) * (1 + 2 * margin)
centred on the box. Where that square leaves the frame it is clipped (and so
may end up not quite square) rather than padded: padding with black would be a
pattern the model never saw.
"""
from __future__ import annotations

import cv2
import numpy as np

from kise_desktop.core.types import Box


def crop_box(box: Box, margin: float, frame_w: int, frame_h: int) -> Box:
    """The square crop region around `box`, clipped to the frame."""
    x, y, w, h = box
    side = max(w, h) * (1.0 + 2.0 * margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    x0 = max(0, int(round(cx - side / 2.0)))
    y0 = max(0, int(round(cy - side / 2.0)))
    x1 = min(frame_w, int(round(cx + side / 2.0)))
    y1 = min(frame_h, int(round(cy + side / 2.0)))
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


class FaceCropper:
    """Crops faces of a grayscale frame into one reused (N, H, W) uint8 buffer."""

    def __init__(self, size: tuple[int, int], margin: float = 0.0, capacity: int = 8) -> None:
        self.size = size            # (width, height) of each crop
        self.margin = margin
        self._buffer = np.empty((capacity, size[1], size[0]), dtype=np.uint8)

    def crop(self, gray: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """Crops for `boxes` as a view into the buffer, valid until the next call."""
        n = len(boxes)
        if n > self._buffer.shape[0]:
            # Grow to twice the need so that a crowd does not reallocate every frame.
            self._buffer = np.empty((2 * n, self.size[1], self.size[0]), dtype=np.uint8)
        frame_h, frame_w = gray.shape[:2]
        for i, box in enumerate(boxes):
            x, y, w, h = crop_box(box, self.margin, frame_w, frame_h)
            if w == 0 or h == 0:
                self._buffer[i] = 0  # a box wholly outside the frame: nothing to see
                continue
            region = gray[y:y + h, x:x + w]
            # INTER_AREA when shrinking (most faces are larger than 48 px), linear when enlarging.
            interp = cv2.INTER_AREA if w > self.size[0] else cv2.INTER_LINEAR
            cv2.resize(region, self.size, dst=self._buffer[i], interpolation=interp)
        return self._buffer[:n]
