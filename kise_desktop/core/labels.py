"""Steady labels: smoothing in time, a displayed label with hysteresis, a confidence flag.

The classifier's per-frame probabilities jump with every mouth movement and
every compression artefact. What a viewer should read is steadier:

1. *Smoothing in time.* Each track's probabilities are an exponential average
   with a time constant `tau_s` in seconds: a frame `dt` seconds after the
   previous one weighs the past by `alpha = exp(-dt / tau_s)`. The same
   expression change therefore takes the same time to come through at 10 fps
   and at 60 fps (a fixed per-frame weight smooths less the faster the camera).
2. *Hysteresis.* The displayed label stays until another emotion leads the
   smoothed probabilities by at least `margin` for at least `hold_s` seconds
   without a break; only then does the display switch to it.
3. *Confidence.* When the smoothed probability of the displayed emotion is
   below `min_confidence`, the face is flagged as not confident (the GUI and
   the overlays show it muted, with a "?"), rather than as a confident word.

`LabelSettings.per_frame(0.6)` reproduces KISE's first smoothing (a per-frame
weight, no hysteresis) for comparisons; `LabelSettings.none()` is for photos.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Frames whose timestamp does not move forward (a caller passing none, a photo
# analysed twice) are taken as this far apart, so smoothing still progresses.
FALLBACK_FRAME_S = 1.0 / 30.0


@dataclass(frozen=True)
class LabelSettings:
    """How probabilities are smoothed and when the displayed label may change.

    The defaults were tuned with scripts/label_stability.py on the four real
    clips (see the README): at most 0.5 label changes per second outside the
    marked expression onsets, and the new label within 0.5 s of an onset.
    """
    tau_s: float = 0.2             # smoothing time constant, seconds (0 = none)
    margin: float = 0.2            # lead over the displayed emotion needed to switch
    hold_s: float = 0.1            # how long that lead must last, seconds
    min_confidence: float = 0.4    # below: flagged as not confident
    frame_weight: float | None = None  # legacy: a fixed weight of the past per frame (overrides tau_s)

    def __post_init__(self) -> None:
        if self.tau_s < 0 or not math.isfinite(self.tau_s):
            raise ValueError(f"tau_s must be >= 0 seconds, got {self.tau_s}")
        if not 0.0 <= self.margin < 1.0:
            raise ValueError(f"margin must be in [0, 1), got {self.margin}")
        if self.hold_s < 0 or not math.isfinite(self.hold_s):
            raise ValueError(f"hold_s must be >= 0 seconds, got {self.hold_s}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence}")
        if self.frame_weight is not None and not 0.0 <= self.frame_weight < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {self.frame_weight}")

    @classmethod
    def per_frame(cls, weight: float, min_confidence: float | None = None) -> "LabelSettings":
        """KISE's first smoothing: `weight` of the past per frame, the label = the argmax."""
        return cls(tau_s=0.0, margin=0.0, hold_s=0.0, frame_weight=weight,
                   min_confidence=cls.min_confidence if min_confidence is None else min_confidence)

    @classmethod
    def none(cls, min_confidence: float | None = None) -> "LabelSettings":
        """No smoothing, no hysteresis (photos): each frame shows its own argmax."""
        return cls.per_frame(0.0, min_confidence)

    @property
    def is_instant(self) -> bool:
        """True when the label is simply this frame's argmax (no smoothing, no hysteresis)."""
        smooth = self.frame_weight if self.frame_weight is not None else self.tau_s
        return smooth == 0.0 and self.margin == 0.0 and self.hold_s == 0.0

    @property
    def switch_time_s(self) -> float:
        """Seconds until the label follows a clean change from one sure emotion to another.

        From a one-hot [1, 0] to [0, 1] the new emotion's lead over the old is
        1 - 2 exp(-t / tau); it reaches `margin` after tau ln(2 / (1 - margin)),
        and must then last `hold_s`. Frames round it up to the next frame.
        The legacy per-frame weight has no time constant: nan.
        """
        if self.frame_weight is not None:
            return 0.0 if self.frame_weight == 0.0 and self.hold_s == 0.0 else math.nan
        return self.tau_s * math.log(2.0 / (1.0 - self.margin)) + self.hold_s

    def describe(self) -> str:
        if self.frame_weight is not None:
            return f"per-frame weight {self.frame_weight:g}, no hysteresis"
        return (f"tau {self.tau_s:g} s, switch after a {self.margin:g} lead for {self.hold_s:g} s, "
                f"confident from {self.min_confidence:g}")


LIVE_LABELS = LabelSettings()
PHOTO_LABELS = LabelSettings.none()
# What KISE did before time-based smoothing (kept to measure against).
LEGACY_LABELS = LabelSettings.per_frame(0.6)


class LabelState:
    """One track's smoothed probabilities and displayed label, updated frame by frame."""

    __slots__ = ("smoothed", "displayed", "confident", "_time", "_clock", "_candidate", "_candidate_since")

    def __init__(self, probabilities: np.ndarray, timestamp: float, settings: LabelSettings) -> None:
        self.smoothed = np.array(probabilities, dtype=np.float32, copy=True)
        self.displayed = int(np.argmax(self.smoothed))
        self._time = float(timestamp)
        self._clock = 0.0                 # seconds this track has run (fallback steps included)
        self._candidate: int | None = None
        self._candidate_since = 0.0
        self.confident = bool(self.smoothed[self.displayed] >= settings.min_confidence)

    def update(self, probabilities: np.ndarray, timestamp: float, settings: LabelSettings) -> None:
        probs = np.asarray(probabilities, dtype=np.float32)
        dt = float(timestamp) - self._time
        if not dt > 0.0:
            dt = FALLBACK_FRAME_S
        self._time = float(timestamp)
        self._clock += dt

        if settings.frame_weight is not None:
            alpha = settings.frame_weight
        elif settings.tau_s > 0.0:
            alpha = math.exp(-dt / settings.tau_s)
        else:
            alpha = 0.0
        # in place: no per-frame allocation beyond numpy's temporaries
        self.smoothed *= np.float32(alpha)
        self.smoothed += np.float32(1.0 - alpha) * probs

        leader = int(np.argmax(self.smoothed))
        if leader == self.displayed:
            self._candidate = None
        elif self.smoothed[leader] - self.smoothed[self.displayed] >= settings.margin:
            if self._candidate != leader:
                self._candidate, self._candidate_since = leader, self._clock
            if self._clock - self._candidate_since >= settings.hold_s - 1e-9:
                self.displayed, self._candidate = leader, None
        else:
            self._candidate = None        # the lead broke: the hold starts again
        self.confident = bool(self.smoothed[self.displayed] >= settings.min_confidence)
