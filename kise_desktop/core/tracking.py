"""Faces matched across frames by box overlap, with steady labels.

Each face keeps an id while its box overlaps the previous frame's box of the
same track by at least `iou_threshold`. Its probabilities are smoothed in time
and its displayed label changes with hysteresis (`kise_desktop.core.labels`),
so a label does not flicker between two emotions that the model rates almost
equally from one frame to the next.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from kise_desktop.core.labels import LIVE_LABELS, LabelSettings, LabelState
from kise_desktop.core.types import Box


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Track:
    track_id: int
    box: Box
    labels: LabelState     # smoothed probabilities, displayed label, confidence flag
    missed: int = 0        # consecutive frames without a match

    @property
    def smoothed(self) -> np.ndarray:
        return self.labels.smoothed


class Tracked(NamedTuple):
    """What the tracker says about one box of this frame."""
    track_id: int
    smoothed: np.ndarray   # (8,) float32, a copy
    displayed: int         # the label to show (hysteresis applied)
    confident: bool        # False: show the label as uncertain


def as_label_settings(smoothing: LabelSettings | float) -> LabelSettings:
    """Label settings; a bare number is the old per-frame weight of the past (0 = none)."""
    if isinstance(smoothing, LabelSettings):
        return smoothing
    return LabelSettings.per_frame(float(smoothing))


class IoUTracker:
    """Greedy IoU matching with stable ids and, per track, steady labels.

    `smoothing`: a `LabelSettings` (time constant, hysteresis, confidence
    threshold), or a number for the old fixed per-frame weight of the past.
    A track survives `max_missed` frames without a match (a blink of the
    detector) before its id is retired; ids are never reused.
    """

    def __init__(self, smoothing: LabelSettings | float = LIVE_LABELS, iou_threshold: float = 0.3,
                 max_missed: int = 5) -> None:
        self.smoothing = as_label_settings(smoothing)
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self._tracks: list[Track] = []
        self._next_id = 1

    @property
    def smoothing(self) -> LabelSettings:
        return self._settings

    @smoothing.setter
    def smoothing(self, value: LabelSettings | float) -> None:
        """New settings apply from the next frame on; tracks keep their state."""
        self._settings = as_label_settings(value)

    def reset(self) -> None:
        """Forget all tracks (a new video or an unrelated photo); ids keep counting up."""
        self._tracks.clear()

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def update(self, boxes: list[Box], probabilities: np.ndarray, timestamp: float = 0.0) -> list[Tracked]:
        """Track id, smoothed probabilities and displayed label for each box, in the order given.

        `timestamp` is the frame's time in seconds (the smoothing works in time);
        frames whose time does not move forward count as 1/30 s apart.
        """
        pairs = sorted(
            ((iou(t.box, b), ti, bi) for ti, t in enumerate(self._tracks) for bi, b in enumerate(boxes)),
            reverse=True)
        track_of_box: dict[int, int] = {}
        used_tracks: set[int] = set()
        for overlap, ti, bi in pairs:
            if overlap < self.iou_threshold:
                break
            if ti in used_tracks or bi in track_of_box:
                continue
            used_tracks.add(ti)
            track_of_box[bi] = ti

        out: list[Tracked] = []
        settings = self.smoothing
        for bi, box in enumerate(boxes):
            probs = np.asarray(probabilities[bi], dtype=np.float32)
            ti = track_of_box.get(bi)
            if ti is None:
                track = Track(self._next_id, box, LabelState(probs, timestamp, settings))
                self._next_id += 1
                self._tracks.append(track)
                used_tracks.add(len(self._tracks) - 1)
            else:
                track = self._tracks[ti]
                track.box = box
                track.missed = 0
                track.labels.update(probs, timestamp, settings)
            state = track.labels
            out.append(Tracked(track.track_id, state.smoothed.copy(), state.displayed, state.confident))

        for ti, track in enumerate(self._tracks):
            if ti not in used_tracks:
                track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        return out
