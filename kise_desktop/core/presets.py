"""Detector presets by name ("live-haar", "photo-yunet", ...), all read from the detector registry.

Faces near a laptop camera are large; faces in a group photo can be small.
So live video detects on a downscaled frame (fast), and photos are searched
more finely. Each kind's module (kise_desktop/core/detectors/) defines its
presets with the reasons; `kise bench` measures all of them.
"""
from __future__ import annotations

from kise_desktop.core.detectors import all_presets, describe, preset  # noqa: F401

PRESETS = all_presets()

SEED_HAAR, SEED_HOG = preset("haar", "seed"), preset("hog", "seed")
LIVE_HAAR, LIVE_HOG, LIVE_YUNET = preset("haar", "live"), preset("hog", "live"), preset("yunet", "live")
PHOTO_HAAR, PHOTO_HOG, PHOTO_YUNET = preset("haar", "photo"), preset("hog", "photo"), preset("yunet", "photo")
