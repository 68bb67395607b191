"""A fake camera built from real photos, and box helpers, for the GUI tests."""
from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from kise_desktop.core.sources import Frame, SourceError, load_image, open_source
from kise_desktop.core.tracking import iou  # noqa: F401  (re-exported for the GUI tests)

CANVAS = (640, 480)
# The photo with the largest annotated faces (3 faces, 90-109 px): found by both live presets.
GROUP_PHOTO = "2008_002506.jpg"


class FakeCamera:
    """A FrameSource-like camera that plays real photos on a 640x480 canvas.

    `fail_after` frames, it raises SourceError as CameraSource does when a
    camera is unplugged. Thread-safe enough for the worker's grabber thread.
    """

    kind = "camera"

    def __init__(self, photos: list[Path], fps: float = 20.0, fail_after: int | None = None,
                 index: int = 0) -> None:
        self.frames = [place_on_canvas(load_image(p))[0] for p in photos]
        self.fps = fps
        self.fail_after = fail_after
        self.index = index
        self.delivered = 0
        self.closed = threading.Event()
        self._start = time.monotonic()

    def __iter__(self):
        return self

    def __next__(self) -> Frame:
        if self.closed.is_set():
            raise SourceError(f"camera {self.index}: closed")
        time.sleep(1.0 / self.fps)
        if self.fail_after is not None and self.delivered >= self.fail_after:
            raise SourceError.because(f"camera {self.index}", "camera_stopped", camera=self.index)
        image = self.frames[self.delivered % len(self.frames)].copy()
        self.delivered += 1
        return Frame(image, time.monotonic() - self._start, f"camera {self.index}")

    def close(self) -> None:
        self.closed.set()


def place_on_canvas(image: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The photo centred on a black 640x480 canvas (no scaling), and its (dx, dy) offset."""
    w, h = CANVAS
    canvas = np.zeros((h, w, 3), np.uint8)
    ih, iw = image.shape[:2]
    ih, iw = min(ih, h), min(iw, w)
    dx, dy = (w - iw) // 2, (h - ih) // 2
    canvas[dy:dy + ih, dx:dx + iw] = image[:ih, :iw]
    return canvas, (dx, dy)


def annotated_boxes(dlib_faces_dir: Path, name: str) -> list[tuple[int, int, int, int]]:
    boxes = []
    for xml in ("testing.xml", "training.xml"):
        root = ET.parse(dlib_faces_dir / xml).getroot()
        for image in root.iter("image"):
            if image.get("file") == name:
                for b in image.iter("box"):
                    boxes.append((int(b.get("left")), int(b.get("top")), int(b.get("width")), int(b.get("height"))))
    return boxes


class CameraFactory:
    """A source factory for the window: ints open a FakeCamera, paths go to the real core."""

    def __init__(self, photos: list[Path], loop: bool = False, **camera_kwargs) -> None:
        self.photos = photos
        self.loop = loop                # videos play forever, as the app's --loop does
        self.camera_kwargs = camera_kwargs
        self.cameras: list[FakeCamera] = []
        self.calls: list[object] = []

    def __call__(self, spec):
        self.calls.append(spec)
        if isinstance(spec, int):
            cam = FakeCamera(self.photos, index=spec, **self.camera_kwargs)
            self.cameras.append(cam)
            return cam
        return open_source(spec, loop=self.loop)


from toy_detector import CENTRE_KIND, CentreDetector, CentreSettings  # noqa: E402,F401  (shared with tests/core)
