"""Live hints next to the detector settings: frames too slow, or no face for a while.

Settings such as a Haar scale factor of 1.01 at full size or HOG upsampling 3
make a frame take over a second; min neighbours 30 finds nothing. The window
then looked stuck or empty with no hint why. `FrameHealth` follows what the
pipeline really measured (no guessing from the settings): the per-frame
pipeline time (median of the last few frames), and how long no face has been
found on a live source. `warnings()` says what to show, if anything.
"""
from __future__ import annotations

from collections import deque
from statistics import median

SLOW_FRAME_MS = 100.0        # slower than this a frame: the view lags behind the person (about 10 fps)
NO_FACE_S = 5.0              # live seconds without a face before suggesting gentler settings
RECENT_FRAMES = 5            # the frame time is the median of these many: one hiccup does not warn


class FrameHealth:
    def __init__(self, slow_ms: float = SLOW_FRAME_MS, no_face_s: float = NO_FACE_S) -> None:
        self.slow_ms = slow_ms
        self.no_face_s = no_face_s
        self.reset()

    def reset(self) -> None:
        """A new source or new settings: start measuring again."""
        self._recent: deque[float] = deque(maxlen=RECENT_FRAMES)
        self._last_t: float | None = None
        self._last_face_t: float | None = None
        self._first_t: float | None = None

    def add(self, timestamp: float, pipeline_ms: float, faces: int) -> None:
        """One analysed frame of a live source (camera or video): its time and its face count."""
        if self._last_t is not None and timestamp < self._last_t:    # a rewound source
            self.reset()
        self._last_t = timestamp
        if self._first_t is None:
            self._first_t = timestamp
        if faces > 0:
            self._last_face_t = timestamp
        self._recent.append(float(pipeline_ms))

    @property
    def frame_ms(self) -> float | None:
        return median(self._recent) if self._recent else None

    @property
    def slow(self) -> bool:
        ms = self.frame_ms
        return ms is not None and len(self._recent) >= min(3, RECENT_FRAMES) and ms > self.slow_ms

    @property
    def seconds_without_face(self) -> float:
        if self._last_t is None:
            return 0.0
        since = self._last_face_t if self._last_face_t is not None else self._first_t
        return self._last_t - since

    @property
    def no_face(self) -> bool:
        return self.seconds_without_face >= self.no_face_s

    def warnings(self) -> list[tuple[str, dict]]:
        """(i18n key, format values) of each hint to show now."""
        out: list[tuple[str, dict]] = []
        if self.slow:
            out.append(("warn_slow", {"ms": self.frame_ms, "limit": self.slow_ms}))
        if self.no_face:
            out.append(("warn_no_face", {"s": self.seconds_without_face}))
        return out
