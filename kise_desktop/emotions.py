"""The eight emotions KISE knows, in the one order every model output uses.

This module is the single place where emotion names (English and Korean),
their overlay/plot colours and the seed project's 7-class order live. The app,
the CLI, the training scripts and the tests all import from here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Emotion:
    key: str          # stable English identifier used in files (JSON, CSV)
    en: str           # English display name
    ko: str           # Korean display name
    color_bgr: tuple[int, int, int]  # overlay/plot colour, OpenCV channel order

    @property
    def color_rgb(self) -> tuple[int, int, int]:
        b, g, r = self.color_bgr
        return (r, g, b)

    def name(self, lang: str = "en") -> str:
        return self.ko if lang == "ko" else self.en


# FER+ vote-column order (neutral .. contempt); the bundled model's output order.
EMOTIONS: tuple[Emotion, ...] = (
    Emotion("neutral", "Neutral", "중립", (170, 170, 170)),
    Emotion("happiness", "Happiness", "행복", (0, 200, 255)),
    Emotion("surprise", "Surprise", "놀람", (255, 200, 0)),
    Emotion("sadness", "Sadness", "슬픔", (200, 90, 30)),
    Emotion("anger", "Anger", "분노", (40, 40, 230)),
    Emotion("disgust", "Disgust", "혐오", (60, 160, 60)),
    Emotion("fear", "Fear", "공포", (180, 60, 160)),
    Emotion("contempt", "Contempt", "경멸", (90, 120, 160)),
)
EMOTION_KEYS: tuple[str, ...] = tuple(e.key for e in EMOTIONS)
NUM_EMOTIONS = len(EMOTIONS)
EMOTION_INDEX: dict[str, int] = {k: i for i, k in enumerate(EMOTION_KEYS)}

# Other spellings met in data sets (AIHub says "afraid").
ALIASES: dict[str, str] = {
    "afraid": "fear",
    "happy": "happiness",
    "sad": "sadness",
    "angry": "anger",
    "surprised": "surprise",
    "fearful": "fear",
    "disgusted": "disgust",
}


def emotion_index(name: str) -> int:
    """Index of an emotion by key or alias, case-insensitive. KeyError if unknown."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return EMOTION_INDEX[key]


# The seed project's 7-class output order (contempt merged into disgust).
SEED_7CLASS_KEYS: tuple[str, ...] = (
    "anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral",
)
# For each of our eight emotions, the seed class it maps to.
EIGHT_TO_SEED7: tuple[int, ...] = tuple(
    SEED_7CLASS_KEYS.index("disgust" if k == "contempt" else k) for k in EMOTION_KEYS
)


def merge_contempt(probs: np.ndarray) -> np.ndarray:
    """Fold contempt into disgust in an (..., 8) array; contempt becomes 0."""
    out = np.array(probs, dtype=np.float32, copy=True)
    di, ci = EMOTION_INDEX["disgust"], EMOTION_INDEX["contempt"]
    out[..., di] += out[..., ci]
    out[..., ci] = 0.0
    return out


def to_seed7(probs_or_labels: np.ndarray) -> np.ndarray:
    """Map 8-class labels (ints) or probabilities (..., 8) to the seed's 7 classes."""
    arr = np.asarray(probs_or_labels)
    mapping = np.asarray(EIGHT_TO_SEED7)
    if arr.ndim >= 1 and arr.shape[-1] == NUM_EMOTIONS and arr.dtype.kind == "f":
        out = np.zeros(arr.shape[:-1] + (len(SEED_7CLASS_KEYS),), dtype=np.float32)
        for i, j in enumerate(mapping):
            out[..., j] += arr[..., i]
        return out
    return mapping[arr.astype(int)]
