"""Faces matched across frames by box overlap, with smoothed probabilities.

Each face keeps an id while its box overlaps the previous frame's box of the
same track by at least `iou_threshold`. Its probabilities are smoothed with an
exponential moving average, so a label does not flicker between two emotions
that the model rates almost equally from one frame to the next.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    smoothed: np.ndarray   # (8,) float32
    missed: int = 0        # consecutive frames without a match


class IoUTracker:
    """Greedy IoU matching with stable ids and per-track exponential smoothing.

    `smoothing` is the weight of the past: 0 shows each frame's probabilities
    as they are; 0.6 lets a new expression take over within ~3 frames.
    A track survives `max_missed` frames without a match (a blink of the
    detector) before its id is retired; ids are never reused.
    """

    def __init__(self, smoothing: float = 0.6, iou_threshold: float = 0.3, max_missed: int = 5) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        self.smoothing = smoothing
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self._tracks: list[Track] = []
        self._next_id = 1

    def reset(self) -> None:
        """Forget all tracks (a new video or an unrelated photo); ids keep counting up."""
        self._tracks.clear()

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def update(self, boxes: list[Box], probabilities: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(track id, smoothed probabilities) for each box, in the order given."""
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

        out: list[tuple[int, np.ndarray]] = []
        alpha = self.smoothing
        for bi, box in enumerate(boxes):
            probs = np.asarray(probabilities[bi], dtype=np.float32)
            ti = track_of_box.get(bi)
            if ti is None:
                track = Track(self._next_id, box, probs.copy())
                self._next_id += 1
                self._tracks.append(track)
                used_tracks.add(len(self._tracks) - 1)
            else:
                track = self._tracks[ti]
                track.box = box
                track.missed = 0
                track.smoothed = (alpha * track.smoothed + (1.0 - alpha) * probs).astype(np.float32)
            out.append((track.track_id, track.smoothed.copy()))

        for ti, track in enumerate(self._tracks):
            if ti not in used_tracks:
                track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        return out
