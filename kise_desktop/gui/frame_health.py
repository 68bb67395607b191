"""Live hints next to the detector settings: frames too slow, or no face for a while.

Settings such as a Haar scale factor of 1.01 at full size or HOG upsampling 3
make a frame take over a second; min neighbours 30 finds nothing. The window
then looked stuck or empty with no hint why. `FrameHealth` follows what the
pipeline really measured (no guessing from the settings): the per-frame
pipeline time, averaged over about a second, and how long no face has been
found on a live source. `warnings()` says what to show, if anything.
"""
from __future__ import annotations

import math

SLOW_FRAME_MS = 100.0        # slower than this a frame: the view lags behind the person (about 10 fps)
NO_FACE_S = 5.0              # live seconds without a face before suggesting gentler settings
AVERAGE_S = 1.0              # time constant of the frame-time average


class FrameHealth:
    def __init__(self, slow_ms: float = SLOW_FRAME_MS, no_face_s: float = NO_FACE_S) -> None:
        self.slow_ms = slow_ms
        self.no_face_s = no_face_s
        self.reset()

    def reset(self) -> None:
        """A new source or new settings: start measuring again."""
        self.frame_ms: float | None = None
        self._last_t: float | None = None
        self._last_face_t: float | None = None
        self._first_t: float | None = None

    def add(self, timestamp: float, pipeline_ms: float, faces: int) -> None:
        """One analysed frame of a live source (camera or video): its time and its face count."""
        if self._last_t is not None and timestamp < self._last_t:    # a rewound source
            self.reset()
        dt = 0.0 if self._last_t is None else timestamp - self._last_t
        self._last_t = timestamp
        if self._first_t is None:
            self._first_t = timestamp
        if faces > 0:
            self._last_face_t = timestamp
        if self.frame_ms is None:
            self.frame_ms = float(pipeline_ms)
        else:
            # a time average, so one slow frame does not raise the warning, and fps does not matter
            a = math.exp(-max(dt, 1e-3) / AVERAGE_S)
            self.frame_ms = a * self.frame_ms + (1 - a) * float(pipeline_ms)

    @property
    def slow(self) -> bool:
        return self.frame_ms is not None and self.frame_ms > self.slow_ms

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
